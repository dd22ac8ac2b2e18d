"""Throwaway databases on the local PostgreSQL cluster (for tests)."""

from __future__ import annotations

import uuid
from urllib.parse import urlsplit

from jg_devstack import config
from jg_devstack.stack import run_sync


def unique_database_name(prefix: str = "t") -> str:
    """A fresh database name, e.g. ``t_3f2a...`` (valid unquoted identifier, < 63 chars)."""
    return config.check_identifier(f"{prefix}_{uuid.uuid4().hex[:20]}")


def database_name_of(name_or_dsn: str) -> str:
    if "://" in name_or_dsn:
        return urlsplit(name_or_dsn).path.lstrip("/")
    return name_or_dsn


async def create_database_async(name: str | None = None, owner: str | None = None) -> str:
    """Create a database (a unique name when none is given); return its DSN.

    ``owner`` is a role of the cluster (e.g. a service's role); the DSN connects as that role,
    or as the superuser when no owner is given.
    """
    import asyncpg

    name = config.check_identifier(name or unique_database_name())
    conn = await asyncpg.connect(config.postgres_dsn("postgres"), timeout=10)
    try:
        if owner is None:
            await conn.execute(f'CREATE DATABASE "{name}"')
        else:
            await conn.execute(f'CREATE DATABASE "{name}" OWNER "{config.check_identifier(owner)}"')
    finally:
        await conn.close()
    return config.postgres_dsn(name, user=owner)


async def drop_database_async(name_or_dsn: str) -> None:
    """Drop a database (by name or DSN), closing any connection still open to it."""
    import asyncpg

    name = config.check_identifier(database_name_of(name_or_dsn))
    conn = await asyncpg.connect(config.postgres_dsn("postgres"), timeout=10)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


def create_database(name: str | None = None, owner: str | None = None) -> str:
    """Sync form of :func:`create_database_async` (safe to call inside an event loop)."""
    return run_sync(lambda: create_database_async(name, owner))


def drop_database(name_or_dsn: str) -> None:
    """Sync form of :func:`drop_database_async` (safe to call inside an event loop)."""
    run_sync(lambda: drop_database_async(name_or_dsn))

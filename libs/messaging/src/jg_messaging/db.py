"""PostgreSQL access shared by every service: pools and a plain-SQL migration runner."""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import AsyncIterator, Iterable
from importlib import resources
from pathlib import Path

import asyncpg
import structlog

from .failures import Dependency, TransientError, classify

log = structlog.get_logger(__name__)

# Any constant works; it only serialises concurrent migrators of one database.
_MIGRATION_LOCK = 0x4A47_4D49_4752


@contextlib.asynccontextmanager
async def connection(pool: asyncpg.Pool) -> AsyncIterator[asyncpg.Connection]:
    """A connection of ``pool``; failing to get one is a transient failure of the database
    (``TransientError(DATABASE)``: waited for, and named so in ``/ready`` and the logs)."""
    try:
        conn = await pool.acquire()
    except Exception as exc:
        if classify(exc).transient:
            raise TransientError(
                Dependency.DATABASE, f"no connection: {type(exc).__name__}"
            ) from exc
        raise
    try:
        yield conn
    finally:
        await pool.release(conn)


async def create_pool(dsn: str, *, min_size: int = 1, max_size: int = 10) -> asyncpg.Pool:
    """Open a connection pool. Called from a service's start-up, never at import.

    A connection going back to the pool is not sent asyncpg's reset query (``RESET ALL``,
    ``UNLISTEN *``, ``pg_advisory_unlock_all()``...): that was one round trip more for every
    transaction, a ninth of a service's database round trips. An open transaction is still
    rolled back (asyncpg does that before calling ``reset``). The platform leaves no session
    state on a pooled connection: it runs transactions on them; the migrations' session lock
    is released in a ``finally`` and the outbox relay's ``LISTEN`` connection says
    ``UNLISTEN`` before going back.
    """
    pool = await asyncpg.create_pool(dsn, min_size=min_size, max_size=max_size, reset=_keep_session)
    assert pool is not None
    return pool


async def _keep_session(conn: asyncpg.Connection) -> None:
    """The pool's reset: nothing to send (see :func:`create_pool`)."""


def _messaging_migrations() -> list[tuple[str, str]]:
    folder = resources.files("jg_messaging") / "migrations"
    files = sorted((f for f in folder.iterdir() if f.name.endswith(".sql")), key=lambda f: f.name)
    return [(f"jg_messaging/{f.name}", f.read_text(encoding="utf-8")) for f in files]


def _folder_migrations(folder: Path, namespace: str) -> list[tuple[str, str]]:
    return [
        (f"{namespace}/{p.name}", p.read_text(encoding="utf-8"))
        for p in sorted(folder.glob("*.sql"))
    ]


async def migrate(
    conn: asyncpg.Connection, folder: Path | None = None, *, namespace: str = "service"
) -> list[str]:
    """Apply the messaging tables, then the service's `*.sql` files in name order.

    Each file runs once, in its own transaction, recorded with its checksum; a file changed
    after it was applied is refused rather than silently ignored. Returns what was applied.
    """
    migrations: list[tuple[str, str]] = _messaging_migrations()
    if folder is not None:
        migrations += _folder_migrations(folder, namespace)
    return await _apply(conn, migrations)


async def _apply(conn: asyncpg.Connection, migrations: Iterable[tuple[str, str]]) -> list[str]:
    applied: list[str] = []
    await conn.execute("SELECT pg_advisory_lock($1)", _MIGRATION_LOCK)
    try:
        await conn.execute(
            """CREATE TABLE IF NOT EXISTS schema_migrations (
                   name text PRIMARY KEY,
                   checksum text NOT NULL,
                   applied_at timestamptz NOT NULL DEFAULT now())"""
        )
        done = {
            r["name"]: r["checksum"]
            for r in await conn.fetch("SELECT name, checksum FROM schema_migrations")
        }
        for name, sql in migrations:
            checksum = hashlib.sha256(sql.encode()).hexdigest()
            if name in done:
                if done[name] != checksum:
                    raise RuntimeError(f"migration {name} changed after it was applied")
                continue
            async with conn.transaction():
                await conn.execute(sql)
                await conn.execute(
                    "INSERT INTO schema_migrations (name, checksum) VALUES ($1, $2)",
                    name,
                    checksum,
                )
            applied.append(name)
            log.info("migration_applied", migration=name)
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", _MIGRATION_LOCK)
    return applied

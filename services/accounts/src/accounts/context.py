"""What the use cases run with: settings, the service's runtime (database, outbox), its keys and
its password hasher. ``app.py`` builds one; routes get it through ``Depends``, handlers as
their first argument."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import timedelta

import asyncpg
from jg_messaging import ServiceRuntime

from accounts import domain
from accounts.security import Keyring, Passwords
from accounts.settings import AccountsSettings


@dataclass(frozen=True)
class Context:
    runtime: ServiceRuntime
    keyring: Keyring
    settings: AccountsSettings
    passwords: Passwords
    # Sign-ups count against their limits one at a time per instance: a flood waits here, in
    # memory, instead of holding database connections (logins need them) while it queues on
    # the subject's advisory lock. A check takes a few milliseconds.
    sign_up_checks: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(1))

    @property
    def pool(self) -> asyncpg.Pool:
        return self.runtime.pool

    def login_backoff(self, *, per_address: bool) -> domain.Backoff:
        """The slow-down of failed logins per email, or per client address."""
        s = self.settings
        free = s.login_free_failures_per_address if per_address else s.login_free_failures_per_email
        return domain.Backoff(
            free_failures=free,
            window=timedelta(seconds=s.login_window_seconds),
            base_delay=timedelta(seconds=s.login_base_delay_seconds),
            max_delay=timedelta(seconds=s.login_max_delay_seconds),
        )

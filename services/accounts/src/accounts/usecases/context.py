"""What the use cases run with: the service's runtime (database, outbox) and its keys."""

from __future__ import annotations

from dataclasses import dataclass

from jg_messaging import ServiceRuntime

from accounts.security import Keyring


@dataclass(frozen=True)
class Context:
    runtime: ServiceRuntime
    keyring: Keyring

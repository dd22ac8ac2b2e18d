"""Password hashing capacity: verifying (login) and hashing new passwords (sign-up, reset)
have separate slots, and waiting for a hashing slot is bounded."""

import asyncio
import threading
import time

import pytest
from accounts.security import HashingBusyError, Passwords
from accounts.settings import AccountsSettings

pytestmark = pytest.mark.unit

CHEAP = {"argon2_time_cost": 1, "argon2_memory_kib": 1024, "argon2_parallelism": 1}


class StuckHashes:
    """The real argon2 hasher, except that hashing a new password waits for ``release``."""

    def __init__(self, passwords: Passwords) -> None:
        self.real = passwords._hasher
        self.release = threading.Event()
        passwords._hasher = self  # type: ignore[assignment]

    def hash(self, password: str) -> str:
        self.release.wait(10)
        return self.real.hash(password)

    def verify(self, stored: str, password: str) -> bool:
        return self.real.verify(stored, password)


async def test_logins_never_wait_behind_new_password_hashes() -> None:
    passwords = Passwords(AccountsSettings(**CHEAP), verify_slots=2, hash_slots=1, hash_queue=8)
    stored = await passwords.hash("Kintsugi-Tasse-42")
    await passwords.warm_up()  # as the service does at start-up
    release = StuckHashes(passwords).release  # sign-ups whose hash takes "forever"
    sign_ups = [asyncio.create_task(passwords.hash(f"Nouveau-{i}-2026!")) for i in range(5)]
    await asyncio.sleep(0.05)
    started = time.perf_counter()
    assert await passwords.verify(stored, "Kintsugi-Tasse-42")
    assert not await passwords.verify(stored, "Pas-le-bon-2026")
    assert time.perf_counter() - started < 1.0
    assert not any(task.done() for task in sign_ups)  # still waiting for the hashing slot
    release.set()
    assert all(h.startswith("$argon2id$") for h in await asyncio.gather(*sign_ups))


async def test_past_the_queue_a_new_hash_is_refused_at_once_not_queued() -> None:
    passwords = Passwords(AccountsSettings(**CHEAP), hash_slots=1, hash_queue=2)
    release = StuckHashes(passwords).release
    admitted = [asyncio.create_task(passwords.hash(f"Nouveau-{i}-2026!")) for i in range(3)]
    await asyncio.sleep(0.05)  # one hashing, two waiting: the capacity
    with pytest.raises(HashingBusyError):
        await passwords.hash("Encore-Un-2026!")
    release.set()
    await asyncio.gather(*admitted)
    assert (await passwords.hash("Plus-Tard-2026!")).startswith("$argon2id$")  # room again

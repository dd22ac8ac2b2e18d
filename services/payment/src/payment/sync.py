"""The synchronisation pass: resume unfinished Stripe calls and read back pending intents.

Webhooks normally bring Stripe's outcomes, and each handler makes its own calls at once. This
pass is the safety net: every ``stripe_sync_interval`` seconds it resumes the attempts and
refunds nobody is working on (a crash, Stripe unreachable) with their same idempotency keys, and
reads back from Stripe the intents still waiting for an outcome (3-D Secure, a redirect, a
capture not settled), in case a webhook was lost. localstripe sends no webhook for its
3-D Secure step, so there the outcome arrives through this pass. It also gives up the
re-authorisations left waiting for 3-D Secure past ``reauthorisation_timeout``.
"""

from __future__ import annotations

import asyncio
import contextlib

import structlog

from payment.context import Context
from payment.usecases.resume import resume_unfinished

log = structlog.get_logger(__name__)


class StripeSync:
    """Runs :func:`~payment.usecases.resume.resume_unfinished` every ``interval`` seconds."""

    def __init__(self, ctx: Context, interval: float) -> None:
        self.ctx = ctx
        self.interval = interval
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        if self.interval > 0 and self._task is None:
            self._task = asyncio.create_task(self._run(), name="payment-stripe-sync")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the pass must survive a bad moment of the database
                log.exception("stripe_sync_failed", error=repr(exc))

    async def run_once(self) -> int:
        """One pass; returns how many attempts and refunds it looked at."""
        return await resume_unfinished(self.ctx, quiet_for=self.interval)

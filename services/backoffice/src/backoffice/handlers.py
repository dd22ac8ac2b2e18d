"""What the console consumes: the platform's dead letters (no event of the contracts).

The console is no member of the event flow: it reads the other services through their HTTP
APIs. It only keeps a copy of every dead letter, read by :class:`backoffice.letterbox.Letterbox`
(raw records: a dead letter may be unreadable by the contracts, which is why it is there), so
that a manager can read and replay them. ``HANDLERS`` is empty: no FastStream subscriber.
"""

from __future__ import annotations

from jg_events import Event
from jg_messaging import Handler

from backoffice.context import Context
from backoffice.letterbox import Record
from backoffice.usecases import deadletters

HANDLERS: dict[type[Event], Handler[Context]] = {}


async def on_dead_letter(ctx: Context, record: Record) -> None:
    """A message a service gave up on: keep its copy (once) for the dead-letter queue page."""
    await deadletters.keep(ctx, record)

"""One way to register a service's event handlers: a table ``{EventClass: handler}``.

A service's ``handlers.py`` holds module-level functions, each taking the service's context
(whatever the use cases need: the runtime, settings, a clock...) and the envelope::

    async def on_order_placed(ctx: Context, envelope: Envelope[OrderPlaced]) -> None:
        \"\"\"Authorise the order's total.\"\"\"
        await usecases.authorise(ctx, envelope)

    HANDLERS: dict[type[Event], Handler[Context]] = {OrderPlaced: on_order_placed, ...}

and ``app.py`` registers the table once::

    register_handlers(runtime, ctx, HANDLERS, title="payment inputs", description="...")

That gives ONE subscriber (one member of the service's consumer group) over the topics of the
events in the table, and one FastStream handler per event class, selected with
:func:`~jg_messaging.handles` (type and schema version from the headers). Each handler's
parameter is typed ``Envelope[EventClass]``, so FastStream decodes and validates the message
against the contract (a message that does not validate is dead-lettered by the broker's
:class:`~jg_messaging.consumer.ReliableConsumption` middleware) and the AsyncAPI document lists
every event the service consumes. One function may serve several events (a table entry each).
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from jg_events import Envelope, Event, Topic, envelope_type

from . import tracing
from .consumer import handles, subscribe

if TYPE_CHECKING:
    from .runtime import ServiceRuntime

__all__ = ["Handler", "handler_name", "register_handlers"]

C = TypeVar("C")

Handler = Callable[[C, Envelope[Any]], Awaitable[None]]
"""A module-level ``async def on_<event>(ctx, envelope)``; ``ctx`` is the service's context."""


def handler_name(event_cls: type[Event]) -> str:
    """``on_<event>`` in snake case.

    ``PasswordResetRequestedV1`` gives ``on_password_reset_requested_v1``."""
    words = re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", event_cls.__name__)
    return "on_" + words.lower()


def topics_of(handlers: Mapping[type[Event], Any]) -> tuple[Topic, ...]:
    """The topics the events of a table travel on, each once, in the table's order."""
    return tuple(dict.fromkeys(event_cls.topic for event_cls in handlers))


def bind(event_cls: type[Event], handler: Handler[C], ctx: C) -> Callable[..., Awaitable[None]]:
    """The FastStream handler of one table entry: ``on_<event>(envelope: Envelope[event_cls])``.

    FastStream reads the parameter's annotation (through ``__signature__``) to decode and
    validate the message; the name and the docstring document it in AsyncAPI and the logs.
    """
    envelope_cls = envelope_type(event_cls)

    name = handler_name(event_cls)

    async def call(envelope: Any) -> None:
        with tracing.span(name, attributes={"jg.event_type": event_cls.event_type}):
            await handler(ctx, envelope)

    call.__name__ = call.__qualname__ = name
    call.__doc__ = handler.__doc__
    call.__module__ = getattr(handler, "__module__", call.__module__)
    call.__annotations__ = {"envelope": envelope_cls, "return": None}
    call.__signature__ = inspect.Signature(  # type: ignore[attr-defined]  # read by inspect
        [
            inspect.Parameter(
                "envelope", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=envelope_cls
            )
        ],
        return_annotation=None,
    )
    return call


def register_handlers(
    runtime: ServiceRuntime,
    ctx: C,
    handlers: Mapping[type[Event], Handler[C]],
    *,
    title: str,
    description: str,
) -> None:
    """Subscribe the service to the events of ``handlers``, each going to its function.

    One subscriber in the service's consumer group (``runtime.service`` behind the settings'
    topic prefix, see :func:`~jg_messaging.consumer_group`) over every topic of the table;
    ``title`` and ``description`` document it in the service's AsyncAPI document. Events of a
    known type that the table does not list are skipped; unknown ones are dead-lettered.
    """
    if not handlers:
        raise ValueError("register_handlers() needs at least one event handler")
    subscriber = subscribe(
        runtime.broker,
        *topics_of(handlers),
        service=runtime.service,
        topic_prefix=runtime.settings.platform.topic_prefix,
        concurrency=runtime.settings.consumer_concurrency,
        title=title,
        description=description,
    )
    for event_cls, handler in handlers.items():
        subscriber(bind(event_cls, handler, ctx), filter=handles(event_cls))
    # Records of the other known events are skipped as they are fetched, undecoded.
    subscriber.handled = {(e.event_type, str(e.schema_version)) for e in handlers}

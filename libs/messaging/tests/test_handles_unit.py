"""handles(): a handler receives the messages of its event type and schema version only."""

import inspect
from types import SimpleNamespace

import pytest
from jg_events import PasswordResetRequested, PasswordResetRequestedV1
from jg_messaging import handles
from jg_messaging.consumer import skipped_type

pytestmark = pytest.mark.unit


def message(**headers: str) -> SimpleNamespace:
    return SimpleNamespace(headers=headers)


async def test_each_version_goes_to_its_own_handler() -> None:
    v1, v2 = handles(PasswordResetRequestedV1), handles(PasswordResetRequested)
    old = message(**{"event-type": "PasswordResetRequested", "event-version": "1"})
    new = message(**{"event-type": "PasswordResetRequested", "event-version": "2"})
    assert (await v1(old), await v2(old)) == (True, False)  # type: ignore[arg-type]
    assert (await v1(new), await v2(new)) == (False, True)  # type: ignore[arg-type]
    # a message without a version header is version 1; another type matches neither
    assert await v1(message(**{"event-type": "PasswordResetRequested"}))  # type: ignore[arg-type]
    assert not await v1(message(**{"event-type": "CustomerErased", "event-version": "1"}))  # type: ignore[arg-type]


def test_the_filter_runs_on_the_event_loop_not_in_a_worker_thread() -> None:
    # FastStream runs a plain-function filter through a thread pool, once per handler and
    # message; a coroutine function it awaits directly.
    assert inspect.iscoroutinefunction(handles(PasswordResetRequested))


def raw(**headers: str) -> list[tuple[str, bytes]]:
    return [(name.replace("_", "-"), value.encode()) for name, value in headers.items()]


def test_a_known_event_no_handler_takes_is_skipped_undecoded_and_nothing_else_is() -> None:
    handled = {("PasswordResetRequested", "2"), ("CustomerErased", "1")}
    # known to the contracts, taken by no handler: skipped as it is fetched
    assert skipped_type(raw(event_type="OrderPlaced"), handled) == "OrderPlaced"
    # an older version of a handled type is a type no handler takes either
    old = raw(event_type="PasswordResetRequested", event_version="1")
    assert skipped_type(old, handled) == "PasswordResetRequested"
    # handled ones (no version header is version 1), unknown types and records without a type
    # take the full path: handled, or dead-lettered by the middleware
    assert skipped_type(raw(event_type="CustomerErased"), handled) is None
    new = raw(event_type="PasswordResetRequested", event_version="2")
    assert skipped_type(new, handled) is None
    assert skipped_type(raw(event_type="ParcelTeleported"), handled) is None
    assert skipped_type([], handled) is None
    assert skipped_type(None, handled) is None

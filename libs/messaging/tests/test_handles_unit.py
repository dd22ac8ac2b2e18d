"""handles(): a handler receives the messages of its event type and schema version only."""

import inspect
from types import SimpleNamespace

import pytest
from jg_events import PasswordResetRequested, PasswordResetRequestedV1
from jg_messaging import handles

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

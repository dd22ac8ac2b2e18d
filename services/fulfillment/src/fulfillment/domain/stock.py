"""Stock: an order's demand against the stock available, backorders served oldest first,
and the statuses of an order as fulfillment tracks it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum


class OrderStatus(StrEnum):
    """Where an order stands in fulfillment."""

    BACKORDERED = "backordered"
    """Waiting for stock (en cours de réapprovisionnement)."""
    PROCESSING = "processing"
    """Handed to logistics (en cours de traitement)."""
    SHIPPED = "shipped"
    DELIVERED = "delivered"


@dataclass(frozen=True)
class Allocation:
    """The outcome of reserving an order's demand against available stock."""

    reserved: dict[str, int]
    missing: dict[str, int]

    @property
    def complete(self) -> bool:
        return not self.missing


def aggregate_demand(lines: Iterable[tuple[str, int]]) -> dict[str, int]:
    """Quantities per sku (an order may, in theory, name a sku twice)."""
    demand: dict[str, int] = {}
    for sku, quantity in lines:
        if quantity <= 0:
            raise ValueError(f"quantity for {sku} must be positive, got {quantity}")
        demand[sku] = demand.get(sku, 0) + quantity
    return demand


def allocate(demand: Mapping[str, int], available: Mapping[str, int]) -> Allocation:
    """Reserve what is available for each sku; the rest is missing.

    ``available`` is on hand minus reserved (never negative); a sku absent from it has none.
    A backordered order keeps what it could reserve so a newer order cannot take it: stock goes
    to orders in the order they were released.
    """
    reserved: dict[str, int] = {}
    missing: dict[str, int] = {}
    for sku, wanted in sorted(demand.items()):
        free = max(0, available.get(sku, 0))
        got = min(wanted, free)
        if got:
            reserved[sku] = got
        if wanted > got:
            missing[sku] = wanted - got
    return Allocation(reserved=reserved, missing=missing)


def serve_oldest_first(waiting: Sequence[tuple[str, int]], available: int) -> dict[str, int]:
    """Share ``available`` items of one sku between backorders, oldest first.

    ``waiting`` is ``(order key, quantity missing)`` from the oldest order to the newest. The
    oldest order takes all it misses before the next gets anything (strict arrival order).
    Returns the quantity given to each order that gets some.
    """
    if available < 0:
        raise ValueError("available stock cannot be negative")
    given: dict[str, int] = {}
    left = available
    for key, missing in waiting:
        if left <= 0:
            break
        take = min(missing, left)
        if take > 0:
            given[key] = take
            left -= take
    return given


def stock_after_change(on_hand: int, reserved: int, delta: int) -> int | None:
    """Items on hand after ``delta``, or None when fewer than the reserved items would remain
    (available stock can never be negative)."""
    after = on_hand + delta
    return after if after >= reserved else None

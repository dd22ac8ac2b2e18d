"""Fulfillment's rules: pure, synchronous, no I/O (unit tested).

- **Reservation**: an order's demand per sku against the stock available; what is reserved and
  what is missing; backorders served oldest first when stock arrives.
- **Calendar**: French business days (weekends and French public holidays excluded), delivery
  estimates, the withdrawal deadline (Code de la consommation L221-18 and L221-19).
- **Tracking links**: one public tracking page per carrier.
- **Logistics reports**: whether a pick-up or delivery report may be applied, or why it is refused.
- **Returns (withdrawal)**: the decision on a request, the instructions, the refund once the items
  are received (L221-23, L221-24).
- **Claims**: photo checks by content, refund amounts.

Customer-facing text is French; everything else English.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from functools import cache
from urllib.parse import quote, urlencode
from zoneinfo import ZoneInfo

import filetype
import holidays
from jg_events import (
    Carrier,
    DeliveryEstimate,
    ReturnRejectionReason,
)

PARIS = ZoneInfo("Europe/Paris")
ZERO = Decimal("0.00")
WITHDRAWAL_DAYS = 14
"""L221-18: fourteen days from the receipt of the goods (of the last item)."""


# --- Reservation -----------------------------------------------------------------------------


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


# --- Calendar --------------------------------------------------------------------------------


@cache
def _french_holidays() -> holidays.HolidayBase:
    return holidays.country_holidays("FR")


def is_business_day(day: date) -> bool:
    """Monday to Friday, French public holidays excluded."""
    return day.weekday() < 5 and day not in _french_holidays()


def add_business_days(start: date, days: int) -> date:
    """The date ``days`` business days after ``start`` (``start`` itself is not counted)."""
    if days < 0:
        raise ValueError("days must be >= 0")
    current = start
    remaining = days
    while remaining:
        current += timedelta(days=1)
        if is_business_day(current):
            remaining -= 1
    return current


def paris_date(moment: datetime) -> date:
    """The calendar date in France of an aware datetime."""
    if moment.tzinfo is None:
        raise ValueError("an aware datetime is required")
    return moment.astimezone(PARIS).date()


def withdrawal_deadline(last_delivery: datetime) -> date:
    """Last day to notify a withdrawal: 14 days after the day of receipt of the last item.

    L221-19 (Regulation 1182/71): the day of receipt is not counted; the period ends at the end
    of its last day; a period ending on a Saturday, Sunday or public holiday runs until the next
    working day.
    """
    last_day = paris_date(last_delivery) + timedelta(days=WITHDRAWAL_DAYS)
    while not is_business_day(last_day):
        last_day += timedelta(days=1)
    return last_day


@dataclass(frozen=True)
class EstimatePolicy:
    """Delivery promises, in French business days."""

    delivery_min_days: int = 10
    delivery_max_days: int = 15
    backorder_extra_days: int = 10


def backorder_estimate(today: date, policy: EstimatePolicy) -> DeliveryEstimate:
    """New window for a backordered order: restock delay plus the usual 10 to 15 days."""
    return DeliveryEstimate(
        earliest=add_business_days(today, policy.backorder_extra_days + policy.delivery_min_days),
        latest=add_business_days(today, policy.backorder_extra_days + policy.delivery_max_days),
    )


def resumed_estimate(
    promised: DeliveryEstimate, today: date, policy: EstimatePolicy
) -> DeliveryEstimate:
    """Window when a backorder proceeds: the usual delay from today, never before the promise."""
    return DeliveryEstimate(
        earliest=max(promised.earliest, add_business_days(today, policy.delivery_min_days)),
        latest=max(promised.latest, add_business_days(today, policy.delivery_max_days)),
    )


TRANSIT_BUSINESS_DAYS: dict[Carrier, tuple[int, int]] = {
    Carrier.JAPAN_POST_EMS: (3, 7),
    Carrier.DHL: (2, 4),
    Carrier.FEDEX: (2, 4),
    Carrier.UPS: (2, 5),
    Carrier.COLISSIMO: (4, 8),
    Carrier.CHRONOPOST: (2, 4),
}
"""Transit time from the pick-up in Japan to the door in France, per carrier."""


def transit_estimate(carrier: Carrier, picked_up_at: datetime) -> DeliveryEstimate:
    """Expected delivery window of a parcel from its pick-up."""
    low, high = TRANSIT_BUSINESS_DAYS[carrier]
    start = paris_date(picked_up_at)
    return DeliveryEstimate(
        earliest=add_business_days(start, low), latest=add_business_days(start, high)
    )


# --- Tracking links --------------------------------------------------------------------------

_TRACKING_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")


def normalise_tracking_number(raw: str) -> str | None:
    """Upper case without spaces or dashes; None when it is not a plausible tracking number."""
    cleaned = "".join(ch for ch in raw.strip().upper() if ch not in " -")
    if not 6 <= len(cleaned) <= 40 or not set(cleaned) <= _TRACKING_CHARS:
        return None
    return cleaned


def tracking_url(carrier: Carrier, tracking_number: str) -> str:
    """The carrier's public tracking page for ``tracking_number`` (French page when offered)."""
    number = quote(tracking_number, safe="")
    match carrier:
        case Carrier.JAPAN_POST_EMS:
            # Japan Post's international tracking (EMS, registered mail), English interface.
            query = urlencode({"searchKind": "S004", "locale": "en", "reqCodeNo1": tracking_number})
            return f"https://trackings.post.japanpost.jp/services/srv/search/direct?{query}"
        case Carrier.DHL:
            return f"https://www.dhl.com/fr-fr/home/suivi.html?tracking-id={number}&submit=1"
        case Carrier.FEDEX:
            return f"https://www.fedex.com/fedextrack/?trknbr={number}&locale=fr_FR"
        case Carrier.UPS:
            return f"https://www.ups.com/track?loc=fr_FR&tracknum={number}"
        case Carrier.COLISSIMO:
            return f"https://www.laposte.fr/outils/suivre-vos-envois?code={number}"
        case Carrier.CHRONOPOST:
            return (
                "https://www.chronopost.fr/tracking-no-cms/suivi-page"
                f"?listeNumerosLT={number}&langue=fr"
            )
    raise ValueError(f"no tracking page known for carrier {carrier!r}")  # pragma: no cover


CARRIER_LABELS: dict[Carrier, str] = {
    Carrier.JAPAN_POST_EMS: "Japan Post (EMS)",
    Carrier.DHL: "DHL Express",
    Carrier.FEDEX: "FedEx",
    Carrier.UPS: "UPS",
    Carrier.COLISSIMO: "Colissimo",
    Carrier.CHRONOPOST: "Chronopost",
}


# --- Logistics reports -----------------------------------------------------------------------


class ReportRefusal(StrEnum):
    """Why a logistics report is refused (recorded, never applied)."""

    UNKNOWN_ORDER = "unknown_order"
    UNKNOWN_SKU = "unknown_sku"
    UNKNOWN_PARCEL = "unknown_parcel"
    UNKNOWN_RETURN = "unknown_return"
    ORDER_NOT_HANDED_OFF = "order_not_handed_off"
    ITEMS_NOT_IN_ORDER = "items_not_in_order"
    ITEMS_NOT_OUTSTANDING = "items_not_outstanding"
    DUPLICATE_PARCEL = "duplicate_parcel"
    ALREADY_DELIVERED = "already_delivered"
    DELIVERED_BEFORE_PICK_UP = "delivered_before_pick_up"
    REPORTED_IN_THE_FUTURE = "reported_in_the_future"
    INVALID_TRACKING_NUMBER = "invalid_tracking_number"
    RETURN_NOT_EXPECTED = "return_not_expected"
    ITEMS_NOT_IN_RETURN = "items_not_in_return"


@dataclass(frozen=True)
class Refusal:
    reason: ReportRefusal
    detail: str


@dataclass(frozen=True)
class ItemProgress:
    """Where one sku of an order stands (units)."""

    sku: str
    name: str
    quantity: int
    handed_off: int
    shipped: int

    @property
    def outstanding(self) -> int:
        """Handed to logistics and not yet picked up by a carrier."""
        return self.handed_off - self.shipped


@dataclass(frozen=True)
class ParcelState:
    tracking_number: str
    picked_up_at: datetime
    delivered_at: datetime | None


CLOCK_SKEW = timedelta(hours=1)


def check_pick_up(
    *,
    order_status: str,
    items: Mapping[str, ItemProgress],
    parcels: Mapping[str, ParcelState],
    tracking_number: str,
    parcel_items: Sequence[tuple[str, int]],
    picked_up_at: datetime,
    now: datetime,
) -> Refusal | None:
    """None when a ParcelPickedUp may be applied, else why not."""
    if order_status == "backordered":
        return Refusal(
            ReportRefusal.ORDER_NOT_HANDED_OFF,
            "the order is waiting for stock and was not handed to logistics",
        )
    number = normalise_tracking_number(tracking_number)
    if number is None:
        return Refusal(
            ReportRefusal.INVALID_TRACKING_NUMBER,
            f"tracking number {tracking_number!r} is not 6 to 40 letters and digits",
        )
    if number in parcels:
        return Refusal(ReportRefusal.DUPLICATE_PARCEL, f"parcel {number} was already picked up")
    if picked_up_at > now + CLOCK_SKEW:
        return Refusal(ReportRefusal.REPORTED_IN_THE_FUTURE, "picked_up_at is in the future")
    wanted = aggregate_demand(parcel_items)
    unknown = sorted(sku for sku in wanted if sku not in items)
    if unknown:
        return Refusal(ReportRefusal.ITEMS_NOT_IN_ORDER, f"not in the order: {', '.join(unknown)}")
    too_many = [
        f"{sku} ({quantity} > {items[sku].outstanding} outstanding)"
        for sku, quantity in sorted(wanted.items())
        if quantity > items[sku].outstanding
    ]
    if too_many:
        return Refusal(
            ReportRefusal.ITEMS_NOT_OUTSTANDING,
            "more than handed to logistics and not yet shipped: " + ", ".join(too_many),
        )
    return None


def check_delivery(
    *,
    parcels: Mapping[str, ParcelState],
    tracking_number: str,
    delivered_at: datetime,
    now: datetime,
) -> Refusal | None:
    """None when a ParcelDelivered may be applied, else why not."""
    tracking_number = normalise_tracking_number(tracking_number) or tracking_number
    parcel = parcels.get(tracking_number)
    if parcel is None:
        return Refusal(
            ReportRefusal.UNKNOWN_PARCEL,
            f"no pick-up was reported for parcel {tracking_number} of this order",
        )
    if parcel.delivered_at is not None:
        return Refusal(
            ReportRefusal.ALREADY_DELIVERED,
            f"parcel {tracking_number} was already delivered at {parcel.delivered_at.isoformat()}",
        )
    if delivered_at < parcel.picked_up_at:
        return Refusal(
            ReportRefusal.DELIVERED_BEFORE_PICK_UP,
            f"delivered_at {delivered_at.isoformat()} is before the pick-up "
            f"{parcel.picked_up_at.isoformat()}",
        )
    if delivered_at > now + CLOCK_SKEW:
        return Refusal(ReportRefusal.REPORTED_IN_THE_FUTURE, "delivered_at is in the future")
    return None


def order_fully_delivered(
    items: Iterable[ItemProgress], parcels: Iterable[ParcelState], *, backordered: bool
) -> bool:
    """Every unit handed off was shipped and every parcel delivered."""
    if backordered:
        return False
    items = list(items)
    parcels = list(parcels)
    return (
        bool(parcels)
        and all(item.outstanding == 0 and item.shipped >= item.quantity for item in items)
        and all(parcel.delivered_at is not None for parcel in parcels)
    )


# --- Returns (withdrawal) --------------------------------------------------------------------


class ReturnKind(StrEnum):
    """A legal withdrawal (L221-18) or a goodwill return after it (shop's policy)."""

    WITHDRAWAL = "withdrawal"
    GOODWILL = "goodwill"


@dataclass(frozen=True)
class ReturnPolicy:
    """The shop's returns policy (settings)."""

    withdrawal_covers_sale_items: bool = True
    """The law (L221-28 lists no exception for sale items): keep True. False applies the FAQ
    literally to the legal withdrawal, which the Code de la consommation does not allow."""
    goodwill_return_days: int = 0
    """Days after delivery during which a goodwill return is accepted once the legal withdrawal
    period is over (0: none)."""
    goodwill_covers_sale_items: bool = False
    """The FAQ: sale items are neither refunded nor exchanged outside the legal withdrawal."""
    standard_shipping_price: Decimal = Decimal("9.90")
    """Price of the least expensive standard delivery offered (L221-24: the refund of a full
    withdrawal includes delivery up to this amount)."""
    send_back_days: int = WITHDRAWAL_DAYS
    """L221-23: the customer sends the goods back within 14 days of the withdrawal."""
    return_address: str = "JapanGoodz Retours, 2-1-1 Nihonbashi, Chuo-ku, Tokyo 103-0027, Japon"


@dataclass(frozen=True)
class OrderLineFacts:
    """One line of an order as fulfillment knows it."""

    sku: str
    name: str
    quantity: int
    unit_price: Decimal
    vat_rate: Decimal
    on_sale: bool


@dataclass(frozen=True)
class ReturnFacts:
    """What a return decision needs to know about the order."""

    lines: Mapping[str, OrderLineFacts]
    delivered_units: Mapping[str, int]
    """Units delivered per sku (parcels reported delivered)."""
    returned_units: Mapping[str, int]
    """Units already covered by accepted returns (not rejected ones)."""
    withdrawal_returned_units: Mapping[str, int]
    """Of those, units in legal withdrawals (for the shipping refund)."""
    fully_delivered: bool
    last_delivery: datetime | None
    shipping_paid: Decimal
    shipping_already_refunded: bool


@dataclass(frozen=True)
class ReturnLine:
    sku: str
    name: str
    quantity: int
    unit_price: Decimal
    vat_rate: Decimal

    @property
    def amount(self) -> Decimal:
        return self.unit_price * self.quantity


@dataclass(frozen=True)
class ReturnAcceptance:
    kind: ReturnKind
    lines: tuple[ReturnLine, ...]
    send_before: date
    shipping_refund: Decimal
    expected_refund: Decimal
    instructions: str


@dataclass(frozen=True)
class ReturnRefusal:
    reason: ReturnRejectionReason
    message: str
    lines: tuple[ReturnLine, ...] = ()


RETURN_MESSAGES: dict[ReturnRejectionReason, str] = {
    ReturnRejectionReason.NOT_DELIVERED: (
        "Votre commande n'a pas encore été livrée en totalité : le délai de rétractation de "
        "14 jours commencera à la réception du dernier article."
    ),
    ReturnRejectionReason.WITHDRAWAL_PERIOD_EXPIRED: (
        "Le délai de rétractation de 14 jours après la livraison du dernier article a pris fin "
        "le {deadline}. Nous ne pouvons malheureusement plus accepter ce retour."
    ),
    ReturnRejectionReason.SALE_ITEM_EXCLUDED: (
        "Les produits soldés ne peuvent faire l'objet ni d'un remboursement ni d'un échange : "
        "{items}."
    ),
    ReturnRejectionReason.ITEMS_NOT_IN_ORDER: (
        "Certains articles demandés ne font pas partie de votre commande livrée, ou ont déjà "
        "été retournés : {items}."
    ),
    ReturnRejectionReason.ALREADY_RETURNED: (
        "Tous les articles de cette commande font déjà l'objet d'une demande de retour."
    ),
    ReturnRejectionReason.ITEM_USED_OR_DAMAGED: (
        "Seuls les articles non utilisés, dans l'état où vous les avez reçus, peuvent être "
        "retournés. Si un article est arrivé endommagé, merci d'ouvrir une réclamation : nous "
        "prenons en charge les dommages survenus pendant le transport."
    ),
}


def _whole_order_after(facts: ReturnFacts, extra: Mapping[str, int]) -> bool:
    """Every ordered unit is in a legal withdrawal once ``extra`` is added."""
    return all(
        facts.withdrawal_returned_units.get(sku, 0) + extra.get(sku, 0) >= line.quantity
        for sku, line in facts.lines.items()
    )


def shipping_refund_for(facts: ReturnFacts, policy: ReturnPolicy) -> Decimal:
    """L221-24: on a full withdrawal, delivery is refunded up to the standard delivery price."""
    if facts.shipping_already_refunded:
        return ZERO
    return min(facts.shipping_paid, policy.standard_shipping_price)


def decide_return(
    facts: ReturnFacts,
    requested: Sequence[tuple[str, int]],
    *,
    items_unused: bool,
    today: date,
    return_id: str,
    policy: ReturnPolicy,
) -> ReturnAcceptance | ReturnRefusal:
    """Accept or refuse a return request (empty ``requested``: everything still returnable)."""
    if not facts.fully_delivered or facts.last_delivery is None:
        return ReturnRefusal(
            ReturnRejectionReason.NOT_DELIVERED,
            RETURN_MESSAGES[ReturnRejectionReason.NOT_DELIVERED],
        )
    deadline = withdrawal_deadline(facts.last_delivery)
    delivered_day = paris_date(facts.last_delivery)
    if today <= deadline:
        kind = ReturnKind.WITHDRAWAL
    elif policy.goodwill_return_days > 0 and today <= delivered_day + timedelta(
        days=policy.goodwill_return_days
    ):
        kind = ReturnKind.GOODWILL
    else:
        return ReturnRefusal(
            ReturnRejectionReason.WITHDRAWAL_PERIOD_EXPIRED,
            RETURN_MESSAGES[ReturnRejectionReason.WITHDRAWAL_PERIOD_EXPIRED].format(
                deadline=french_date(deadline)
            ),
        )

    returnable = {
        sku: facts.delivered_units.get(sku, 0) - facts.returned_units.get(sku, 0)
        for sku in facts.lines
    }
    if requested:
        wanted = aggregate_demand(requested)
    else:
        wanted = {sku: left for sku, left in returnable.items() if left > 0}
        if not wanted:
            return ReturnRefusal(
                ReturnRejectionReason.ALREADY_RETURNED,
                RETURN_MESSAGES[ReturnRejectionReason.ALREADY_RETURNED],
            )
    not_returnable = sorted(sku for sku, qty in wanted.items() if qty > returnable.get(sku, 0))
    if not_returnable:
        if all(
            sku in facts.lines and returnable[sku] == 0 and facts.returned_units.get(sku, 0) > 0
            for sku in not_returnable
        ):
            reason = ReturnRejectionReason.ALREADY_RETURNED
            message = RETURN_MESSAGES[reason]
        else:
            reason = ReturnRejectionReason.ITEMS_NOT_IN_ORDER
            message = RETURN_MESSAGES[reason].format(items=", ".join(not_returnable))
        return ReturnRefusal(reason, message, _lines(facts, wanted, known_only=True))

    lines = _lines(facts, wanted)
    if not items_unused:
        return ReturnRefusal(
            ReturnRejectionReason.ITEM_USED_OR_DAMAGED,
            RETURN_MESSAGES[ReturnRejectionReason.ITEM_USED_OR_DAMAGED],
            lines,
        )
    sale_allowed = (
        policy.withdrawal_covers_sale_items
        if kind is ReturnKind.WITHDRAWAL
        else policy.goodwill_covers_sale_items
    )
    on_sale = [line for line in lines if facts.lines[line.sku].on_sale]
    if on_sale and not sale_allowed:
        return ReturnRefusal(
            ReturnRejectionReason.SALE_ITEM_EXCLUDED,
            RETURN_MESSAGES[ReturnRejectionReason.SALE_ITEM_EXCLUDED].format(
                items=", ".join(line.name for line in on_sale)
            ),
            tuple(on_sale),
        )

    shipping = ZERO
    if kind is ReturnKind.WITHDRAWAL and _whole_order_after(facts, wanted):
        shipping = shipping_refund_for(facts, policy)
    expected = sum((line.amount for line in lines), ZERO) + shipping
    send_before = today + timedelta(days=policy.send_back_days)
    return ReturnAcceptance(
        kind=kind,
        lines=lines,
        send_before=send_before,
        shipping_refund=shipping,
        expected_refund=expected,
        instructions=return_instructions(
            kind=kind,
            return_id=return_id,
            send_before=send_before,
            expected_refund=expected,
            return_address=policy.return_address,
        ),
    )


def _lines(
    facts: ReturnFacts, wanted: Mapping[str, int], *, known_only: bool = False
) -> tuple[ReturnLine, ...]:
    lines = []
    for sku, quantity in sorted(wanted.items()):
        line = facts.lines.get(sku)
        if line is None:
            if known_only:
                continue
            raise KeyError(sku)
        lines.append(
            ReturnLine(
                sku=sku,
                name=line.name,
                quantity=quantity,
                unit_price=line.unit_price,
                vat_rate=line.vat_rate,
            )
        )
    return tuple(lines)


def return_instructions(
    *,
    kind: ReturnKind,
    return_id: str,
    send_before: date,
    expected_refund: Decimal,
    return_address: str,
) -> str:
    """How to send the items back (French, shown in the email)."""
    intro = (
        "Votre demande de rétractation a bien été acceptée."
        if kind is ReturnKind.WITHDRAWAL
        else "Votre demande de retour a bien été acceptée, à titre commercial."
    )
    return (
        f"{intro} Merci de renvoyer les articles listés, non utilisés et dans leur emballage "
        f"d'origine, au plus tard le {french_date(send_before)}, à l'adresse suivante : "
        f"{return_address}. Inscrivez le numéro de retour {return_id} de façon lisible sur le "
        "colis. Les frais de renvoi restent à votre charge ; conservez la preuve de dépôt. "
        f"Le remboursement de {french_money(expected_refund)} sera effectué sur votre moyen "
        "de paiement initial dans les 14 jours, dès réception et vérification des articles."
    )


class ReceivedCondition(StrEnum):
    UNUSED = "unused"
    USED = "used"
    DAMAGED = "damaged"


@dataclass(frozen=True)
class ReceiptOutcome:
    """What a received return leads to."""

    refunded: tuple[ReturnLine, ...]
    refused: tuple[ReturnLine, ...]
    shipping_refund: Decimal

    @property
    def refund_amount(self) -> Decimal:
        return sum((line.amount for line in self.refunded), ZERO) + self.shipping_refund


def settle_received_return(
    accepted: Sequence[ReturnLine],
    received: Sequence[tuple[str, int, ReceivedCondition]],
    *,
    kind: ReturnKind,
    facts: ReturnFacts,
    policy: ReturnPolicy,
) -> ReceiptOutcome | Refusal:
    """Refund the items received unused (at most what was accepted); refuse the others.

    The delivery is refunded (up to the standard price) when this receipt completes a legal
    withdrawal of the whole order. ``facts.withdrawal_returned_units`` counts units already
    refunded in earlier withdrawals.
    """
    by_sku = {line.sku: line for line in accepted}
    unknown = sorted({sku for sku, _, _ in received if sku not in by_sku})
    if unknown:
        return Refusal(
            ReportRefusal.ITEMS_NOT_IN_RETURN, f"not in the accepted return: {', '.join(unknown)}"
        )
    unused: dict[str, int] = {}
    other: dict[str, int] = {}
    for sku, quantity, condition in received:
        bucket = unused if condition is ReceivedCondition.UNUSED else other
        bucket[sku] = bucket.get(sku, 0) + quantity
    refunded = []
    refused = []
    for sku, line in by_sku.items():
        ok = min(unused.get(sku, 0), line.quantity)
        bad = min(other.get(sku, 0), line.quantity - ok)
        if ok:
            refunded.append(_with_quantity(line, ok))
        if bad:
            refused.append(_with_quantity(line, bad))
    shipping = ZERO
    if (
        kind is ReturnKind.WITHDRAWAL
        and refunded
        and _whole_order_after(facts, {line.sku: line.quantity for line in refunded})
    ):
        shipping = shipping_refund_for(facts, policy)
    return ReceiptOutcome(
        refunded=tuple(refunded), refused=tuple(refused), shipping_refund=shipping
    )


def _with_quantity(line: ReturnLine, quantity: int) -> ReturnLine:
    return ReturnLine(
        sku=line.sku,
        name=line.name,
        quantity=quantity,
        unit_price=line.unit_price,
        vat_rate=line.vat_rate,
    )


USED_ON_RECEIPT_MESSAGE = (
    "Nous avons bien reçu votre retour, mais les articles ci-dessous ne sont pas dans l'état "
    "où vous les avez reçus (utilisés ou abîmés) : ils ne peuvent pas être remboursés. "
    "Notre service client vous contactera pour convenir de leur renvoi."
)


# --- Claims ----------------------------------------------------------------------------------

ACCEPTED_PHOTO_TYPES: dict[str, str] = {
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/heic": "heic",
}


class PhotoProblem(StrEnum):
    NOT_AN_IMAGE = "not_an_image"
    TOO_LARGE = "photo_too_large"
    EMPTY = "photo_empty"


@dataclass(frozen=True)
class PhotoLimits:
    max_bytes: int = 10 * 1024 * 1024
    max_count: int = 5


def photo_type(data: bytes) -> str | None:
    """The MIME type of a JPEG, PNG or HEIC image judged by its content, else None."""
    kind = filetype.guess(data[:8192])
    if kind is None or kind.mime not in ACCEPTED_PHOTO_TYPES:
        return None
    return str(kind.mime)


def check_photo(data: bytes, limits: PhotoLimits) -> tuple[str | None, PhotoProblem | None]:
    """(mime type, None) for an acceptable photo, else (None, the problem)."""
    if not data:
        return None, PhotoProblem.EMPTY
    if len(data) > limits.max_bytes:
        return None, PhotoProblem.TOO_LARGE
    mime = photo_type(data)
    if mime is None:
        return None, PhotoProblem.NOT_AN_IMAGE
    return mime, None


@dataclass(frozen=True)
class RefundPart:
    sku: str
    name: str
    quantity: int
    unit_price: Decimal
    vat_rate: Decimal
    amount: Decimal


def claim_refund(
    lines: Sequence[ReturnLine], amount: Decimal | None = None
) -> tuple[RefundPart, ...]:
    """Refund lines for a claim: the items' price, or ``amount`` spread line by line.

    ``amount`` (customer service's decision) may not exceed the price of the claimed items.
    """
    total = sum((line.amount for line in lines), ZERO)
    if amount is None:
        amount = total
    if amount <= 0:
        raise ValueError("a refund is for a positive amount")
    if amount > total:
        raise ValueError(f"refund {amount} exceeds the price paid for the items ({total})")
    parts = []
    left = amount
    for line in lines:
        share = min(line.amount, left)
        if share > 0:
            parts.append(
                RefundPart(
                    sku=line.sku,
                    name=line.name,
                    quantity=line.quantity,
                    unit_price=line.unit_price,
                    vat_rate=line.vat_rate,
                    amount=share,
                )
            )
        left -= share
    return tuple(parts)


# --- French formatting -----------------------------------------------------------------------

NARROW_NBSP = "\u202f"
_MONTHS = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)


def french_date(day: date) -> str:
    """``1er avril 2026``, ``15 avril 2026``."""
    number = "1er" if day.day == 1 else str(day.day)
    return f"{number} {_MONTHS[day.month - 1]} {day.year}"


def french_money(amount: Decimal) -> str:
    """``1 234,50 €``."""
    whole, _, cents = f"{amount.quantize(Decimal('0.01')):f}".partition(".")
    groups = []
    while len(whole) > 3:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    groups.insert(0, whole)
    return f"{NARROW_NBSP.join(groups)},{cents}\u00a0€"


def utc_now() -> datetime:
    return datetime.now(UTC)

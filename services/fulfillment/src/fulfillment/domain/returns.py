"""Returns (withdrawal): the decision on a request, the instructions, the refund once the
items are received (L221-23, L221-24)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from uuid import UUID

from jg_events import ReturnRejectionReason

from fulfillment.domain.calendar import WITHDRAWAL_DAYS, paris_date, withdrawal_deadline
from fulfillment.domain.reports import Refusal, ReportRefusal
from fulfillment.domain.stock import aggregate_demand
from fulfillment.domain.text import ZERO, french_date, french_money


class ReturnStatus(StrEnum):
    """Where a return request stands."""

    ACCEPTED = "accepted"
    """Accepted: the items are on their way back."""
    REJECTED = "rejected"
    RECEIVED = "received"
    """The warehouse received the items (refunded, or refused on receipt)."""


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
    kind = _return_kind(facts, today, policy)
    if isinstance(kind, ReturnRefusal):
        return kind
    wanted = _wanted_units(facts, requested)
    if isinstance(wanted, ReturnRefusal):
        return wanted
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


def _return_kind(
    facts: ReturnFacts, today: date, policy: ReturnPolicy
) -> ReturnKind | ReturnRefusal:
    """A legal withdrawal within its period, a goodwill return after it (if offered), else no."""
    if not facts.fully_delivered or facts.last_delivery is None:
        return ReturnRefusal(
            ReturnRejectionReason.NOT_DELIVERED,
            RETURN_MESSAGES[ReturnRejectionReason.NOT_DELIVERED],
        )
    deadline = withdrawal_deadline(facts.last_delivery)
    delivered_day = paris_date(facts.last_delivery)
    if today <= deadline:
        return ReturnKind.WITHDRAWAL
    if policy.goodwill_return_days > 0 and today <= delivered_day + timedelta(
        days=policy.goodwill_return_days
    ):
        return ReturnKind.GOODWILL
    return ReturnRefusal(
        ReturnRejectionReason.WITHDRAWAL_PERIOD_EXPIRED,
        RETURN_MESSAGES[ReturnRejectionReason.WITHDRAWAL_PERIOD_EXPIRED].format(
            deadline=french_date(deadline)
        ),
    )


def _wanted_units(
    facts: ReturnFacts, requested: Sequence[tuple[str, int]]
) -> dict[str, int] | ReturnRefusal:
    """Units per sku the request covers, if each is delivered and not returned yet."""
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
    if not not_returnable:
        return wanted
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


def check_return_receipt(
    return_id: UUID, order_number: str, status: ReturnStatus | None
) -> Refusal | None:
    """None when a ReturnReceived may be applied to the return (``status`` None: the order has
    no such return), else why not."""
    if status is None:
        return Refusal(
            ReportRefusal.UNKNOWN_RETURN, f"no return {return_id} for order {order_number}"
        )
    if status is not ReturnStatus.ACCEPTED:
        return Refusal(
            ReportRefusal.RETURN_NOT_EXPECTED,
            f"return {return_id} is {status}, not awaiting the items",
        )
    return None


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

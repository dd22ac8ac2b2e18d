"""Claims: what a claim must hold (items shipped, the parcel's tracking number, photos checked
by content), customer service's resolution, refund amounts."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

import filetype
from jg_events import ClaimKind, ClaimResolution

from fulfillment.domain.returns import ReturnLine
from fulfillment.domain.text import ZERO
from fulfillment.domain.tracking import normalise_tracking_number


class ClaimStatus(StrEnum):
    """A claim is open until customer service resolves it."""

    OPEN = "open"
    RESOLVED = "resolved"


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


# --- Opening a claim -------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """One problem with a field of a request (``photos.0``, ``items.1.sku``); French message."""

    field: str
    code: str
    message: str


PHOTO_MESSAGES: dict[PhotoProblem, str] = {
    PhotoProblem.NOT_AN_IMAGE: "Le fichier {name} n'est pas une photo JPEG, PNG ou HEIC.",
    PhotoProblem.TOO_LARGE: "La photo {name} dépasse {mb} Mo.",
    PhotoProblem.EMPTY: "Le fichier {name} est vide.",
}


@dataclass(frozen=True)
class CheckedPhoto:
    filename: str | None
    content_type: str
    data: bytes


def check_photos(
    photos: Sequence[tuple[str | None, bytes]], count: int, limits: PhotoLimits
) -> tuple[list[CheckedPhoto], list[Problem]]:
    """The acceptable photos of a claim, and the problems with the others.

    ``photos`` are the first ``limits.max_count`` files sent, each read up to one byte past the
    limit (file name, bytes); ``count`` is how many were sent in all.
    """
    problems: list[Problem] = []
    if not count:
        problems.append(Problem("photos", "photo_required", "Au moins une photo est requise."))
    if count > limits.max_count:
        problems.append(
            Problem(
                "photos",
                "too_many_photos",
                f"Au plus {limits.max_count} photos par réclamation.",
            )
        )
    checked: list[CheckedPhoto] = []
    for index, (filename, data) in enumerate(photos[: limits.max_count]):
        mime, problem = check_photo(data, limits)
        if problem is not None:
            message = PHOTO_MESSAGES[problem].format(
                name=filename or f"n°{index + 1}", mb=limits.max_bytes // (1024 * 1024)
            )
            problems.append(Problem(f"photos.{index}", problem.value, message))
        else:
            assert mime is not None
            checked.append(CheckedPhoto((filename or "")[:255] or None, mime, data))
    return checked, problems


@dataclass(frozen=True)
class ClaimRequest:
    """A customer's claim as sent (items already parsed: sku, quantity)."""

    kind: ClaimKind
    order_number: str
    items: Sequence[tuple[str, int]]
    tracking_number: str | None
    message: str | None


@dataclass(frozen=True)
class ShippedItem:
    """One line of the order, as a claim sees it."""

    name: str
    shipped: int


@dataclass(frozen=True)
class ClaimedItem:
    sku: str
    name: str
    quantity: int


@dataclass(frozen=True)
class ClaimAcceptance:
    items: tuple[ClaimedItem, ...]
    tracking_number: str | None
    message: str | None


class ClaimRefusalCode(StrEnum):
    ORDER_NOT_SHIPPED = "order_not_shipped"
    """Nothing was shipped yet (answered 409)."""
    INVALID_CLAIM = "invalid_claim"
    """Something is missing or wrong (answered 422 with the problems)."""


@dataclass(frozen=True)
class ClaimRefusal:
    code: ClaimRefusalCode
    message: str
    problems: tuple[Problem, ...] = ()


NOT_SHIPPED_MESSAGE = (
    "Votre commande n'a pas encore été expédiée : une réclamation pourra être ouverte après sa "
    "réception."
)


def decide_claim(
    request: ClaimRequest,
    *,
    order_number: str,
    items: Mapping[str, ShippedItem],
    tracking_numbers: frozenset[str],
    problems: Sequence[Problem] = (),
) -> ClaimAcceptance | ClaimRefusal:
    """Open a claim, or say why not: nothing shipped yet, or the problems found (``problems``:
    those already found while reading the request, first)."""
    found = list(problems)
    if request.order_number.strip().upper() != order_number.upper():
        found.append(
            Problem(
                "order_number",
                "order_number_mismatch",
                "Le numéro de commande ne correspond pas à cette commande.",
            )
        )
    number = _claim_tracking_number(request, tracking_numbers, found)
    found.extend(_item_problems(request.items, items))
    if not tracking_numbers:
        return ClaimRefusal(ClaimRefusalCode.ORDER_NOT_SHIPPED, NOT_SHIPPED_MESSAGE)
    if found:
        return ClaimRefusal(
            ClaimRefusalCode.INVALID_CLAIM, "La réclamation est incomplète.", tuple(found)
        )
    message = request.message.strip() if request.message and request.message.strip() else None
    return ClaimAcceptance(
        items=tuple(ClaimedItem(sku, items[sku].name, quantity) for sku, quantity in request.items),
        tracking_number=number,
        message=message,
    )


def _claim_tracking_number(
    request: ClaimRequest, tracking_numbers: frozenset[str], problems: list[Problem]
) -> str | None:
    """The normalised tracking number; a missing item needs one of the order's parcels."""
    raw = request.tracking_number
    number = normalise_tracking_number(raw) if raw else None
    if request.kind is not ClaimKind.MISSING_ITEM:
        return number
    if not raw:
        problems.append(
            Problem(
                "tracking_number",
                "tracking_number_required",
                "Le numéro de suivi du colis est requis pour un article manquant.",
            )
        )
    elif number not in tracking_numbers:
        problems.append(
            Problem(
                "tracking_number",
                "tracking_number_unknown",
                "Ce numéro de suivi ne correspond à aucun colis de la commande.",
            )
        )
    return number


def _item_problems(
    wanted: Sequence[tuple[str, int]], items: Mapping[str, ShippedItem]
) -> list[Problem]:
    """Each claimed item is in the order and was shipped (at least that many)."""
    problems = []
    for index, (sku, quantity) in enumerate(wanted):
        item = items.get(sku)
        if item is None:
            problems.append(
                Problem(
                    f"items.{index}.sku",
                    "not_in_order",
                    f"L'article {sku} ne fait pas partie de la commande.",
                )
            )
        elif quantity > max(item.shipped, 0):
            problems.append(
                Problem(
                    f"items.{index}.quantity",
                    "more_than_shipped",
                    f"Seuls {item.shipped} article(s) {sku} ont été expédiés.",
                )
            )
    return problems


# --- Resolving a claim -----------------------------------------------------------------------


def check_resolution(
    resolution: ClaimResolution, message: str | None, amount: Decimal | None
) -> tuple[str, Problem] | None:
    """A rejection needs a note to the customer; an amount is only for a refund.

    None when the decision is complete, else (what is wrong, the field's problem)."""
    if resolution is ClaimResolution.REJECTED and not message:
        return "A rejection needs a message to the customer.", Problem(
            "message", "required", "required to reject"
        )
    if amount is not None and resolution is not ClaimResolution.REFUND:
        return "amount is only for a refund.", Problem("amount", "not_allowed", "only for 'refund'")
    return None


def reship_shortfall(wanted: Mapping[str, int], available: Mapping[str, int]) -> dict[str, int]:
    """The items a reship lacks: those with fewer available (a sku absent: none) than wanted."""
    return {
        sku: quantity
        for sku, quantity in wanted.items()
        if available.get(sku) is None or available[sku] < quantity
    }

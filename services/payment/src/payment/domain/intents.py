"""What Stripe says about a PaymentIntent (a reply, a webhook or a read-back)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any
from uuid import UUID

# --- What Stripe says about an intent ------------------------------------------------------------


@dataclass(frozen=True)
class NextAction:
    type: str
    url: str | None


@dataclass(frozen=True)
class IntentView:
    """The parts of a Stripe PaymentIntent the rules need (from a reply, webhook or read-back)."""

    id: str
    status: str
    amount: int
    amount_capturable: int = 0
    amount_received: int = 0
    error_code: str | None = None
    decline_code: str | None = None
    error_message: str | None = None
    has_error: bool = False
    next_action: NextAction | None = None
    cancellation_reason: str | None = None
    metadata: tuple[tuple[str, str], ...] = ()
    client_secret: str | None = field(default=None, repr=False)  # for Stripe.js; never logged

    @classmethod
    def from_stripe(cls, obj: dict[str, Any]) -> IntentView:
        """Build from a PaymentIntent as JSON (``StripeObject.to_dict()`` or a webhook)."""
        error = obj.get("last_payment_error") or None
        action = obj.get("next_action") or None
        metadata = obj.get("metadata") or {}
        return cls(
            id=str(obj["id"]),
            status=str(obj.get("status") or ""),
            amount=int(obj.get("amount") or 0),
            amount_capturable=int(obj.get("amount_capturable") or 0),
            amount_received=int(obj.get("amount_received") or 0),
            error_code=(error or {}).get("code"),
            decline_code=(error or {}).get("decline_code"),
            error_message=(error or {}).get("message"),
            has_error=error is not None,
            next_action=_next_action(action) if isinstance(action, dict) else None,
            cancellation_reason=obj.get("cancellation_reason"),
            metadata=tuple(sorted((str(k), str(v)) for k, v in metadata.items())),
            client_secret=obj.get("client_secret") or None,
        )

    def meta(self, key: str) -> str | None:
        return dict(self.metadata).get(key)


def _next_action(action: dict[str, Any]) -> NextAction:
    kind = str(action.get("type") or "unknown")
    url: str | None = None
    redirect = action.get("redirect_to_url")
    if isinstance(redirect, dict) and redirect.get("url"):
        url = str(redirect["url"])
    sdk = action.get(kind)
    if url is None and isinstance(sdk, dict):
        for field in ("stripe_js", "url", "hosted_voucher_url", "redirect_url"):
            value = sdk.get(field)
            if isinstance(value, str) and value.startswith(("https://", "http://")):
                url = value
                break
    return NextAction(type=kind[:64], url=url)


def usable_client_secret(secret: str | None, payment_intent_id: str) -> str | None:
    """The intent's client secret when it has Stripe's shape (``<intent id>_secret_<...>``),
    else None: the storefront then falls back to the next-action URL."""
    if not secret or not secret.startswith(f"{payment_intent_id}_secret_"):
        return None
    rest = secret[len(payment_intent_id) + len("_secret_") :]
    if not rest.isascii() or not rest.isalnum() or len(secret) > 255:
        return None
    return secret


def next_action_url(
    action: NextAction | None, template: str, *, order_id: UUID, payment_intent_id: str
) -> str:
    """Where the customer completes the action: Stripe's URL, else the storefront's page."""
    if action is not None and action.url:
        return action.url
    return template.format(order_id=order_id, payment_intent_id=payment_intent_id)


class WebhookOutcome(StrEnum):
    """What payment did with a verified Stripe event (recorded, and answered to Stripe)."""

    RECEIVED = "received"  # recorded, not applied yet (the transaction is still open)
    APPLIED = "applied"
    NO_CHANGE = "no_change"
    DUPLICATE = "duplicate"  # this event id was handled before
    IGNORED = "ignored"  # a type payment does not use
    UNKNOWN_INTENT = "unknown_intent"
    UNKNOWN_REFUND = "unknown_refund"
    READ_BACK = "read_back"  # a charge event without its refunds: they are read back
    MALFORMED = "malformed"  # signed by Stripe yet not shaped like its objects

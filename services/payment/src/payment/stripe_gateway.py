"""Stripe through its official SDK (async ``StripeClient`` on aiohttp), the only module calling it.

Calls return plain values (:class:`~payment.domain.IntentView`, :class:`RefundView`); Stripe's
exceptions become three kinds the workflow understands:

* :class:`DeclinedError`: Stripe refused the payment (a card error, or a request it will never
  accept for this payment method): a refusal with Stripe's raw codes;
* :class:`RejectedError`: any other definitive 4xx answer (e.g. a capture of an expired hold);
* :class:`UnavailableError`: network errors, 5xx, rate limits, our own key refused: try again later
  with the same idempotency key.

The base address and the keys come from settings, so the same code talks to Stripe, localstripe
or stripe-mock.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import stripe
import structlog
from jg_messaging import tracing

from payment.domain import IntentView, Refusal
from payment.metrics import MeasuredStripeHTTPClient
from payment.settings import PaymentSettings

log = structlog.get_logger(__name__)


class StripeCallError(Exception):
    """Base of the gateway's errors."""

    def __init__(self, message: str, *, code: str | None = None, status: int | None = None):
        super().__init__(message)
        self.code = code
        self.status = status


class DeclinedError(StripeCallError):
    """Stripe refused the payment."""

    def __init__(self, refusal: Refusal, *, payment_intent_id: str | None, status: int | None):
        super().__init__(refusal.message or "declined", code=refusal.error_code, status=status)
        self.refusal = refusal
        self.payment_intent_id = payment_intent_id


class RejectedError(StripeCallError):
    """A definitive refusal of the request that is not a payment refusal."""


class UnavailableError(StripeCallError):
    """Stripe could not be reached or asked us to come back later."""


@dataclass(frozen=True)
class PaymentMethodInfo:
    id: str
    type: str | None
    card_brand: str | None
    card_last4: str | None
    customer_id: str | None = None  # the Stripe Customer it is attached to, if any


@dataclass(frozen=True)
class RefundView:
    id: str
    status: str
    amount: int
    payment_intent_id: str | None
    metadata: tuple[tuple[str, str], ...] = ()
    failure_reason: str | None = None

    @classmethod
    def from_stripe(cls, obj: dict[str, Any]) -> RefundView:
        metadata = obj.get("metadata") or {}
        intent = obj.get("payment_intent")
        if isinstance(intent, dict):
            intent = intent.get("id")
        return cls(
            id=str(obj["id"]),
            status=str(obj.get("status") or ""),
            amount=int(obj.get("amount") or 0),
            payment_intent_id=intent,
            metadata=tuple(sorted((str(k), str(v)) for k, v in metadata.items())),
            failure_reason=obj.get("failure_reason"),
        )

    def meta(self, key: str) -> str | None:
        return dict(self.metadata).get(key)


# Invalid requests that mean "this payment method cannot pay this", not a bug of ours.
_DECLINING_REQUEST_CODES = frozenset(
    {
        "payment_intent_authentication_failure",
        "payment_method_unactivated",
        "payment_method_not_available",
        "payment_method_provider_decline",
        "payment_method_unexpected_state",
        "payment_method_invalid_parameter",
        "incorrect_number",
        "invalid_number",
        "incorrect_cvc",
        "invalid_cvc",
        "expired_card",
        "invalid_expiry_month",
        "invalid_expiry_year",
        "resource_missing",
        "card_declined",
    }
)


def _id_of(value: Any) -> str | None:
    """An expandable field's id (a string, or the expanded object's ``id``)."""
    if isinstance(value, dict):
        value = value.get("id")
    return value if isinstance(value, str) and value else None


def _error_body(exc: stripe.StripeError) -> dict[str, Any]:
    body = exc.json_body
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        return dict(body["error"])
    return {}


def _translate(exc: stripe.StripeError, *, declining: bool) -> StripeCallError:
    """One of our three kinds for a Stripe exception."""
    error = _error_body(exc)
    code = error.get("code") or exc.code
    message = str(error.get("message") or exc.user_message or exc)
    status = exc.http_status
    if isinstance(
        exc,
        stripe.APIConnectionError
        | stripe.RateLimitError
        | stripe.APIError
        | stripe.AuthenticationError
        | stripe.PermissionError,
    ) or (status is not None and status >= 500):
        return UnavailableError(message, code=code, status=status)
    is_card_error = isinstance(exc, stripe.CardError) or error.get("type") == "card_error"
    if declining and (is_card_error or status == 402 or code in _DECLINING_REQUEST_CODES):
        intent = error.get("payment_intent")
        intent_id = intent.get("id") if isinstance(intent, dict) else None
        refusal = Refusal.from_stripe(code, error.get("decline_code"), message)
        return DeclinedError(refusal, payment_intent_id=intent_id, status=status)
    return RejectedError(message, code=code, status=status)


class _TracedHTTPClient(MeasuredStripeHTTPClient):
    """Stripe's HTTP client with a client span per HTTP request (each retry its own), inside
    the request's metrics (payment.metrics)."""

    async def request_async(  # type: ignore[no-untyped-def]  # stripe leaves post_data untyped
        self, method: str, url: str, headers: Any, post_data=None
    ) -> Any:
        path = urlsplit(url).path
        attributes = {"http.request.method": method.upper(), "url.path": path}
        with tracing.span(
            f"stripe {method.upper()} {path}", kind=tracing.CLIENT, attributes=attributes
        ) as span:
            headers = {**dict(headers or {}), **tracing.inject()}
            body, status, answer = await super().request_async(method, url, headers, post_data)
            span.set_attribute("http.response.status_code", status)
            if status >= 500:
                tracing.fail(span, f"HTTP {status}")
            return body, status, answer


class StripeGateway:
    """The Stripe calls payment makes. Built at start-up, closed at shutdown."""

    def __init__(self, settings: PaymentSettings) -> None:
        self.settings = settings
        # stripe_timeout bounds each wait (connecting, then each read), not the whole answer: a
        # long listing (reconciliation) may take longer while data keeps coming
        timeout = settings.stripe_timeout
        self._http = _TracedHTTPClient(
            timeout=aiohttp.ClientTimeout(total=None, connect=timeout, sock_read=timeout)
        )
        self.client = stripe.StripeClient(
            settings.stripe_api_key.get_secret_value(),
            base_addresses={"api": settings.stripe_api_base},
            max_network_retries=settings.stripe_max_network_retries,
            http_client=self._http,
        )

    async def close(self) -> None:
        await self._http.close_async()  # type: ignore[no-untyped-call]  # stripe leaves it unannotated

    # --- Reads -----------------------------------------------------------------------------

    async def payment_method(self, payment_method_id: str) -> PaymentMethodInfo:
        try:
            pm = await self.client.v1.payment_methods.retrieve_async(payment_method_id)
        except stripe.StripeError as exc:
            raise _translate(exc, declining=True) from exc
        data = pm.to_dict()
        card = data.get("card") or {}
        return PaymentMethodInfo(
            id=str(data["id"]),
            type=data.get("type"),
            card_brand=card.get("brand"),
            card_last4=card.get("last4"),
            customer_id=_id_of(data.get("customer")),
        )

    async def intent(self, payment_intent_id: str) -> IntentView:
        try:
            pi = await self.client.v1.payment_intents.retrieve_async(payment_intent_id)
        except stripe.StripeError as exc:
            raise _translate(exc, declining=False) from exc
        return IntentView.from_stripe(pi.to_dict())

    async def intent_of_charge(self, charge_id: str) -> str | None:
        """The PaymentIntent of a charge (localstripe's declines name only the charge)."""
        try:
            charge = await self.client.v1.charges.retrieve_async(charge_id)
        except stripe.StripeError:
            log.warning("stripe_charge_lookup_failed", charge_id=charge_id)
            return None
        intent = charge.to_dict().get("payment_intent")
        return intent if isinstance(intent, str) else None

    async def refund(self, refund_id: str) -> RefundView:
        try:
            refund = await self.client.v1.refunds.retrieve_async(refund_id)
        except stripe.StripeError as exc:
            raise _translate(exc, declining=False) from exc
        return RefundView.from_stripe(refund.to_dict())

    async def intents(
        self, *, created_since: int | None = None, page_size: int = 100
    ) -> AsyncIterator[dict[str, Any]]:
        """The account's PaymentIntents as JSON (for reconciliation), newest first at Stripe.

        ``created_since`` (unix time) is passed as ``created[gte]``; a Stripe stand-in that does
        not know the filter (localstripe) gets the plain listing, filtered by the caller.
        """
        params: dict[str, Any] = {"limit": page_size}
        if created_since is not None:
            params["created"] = {"gte": created_since}
        try:
            try:
                page = await self.client.v1.payment_intents.list_async(params)  # type: ignore[arg-type]  # stripe types params as a TypedDict
            except stripe.InvalidRequestError:
                if "created" not in params:
                    raise
                page = await self.client.v1.payment_intents.list_async({"limit": page_size})
            async for pi in page.auto_paging_iter():
                yield pi.to_dict()
        except stripe.StripeError as exc:
            raise _translate(exc, declining=False) from exc

    # --- Customers: the same card for a re-authorisation ---------------------------------------

    async def customer_for(
        self, *, payment_method_id: str, metadata: dict[str, str], idempotency_key: str
    ) -> str:
        """A Stripe Customer holding the order's PaymentMethod; returns its id (``cus_...``).

        Stripe lets a PaymentMethod pay once without a Customer, then refuses it ("previously
        used without being attached to a Customer"): a modification that raises the total
        needs a second PaymentIntent with the same card, so the card is attached first. One
        call does both: a Customer created with ``payment_method`` has it attached (Stripe's
        "payment_method: the ID of the PaymentMethod to attach to the customer"), one request
        instead of a create and an attach. The Customer holds no personal data, only the
        order's id and number. The call carries an idempotency key derived from
        ``idempotency_key`` (a new suffix: the keys of the two calls it replaced were used with
        other parameters); a card Stripe declines on attaching raises :class:`DeclinedError`.
        """
        try:
            customer = await self.client.v1.customers.create_async(
                {"metadata": metadata, "payment_method": payment_method_id},
                {"idempotency_key": f"{idempotency_key}:customer-with-card"},
            )
        except stripe.StripeError as exc:
            raise _translate(exc, declining=True) from exc
        return str(customer.id)

    # --- Money-changing calls (always with an idempotency key) -------------------------------

    async def authorize(
        self,
        *,
        amount_cents: int,
        payment_method_id: str,
        payment_method_type: str,
        metadata: dict[str, str],
        return_url: str | None,
        idempotency_key: str,
        customer_id: str | None = None,
    ) -> IntentView:
        """Create and confirm a manual-capture PaymentIntent in euros (on the Customer the
        PaymentMethod is attached to, when there is one)."""
        params: dict[str, Any] = {
            "amount": amount_cents,
            "currency": "eur",
            "payment_method": payment_method_id,
            "payment_method_types": [payment_method_type],
            "capture_method": "manual",
            "confirm": True,
            "metadata": metadata,
        }
        if customer_id is not None:
            params["customer"] = customer_id
        if return_url is not None:
            params["return_url"] = return_url
        try:
            pi = await self.client.v1.payment_intents.create_async(
                params,  # type: ignore[arg-type]  # stripe types params as a TypedDict
                {"idempotency_key": idempotency_key},
            )
        except stripe.StripeError as exc:
            failure = _translate(exc, declining=True)
            if isinstance(failure, DeclinedError) and failure.payment_intent_id is None:
                charge = _error_body(exc).get("charge")
                if isinstance(charge, str):
                    failure.payment_intent_id = await self.intent_of_charge(charge)
            raise failure from exc
        return IntentView.from_stripe(pi.to_dict())

    async def capture(
        self, payment_intent_id: str, *, amount_cents: int, idempotency_key: str
    ) -> IntentView:
        try:
            pi = await self.client.v1.payment_intents.capture_async(
                payment_intent_id,
                {"amount_to_capture": amount_cents},
                {"idempotency_key": idempotency_key},
            )
        except stripe.StripeError as exc:
            raise _translate(exc, declining=False) from exc
        return IntentView.from_stripe(pi.to_dict())

    async def cancel(self, payment_intent_id: str, *, idempotency_key: str) -> IntentView:
        try:
            pi = await self.client.v1.payment_intents.cancel_async(
                payment_intent_id, None, {"idempotency_key": idempotency_key}
            )
        except stripe.StripeError as exc:
            raise _translate(exc, declining=False) from exc
        return IntentView.from_stripe(pi.to_dict())

    async def create_refund(
        self,
        *,
        payment_intent_id: str,
        amount_cents: int,
        metadata: dict[str, str],
        idempotency_key: str,
    ) -> RefundView:
        try:
            refund = await self.client.v1.refunds.create_async(
                {
                    "payment_intent": payment_intent_id,
                    "amount": amount_cents,
                    "metadata": metadata,
                },
                {"idempotency_key": idempotency_key},
            )
        except stripe.StripeError as exc:
            raise _translate(exc, declining=False) from exc
        return RefundView.from_stripe(refund.to_dict())

    # --- Webhooks --------------------------------------------------------------------------

    def verify_webhook(self, payload: bytes, signature: str | None) -> dict[str, Any]:
        """The event of a webhook whose signature Stripe's SDK verified (raises if it cannot).

        Raises ``stripe.SignatureVerificationError`` for a missing, forged or stale signature and
        ``ValueError`` for a body that is not an event.
        """
        event = self.client.construct_event(
            payload,
            signature,
            self.settings.stripe_webhook_secret.get_secret_value(),
            tolerance=self.settings.stripe_webhook_tolerance,
        )
        return event.to_dict()

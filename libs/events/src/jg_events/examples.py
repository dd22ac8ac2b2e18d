"""A realistic, valid example of every event (one order's story), deterministic.

For documentation (the logistics contract, AsyncAPI), email previews and tests:
``example(OrderPlaced)`` or ``example_envelope(Shipped)``.
"""

from __future__ import annotations

import functools
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, TypeVar
from uuid import UUID

from jg_events.accounts import (
    CustomerEmailVerified,
    CustomerErased,
    CustomerErasureRequested,
    CustomerField,
    CustomerRegistered,
    CustomerUpdated,
    EmailChangeRequested,
    EmailChangeRequestedV1,
    EmailProof,
    EmailVerificationRequested,
    ErasureRequestedBy,
    PasswordResetRequested,
    PasswordResetRequestedV1,
)
from jg_events.common import (
    Address,
    Carrier,
    CustomerContact,
    DeliveryEstimate,
    ItemQuantity,
    OrderLine,
    PaymentMethodType,
    RefundCause,
    ShippingMethod,
    Totals,
)
from jg_events.envelope import Envelope, Event
from jg_events.fulfillment import (
    Backordered,
    BackorderedLine,
    ClaimKind,
    ClaimOpened,
    ClaimResolution,
    ClaimResolved,
    Delivered,
    OrderProcessing,
    PickLine,
    RefundLine,
    RefundRequested,
    ReturnAccepted,
    ReturnItem,
    ReturnRejected,
    ReturnRejectionReason,
    Shipped,
)
from jg_events.logistics import (
    ItemCondition,
    ParcelDelivered,
    ParcelItem,
    ParcelPickedUp,
    ReceivedItem,
    ReturnReceived,
    StockReplenished,
)
from jg_events.orders import (
    CancellationReason,
    CancelledBy,
    OrderCancelled,
    OrderConfirmed,
    OrderModified,
    OrderPlaced,
    OrderReleased,
)
from jg_events.payments import (
    InvoiceIssued,
    InvoiceKind,
    PaymentActionRequired,
    PaymentAuthenticationExpired,
    PaymentAuthorized,
    PaymentCancellationReason,
    PaymentCancelled,
    PaymentCaptured,
    PaymentRefused,
    RefundIssued,
    RefusalReason,
)
from jg_events.registry import ALL_EVENTS
from jg_events.sealing import LinkPurpose, LinkSealer
from jg_events.vat import VatShare

__all__ = ["EXAMPLE_CORRELATION_ID", "example", "example_envelope"]

E = TypeVar("E", bound=Event)

ORDER_ID = UUID("0b6f8a52-3c1e-4d7a-9a55-2f1de0c7a001")
CUSTOMER_ID = UUID("5d0c2b1e-8f3a-4e6b-b7c9-1a2b3c4d5e01")
RETURN_ID = UUID("7e1f0a9b-2c3d-4e5f-8a7b-6c5d4e3f2a01")
CLAIM_ID = UUID("9a8b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c01")
REFUND_REQUEST_ID = UUID("c3d4e5f6-a7b8-4c9d-8e0f-1a2b3c4d5e01")
EXAMPLE_CORRELATION_ID = "req-3f9a1c7e5b2d4a60"

_ORDER_NUMBER = "JG-2026-000123"
_PLACED_AT = datetime(2026, 3, 2, 9, 14, 5, tzinfo=UTC)
_CUSTOMER = CustomerContact(
    customer_id=CUSTOMER_ID,
    email="camille.durand@example.fr",
    first_name="Camille",
    last_name="Durand",
)
_ADDRESS = Address(
    first_name="Camille",
    last_name="Durand",
    line1="12 rue des Lilas",
    line2="Bâtiment B",
    postal_code="69003",
    city="Lyon",
    country_code="FR",
    phone="+33612345678",
)
_VAT = Decimal("20.00")
_FOOD_VAT = Decimal("5.50")  # tea is food (CGI 278-0 bis A)
_LINES = (
    OrderLine(
        sku="MATCHA-KYOTO-100",
        name="Thé matcha de Kyoto, 100 g",
        quantity=3,
        unit_price=Decimal("19.99"),
        vat_rate=_FOOD_VAT,
        line_total=Decimal("59.97"),
        on_sale=False,
    ),
    OrderLine(
        sku="FUROSHIKI-SAKURA",
        name="Furoshiki motif sakura",
        quantity=1,
        unit_price=Decimal("24.50"),
        vat_rate=_VAT,
        line_total=Decimal("24.50"),
        on_sale=True,
    ),
)
_SHIPPING = ShippingMethod(
    code="ems",
    label="Japan Post EMS (10 à 15 jours ouvrés)",
    price=Decimal("14.90"),
    vat_rate=_VAT,
)
# The shipping is split between 5.5 % and 20 % pro rata of the goods excluding VAT.
_TOTALS = Totals(
    subtotal=Decimal("84.47"),
    shipping=Decimal("14.90"),
    total=Decimal("99.37"),
    vat=Decimal("8.44"),
    vat_breakdown=(
        VatShare(
            rate=_FOOD_VAT,
            goods=Decimal("59.97"),
            shipping=Decimal("10.96"),
            total_incl_vat=Decimal("70.93"),
            vat=Decimal("3.70"),
        ),
        VatShare(
            rate=_VAT,
            goods=Decimal("24.50"),
            shipping=Decimal("3.94"),
            total_incl_vat=Decimal("28.44"),
            vat=Decimal("4.74"),
        ),
    ),
)
_ESTIMATE = DeliveryEstimate(earliest=date(2026, 3, 16), latest=date(2026, 3, 23))
_ORDER: dict[str, Any] = {
    "order_id": ORDER_ID,
    "order_number": _ORDER_NUMBER,
    "customer": _CUSTOMER,
}
_SNAPSHOT: dict[str, Any] = {
    **_ORDER,
    "revision": 0,
    "placed_at": _PLACED_AT,
    "lines": _LINES,
    "totals": _TOTALS,
    "shipping_address": _ADDRESS,
    "billing_address": _ADDRESS,
    "shipping_method": _SHIPPING,
    "payment_method_type": PaymentMethodType.CARD,
}
_INTENT: dict[str, Any] = {"payment_intent_id": "pi_3OqX2bLkdIwHu7ix0abc1234", "amount": "99.37"}
_ITEMS = (ItemQuantity(sku="MATCHA-KYOTO-100", name="Thé matcha de Kyoto, 100 g", quantity=3),)
_ACCOUNT: dict[str, Any] = {
    "customer_id": CUSTOMER_ID,
    "customer_number": "C-004217",
    "email": "camille.durand@example.fr",
    "first_name": "Camille",
}
_AT = datetime(2026, 3, 10, 6, 30, tzinfo=UTC)

EXAMPLE_LINK_SEALING_KEY = "example-link-sealing-key-not-secret"
"""The key the examples' links are sealed under (previews and tests open them with it)."""
RESET_URL = "https://www.japangoodz.com/mon-compte/nouveau-mot-de-passe?token=Zk3x9"
EMAIL_CHANGE_URL = "https://www.japangoodz.com/mon-compte/confirmation-email?token=Qa7w2"
VERIFICATION_URL = "https://www.japangoodz.com/mon-compte/verification-email?token=Vb8y4"


@functools.cache
def _sealer() -> LinkSealer:
    """The examples' sealer, built on first use (it loads cryptography)."""
    return LinkSealer(EXAMPLE_LINK_SEALING_KEY)


def _sealed(url: str, purpose: LinkPurpose, recipient: str) -> str:
    # A fixed nonce keeps the examples deterministic; real links get a random one.
    return _sealer().seal(
        url,
        purpose=purpose,
        customer_id=CUSTOMER_ID,
        recipient=recipient,
        nonce=bytes(12),
    )


def _examples() -> dict[type[Event], Event]:
    modified_lines = (*_LINES[:1],)
    modified_totals = Totals(  # tea only: the whole shipping follows it at 5.5 %
        subtotal=Decimal("59.97"),
        shipping=Decimal("14.90"),
        total=Decimal("74.87"),
        vat=Decimal("3.90"),
        vat_breakdown=(
            VatShare(
                rate=_FOOD_VAT,
                goods=Decimal("59.97"),
                shipping=Decimal("14.90"),
                total_incl_vat=Decimal("74.87"),
                vat=Decimal("3.90"),
            ),
        ),
    )
    examples: list[Event] = [
        OrderPlaced(**_SNAPSHOT, stripe_payment_method_id="pm_1OqX2aLkdIwHu7ixVisa4242"),
        OrderConfirmed(
            **_SNAPSHOT,
            delivery_estimate=_ESTIMATE,
            modifiable_until=datetime(2026, 3, 2, 9, 20, 7, tzinfo=UTC),
        ),
        OrderModified(
            **{**_SNAPSHOT, "revision": 1, "lines": modified_lines, "totals": modified_totals},
            previous_total=Decimal("99.37"),
            new_total=Decimal("74.87"),
            amount_changed=True,
        ),
        OrderCancelled(
            **_ORDER,
            reason=CancellationReason.CUSTOMER_REQUEST,
            cancelled_by=CancelledBy.CUSTOMER,
            note=None,
            total=Decimal("99.37"),
        ),
        OrderReleased(**_SNAPSHOT, delivery_estimate=_ESTIMATE),
        PaymentAuthorized(
            **_ORDER,
            **_INTENT,
            order_revision=0,
            payment_method_type=PaymentMethodType.CARD,
            card_brand="visa",
            card_last4="4242",
        ),
        PaymentActionRequired(
            **_ORDER,
            **_INTENT,
            order_revision=0,
            next_action_type="redirect_to_url",
            next_action_url="https://hooks.stripe.com/3d_secure_2/hosted?id=pi_3OqX2b",
            client_secret="pi_3OqX2bLkdIwHu7ix0abc1234_secret_Xb7kQp2ZrN4sLw9VdT1mYc",  # noqa: S106 - a sample
        ),
        PaymentAuthenticationExpired(
            **_ORDER,
            payment_intent_id="pi_3OqX9cLkdIwHu7ix0def5678",
            amount=Decimal("124.35"),
            order_revision=1,
            held_revision=0,
            held_amount=Decimal("99.37"),
        ),
        PaymentRefused(
            **_ORDER,
            **_INTENT,
            order_revision=0,
            payment_method_type=PaymentMethodType.CARD,
            reason=RefusalReason.INSUFFICIENT_FUNDS,
            stripe_error_code="card_declined",
            stripe_decline_code="insufficient_funds",
            stripe_message="Your card has insufficient funds.",
        ),
        PaymentCaptured(**_ORDER, **_INTENT),
        PaymentCancelled(**_ORDER, **_INTENT, reason=PaymentCancellationReason.ORDER_CANCELLED),
        RefundIssued(
            **_ORDER,
            payment_intent_id=_INTENT["payment_intent_id"],
            amount=Decimal("59.97"),
            refund_request_id=REFUND_REQUEST_ID,
            refund_id="re_3OqX2bLkdIwHu7ix1def5678",
            cause=RefundCause.RETURN,
            reference_id=RETURN_ID,
        ),
        InvoiceIssued(
            **_ORDER,
            invoice_number="F-2026-000042",
            kind=InvoiceKind.INVOICE,
            issue_date=date(2026, 3, 10),
            total_excl_vat=Decimal("90.93"),
            total_vat=Decimal("8.44"),
            total_incl_vat=Decimal("99.37"),
            download_path="/invoices/F-2026-000042.pdf",
        ),
        OrderProcessing(
            **_ORDER,
            lines=tuple(
                PickLine(
                    sku=line.sku,
                    name=line.name,
                    name_ja=name_ja,
                    name_romaji=romaji,
                    quantity=line.quantity,
                    unit_price=line.unit_price,
                )
                for line, (name_ja, romaji) in zip(
                    _LINES,
                    (
                        ("京都産 抹茶 100g", "Kyōto-san matcha 100 g"),
                        ("綿 風呂敷 桜柄 70cm", "Men furoshiki sakura-gara"),
                    ),
                    strict=True,
                )
            ),
            shipping_address=_ADDRESS,
            shipping_method=_SHIPPING,
            delivery_estimate=_ESTIMATE,
        ),
        Backordered(
            **_ORDER,
            missing_lines=(
                BackorderedLine(
                    sku="FUROSHIKI-SAKURA",
                    name="Furoshiki motif sakura",
                    quantity_ordered=1,
                    quantity_missing=1,
                ),
            ),
            delivery_estimate=DeliveryEstimate(earliest=date(2026, 3, 30), latest=date(2026, 4, 8)),
        ),
        Shipped(
            **_ORDER,
            carrier=Carrier.JAPAN_POST_EMS,
            tracking_number="EN123456789JP",
            tracking_url="https://trackings.post.japanpost.jp/services/srv/search/direct?"
            "searchKind=S004&locale=fr&reqCodeNo1=EN123456789JP",
            items=_ITEMS,
            shipped_at=_AT,
            delivery_estimate=_ESTIMATE,
        ),
        Delivered(
            **_ORDER,
            tracking_number="EN123456789JP",
            delivered_at=datetime(2026, 3, 18, 10, 5, tzinfo=UTC),
            withdrawal_deadline=date(2026, 4, 1),
        ),
        ReturnAccepted(
            **_ORDER,
            return_id=RETURN_ID,
            items=(
                ReturnItem(
                    sku="MATCHA-KYOTO-100",
                    name="Thé matcha de Kyoto, 100 g",
                    quantity=3,
                    unit_price=Decimal("19.99"),
                ),
            ),
            instructions="Renvoyez les articles non utilisés dans leur emballage d'origine, "
            "avec le numéro de retour inscrit sur le colis.",
            send_before=date(2026, 4, 15),
            expected_refund=Decimal("59.97"),
        ),
        ReturnRejected(
            **_ORDER,
            return_id=RETURN_ID,
            reason=ReturnRejectionReason.WITHDRAWAL_PERIOD_EXPIRED,
            message="Le délai de rétractation de 14 jours après la livraison est dépassé.",
            items=_ITEMS,
        ),
        RefundRequested(
            **_ORDER,
            refund_request_id=REFUND_REQUEST_ID,
            cause=RefundCause.RETURN,
            reference_id=RETURN_ID,
            lines=(
                RefundLine(
                    sku="MATCHA-KYOTO-100",
                    name="Thé matcha de Kyoto, 100 g",
                    quantity=3,
                    unit_price=Decimal("19.99"),
                    vat_rate=_FOOD_VAT,
                    amount=Decimal("59.97"),
                ),
            ),
            shipping_refund=Decimal("0.00"),
            amount=Decimal("59.97"),
        ),
        ClaimOpened(
            **_ORDER,
            claim_id=CLAIM_ID,
            kind=ClaimKind.DAMAGED_ITEM,
            items=_ITEMS,
            message="Une boîte de thé est arrivée écrasée.",
            photo_count=2,
        ),
        ClaimResolved(
            **_ORDER,
            claim_id=CLAIM_ID,
            kind=ClaimKind.DAMAGED_ITEM,
            resolution=ClaimResolution.REFUND,
            items=_ITEMS,
            amount=Decimal("19.99"),
            message="Nous vous remboursons la boîte abîmée. Toutes nos excuses.",
        ),
        ParcelPickedUp(
            order_id=ORDER_ID,
            carrier=Carrier.JAPAN_POST_EMS,
            tracking_number="EN123456789JP",
            items=(ParcelItem(sku="MATCHA-KYOTO-100", quantity=3),),
            picked_up_at=_AT,
        ),
        ParcelDelivered(
            order_id=ORDER_ID,
            tracking_number="EN123456789JP",
            delivered_at=datetime(2026, 3, 18, 10, 5, tzinfo=UTC),
        ),
        StockReplenished(sku="FUROSHIKI-SAKURA", quantity_added=40, replenished_at=_AT),
        ReturnReceived(
            order_id=ORDER_ID,
            return_id=RETURN_ID,
            items=(
                ReceivedItem(sku="MATCHA-KYOTO-100", quantity=3, condition=ItemCondition.UNUSED),
            ),
            received_at=datetime(2026, 4, 9, 2, 0, tzinfo=UTC),
        ),
        CustomerRegistered(
            **_ACCOUNT,
            last_name="Durand",
            sealed_verification_url=_sealed(
                VERIFICATION_URL, LinkPurpose.EMAIL_VERIFICATION, _ACCOUNT["email"]
            ),
            verification_expires_at=datetime(2026, 3, 3, 9, 14, tzinfo=UTC),
        ),
        CustomerUpdated(
            **_ACCOUNT,
            last_name="Durand",
            billing_address=_ADDRESS,
            changed_fields=(CustomerField.EMAIL,),
            previous_email="camille.d@example.org",
        ),
        EmailChangeRequested(
            **_ACCOUNT,
            new_email="camille.durand@example.com",
            sealed_confirmation_url=_sealed(
                EMAIL_CHANGE_URL, LinkPurpose.EMAIL_CHANGE, "camille.durand@example.com"
            ),
            expires_at=datetime(2026, 3, 3, 9, 14, tzinfo=UTC),
        ),
        PasswordResetRequested(
            **_ACCOUNT,
            sealed_reset_url=_sealed(RESET_URL, LinkPurpose.PASSWORD_RESET, _ACCOUNT["email"]),
            expires_at=datetime(2026, 3, 2, 10, 14, tzinfo=UTC),
        ),
        CustomerErasureRequested(
            **_ACCOUNT, requested_at=_AT, requested_by=ErasureRequestedBy.CUSTOMER_SERVICE
        ),
        CustomerErased(**_ACCOUNT, erased_at=datetime(2026, 3, 10, 6, 31, tzinfo=UTC)),
        EmailVerificationRequested(
            **_ACCOUNT,
            sealed_verification_url=_sealed(
                VERIFICATION_URL, LinkPurpose.EMAIL_VERIFICATION, _ACCOUNT["email"]
            ),
            expires_at=datetime(2026, 3, 3, 9, 14, tzinfo=UTC),
        ),
        CustomerEmailVerified(
            **_ACCOUNT,
            verified_at=datetime(2026, 3, 2, 9, 20, tzinfo=UTC),
            proof=EmailProof.VERIFICATION_LINK,
        ),
        EmailChangeRequestedV1(
            **_ACCOUNT,
            new_email="camille.durand@example.com",
            confirmation_url=EMAIL_CHANGE_URL,
            expires_at=datetime(2026, 3, 3, 9, 14, tzinfo=UTC),
        ),
        PasswordResetRequestedV1(
            **_ACCOUNT,
            reset_url=RESET_URL,
            expires_at=datetime(2026, 3, 2, 10, 14, tzinfo=UTC),
        ),
    ]
    by_class = {type(event): event for event in examples}
    missing = [cls.__name__ for cls in ALL_EVENTS if cls not in by_class]
    if missing:  # pragma: no cover - caught by the tests
        raise RuntimeError(f"no example for {missing}")
    return by_class


_EXAMPLES = _examples()


def example(event: type[E]) -> E:
    """A realistic, valid instance of ``event``."""
    return _EXAMPLES[event]  # type: ignore[return-value]


def example_envelope(event: type[E]) -> Envelope[E]:
    """``example(event)`` in an envelope with fixed ids and time."""
    payload = example(event)
    return Envelope.wrap(
        payload,
        correlation_id=EXAMPLE_CORRELATION_ID,
        event_id=UUID(int=ALL_EVENTS.index(event) + 1),
        occurred_at=datetime(2026, 3, 2, 9, 14, 6, tzinfo=UTC),
    )

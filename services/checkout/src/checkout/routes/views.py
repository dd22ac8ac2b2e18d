"""HTTP answers (every field described in the OpenAPI document) and how an order is shown."""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

from jg_events import Address, Money, PaymentMethodType, Totals, VatRate
from pydantic import BaseModel, Field, JsonValue

from checkout.domain import (
    STATUS_LABELS,
    Order,
    Product,
    ProductCategory,
    ShippingOption,
    Status,
    TimelineEntry,
)

# --- Responses -------------------------------------------------------------------------------


class FieldError(BaseModel):
    field: str = Field(description="Dotted path of the field, e.g. 'lines.0.sku'.")
    code: str = Field(description="Machine code, e.g. 'unknown_sku', 'quantity_out_of_range'.")
    message: str = Field(description="Reason, in French, readable by the customer.")


class ErrorResponse(BaseModel):
    code: str = Field(description="Machine code of the error, e.g. 'invalid_request'.")
    message: str = Field(description="Readable reason, in French.")
    errors: list[FieldError] = Field(
        default_factory=list, description="Per-field reasons (validation errors)."
    )


class ProductOut(BaseModel):
    sku: str = Field(description="Catalogue reference.")
    name: str = Field(description="Product name in French.")
    price: Money = Field(description="Price TTC in euros.")
    category: ProductCategory = Field(
        description="'tea' or 'food' (VAT 5.5 %, CGI 278-0 bis A) or 'other' (VAT 20 %)."
    )
    vat_rate: VatRate = Field(description="VAT rate in percent, the category's rate.")
    on_sale: bool = Field(
        description="On sale ('produit soldé'): excluded from goodwill returns/exchanges."
    )


class ShippingMethodOut(BaseModel):
    code: str = Field(description="Code to send in POST /orders.")
    label: str = Field(description="French label.")
    price: Money = Field(description="Price TTC in euros.")
    vat_rate: VatRate = Field(
        description="Nominal VAT rate in percent. An order's shipping follows its goods' rates "
        "(split pro rata, see totals.vat_breakdown)."
    )
    transit_days_min: int = Field(description="Shortest transit from Japan, in days.")
    transit_days_max: int = Field(description="Longest transit from Japan, in days.")


class LineOut(BaseModel):
    sku: str = Field(description="Catalogue reference.")
    name: str = Field(description="Product name in French.")
    quantity: int = Field(description="Number of items.")
    unit_price: Money = Field(description="Price of one item TTC, as sold.")
    vat_rate: VatRate = Field(description="VAT rate in percent.")
    line_total: Money = Field(description="unit_price x quantity, TTC.")
    on_sale: bool = Field(description="Bought on sale.")


class VatLineOut(BaseModel):
    rate: VatRate = Field(description="VAT rate in percent.")
    goods: Money = Field(description="Goods taxed at this rate, TTC.")
    shipping: Money = Field(
        description="Share of the shipping taxed at this rate, TTC (the shipping is split "
        "between the goods' rates pro rata of their amounts excluding VAT)."
    )
    total_incl_vat: Money = Field(description="Amount TTC taxed at this rate (goods + shipping).")
    total_excl_vat: Money = Field(description="Same amount excluding VAT (HT).")
    vat: Money = Field(description="VAT included at this rate.")


class TotalsOut(BaseModel):
    subtotal: Money = Field(description="Sum of the lines, TTC.")
    shipping: Money = Field(description="Shipping, TTC.")
    total: Money = Field(description="Amount to pay, TTC.")
    vat: Money = Field(description="VAT included in the total.")
    total_excl_vat: Money = Field(description="Total excluding VAT (HT).")
    vat_breakdown: list[VatLineOut] = Field(
        description="VAT per rate, sorted by rate (empty for an order priced before the "
        "shipping followed the goods' rates)."
    )


class ShippingOut(BaseModel):
    code: str = Field(description="Shipping method code.")
    label: str = Field(description="French label.")
    price: Money = Field(description="Price paid TTC.")
    vat_rate: VatRate = Field(
        description="Nominal VAT rate in percent; the shipping's VAT follows the goods' rates "
        "(see totals.vat_breakdown)."
    )


class CustomerOut(BaseModel):
    customer_id: UUID | None = Field(description="Account id; null for a guest.")
    email: str = Field(description="Email the order's emails go to.")
    first_name: str = Field(description="First name.")
    last_name: str = Field(description="Last name.")


class NextActionOut(BaseModel):
    type: str = Field(description="Stripe's next_action type, e.g. 'redirect_to_url'.")
    url: str = Field(description="Where the customer completes the 3-D Secure authentication.")


class PaymentOut(BaseModel):
    method_type: PaymentMethodType = Field(description="'card' or 'revolut_pay'.")
    authorized: bool = Field(description="True when the current total is authorised (held).")
    next_action: NextActionOut | None = Field(
        description="The 3-D Secure step the customer must complete, if any."
    )
    payment_intent_id: str | None = Field(
        default=None,
        description="While an authentication is pending: the Stripe PaymentIntent to "
        "authenticate ('pi_...'); null otherwise.",
    )
    client_secret: str | None = Field(
        default=None,
        description="While an authentication is pending: the PaymentIntent's client secret, "
        "for Stripe.js (stripe.handleNextAction({clientSecret})); only in the answers to the "
        "order's owner (its customer's token, or the storefront acting for its guest), null "
        "otherwise. Never put it in a URL or a log.",
    )
    refusal_reason: str | None = Field(
        description="Why the payment was refused ('insufficient_funds', ...), if it was."
    )


class DeliveryOut(BaseModel):
    earliest: date = Field(description="Earliest expected delivery date.")
    latest: date = Field(description="Latest expected delivery date.")


class TrackingOut(BaseModel):
    carrier: str = Field(description="Carrier code, e.g. 'japan_post_ems'.")
    tracking_number: str = Field(description="Carrier's tracking number.")
    tracking_url: str = Field(description="Public tracking page ('suivre mon colis').")


class CancellationOut(BaseModel):
    reason: str = Field(description="'customer_request', 'payment_not_completed', ...")
    cancelled_by: str = Field(description="'customer', 'customer_service' or 'system'.")
    note: str | None = Field(description="Free text, if any.")
    at: datetime = Field(description="When the order was cancelled (UTC).")


class TimelineEntryOut(BaseModel):
    at: datetime = Field(description="When it happened (UTC).")
    kind: str = Field(description="Machine kind: 'placed', 'confirmed', 'shipped', ...")
    label: str = Field(description="What happened, in French.")


# The statuses, from the domain, as a plain string enumeration in OpenAPI.
STATUS_VALUES: list[JsonValue] = [s.value for s in Status]


class OrderOut(BaseModel):
    id: UUID = Field(description="Order id (use it in /orders/{id}).")
    number: str = Field(description="Human order number, e.g. 'JG-2026-000123'.")
    status: str = Field(
        description="Where the order is in its life.", json_schema_extra={"enum": STATUS_VALUES}
    )
    status_label: str = Field(description="The status in French.")
    revision: int = Field(description="0 when placed, +1 per modification.")
    modifiable: bool = Field(description="PATCH is accepted now.")
    cancellable: bool = Field(description="POST /orders/{id}/cancel is accepted now.")
    placed_at: datetime = Field(description="When the order was placed (UTC).")
    confirmed_at: datetime | None = Field(description="When the payment was authorised (UTC).")
    modifiable_until: datetime | None = Field(
        description="End of the modification window (release time), once confirmed (UTC)."
    )
    released_at: datetime | None = Field(description="When it was handed to logistics (UTC).")
    customer: CustomerOut = Field(description="Who placed the order.")
    lines: list[LineOut] = Field(description="Products ordered.")
    totals: TotalsOut = Field(description="Amounts TTC, VAT included and shown.")
    shipping_method: ShippingOut = Field(description="Chosen shipping method.")
    shipping_address: Address = Field(description="Where the parcel goes.")
    billing_address: Address = Field(description="Invoice address.")
    payment: PaymentOut = Field(description="Payment state.")
    delivery_estimate: DeliveryOut | None = Field(
        description="10 to 15 business days from validation, French public holidays excluded."
    )
    tracking: TrackingOut | None = Field(description="Parcel tracking, once shipped.")
    cancellation: CancellationOut | None = Field(description="Set when the order was cancelled.")
    timeline: list[TimelineEntryOut] = Field(description="What happened and when, oldest first.")


def order_view(order: Order, entries: list[TimelineEntry]) -> OrderOut:
    """The order as the storefront shows it: status in French, totals, timeline..."""
    return OrderOut(
        id=order.id,
        number=order.number,
        status=order.status.value,
        status_label=STATUS_LABELS[order.status],
        revision=order.revision,
        modifiable=order.modifiable,
        cancellable=order.cancellable,
        placed_at=order.placed_at,
        confirmed_at=order.confirmed_at,
        modifiable_until=order.release_at if order.confirmed_at else None,
        released_at=order.released_at,
        customer=CustomerOut(**order.customer.model_dump()),
        lines=[LineOut(**line.model_dump()) for line in order.lines],
        totals=totals_view(order.totals),
        shipping_method=ShippingOut(**order.shipping_method.model_dump()),
        shipping_address=order.shipping_address,
        billing_address=order.billing_address,
        payment=payment_view(order),
        delivery_estimate=DeliveryOut(
            earliest=order.delivery.earliest, latest=order.delivery.latest
        )
        if order.delivery
        else None,
        tracking=TrackingOut(
            carrier=order.tracking.carrier,
            tracking_number=order.tracking.number,
            tracking_url=order.tracking.url,
        )
        if order.tracking
        else None,
        cancellation=CancellationOut(
            reason=order.cancellation.reason.value,
            cancelled_by=order.cancellation.cancelled_by.value,
            note=order.cancellation.note,
            at=order.cancellation.at,
        )
        if order.cancellation
        else None,
        timeline=[TimelineEntryOut(at=e.at, kind=e.kind, label=e.label) for e in entries],
    )


def product_view(product: Product) -> ProductOut:
    return ProductOut(
        sku=product.sku,
        name=product.name,
        price=product.price,
        category=product.category,
        vat_rate=product.vat_rate,
        on_sale=product.on_sale,
    )


def shipping_method_view(option: ShippingOption) -> ShippingMethodOut:
    return ShippingMethodOut(
        code=option.code,
        label=option.label,
        price=option.price,
        vat_rate=option.vat_rate,
        transit_days_min=option.transit_days_min,
        transit_days_max=option.transit_days_max,
    )


def totals_view(totals: Totals) -> TotalsOut:
    return TotalsOut(
        subtotal=totals.subtotal,
        shipping=totals.shipping,
        total=totals.total,
        vat=totals.vat,
        total_excl_vat=totals.total - totals.vat,
        vat_breakdown=[
            VatLineOut(
                rate=v.rate,
                goods=v.goods,
                shipping=v.shipping,
                total_incl_vat=v.total_incl_vat,
                total_excl_vat=v.total_excl_vat,
                vat=v.vat,
            )
            for v in totals.vat_breakdown
        ],
    )


def payment_view(order: Order) -> PaymentOut:
    """The payment's state; the 3-D Secure step while it is pending."""
    return PaymentOut(
        method_type=order.payment_method_type,
        authorized=order.amount_authorized,
        next_action=NextActionOut(type=order.next_action.type, url=order.next_action.url)
        if order.next_action
        else None,
        payment_intent_id=order.next_action.payment_intent_id if order.next_action else None,
        client_secret=order.next_action.client_secret if order.next_action else None,
        refusal_reason=order.refusal.reason if order.refusal else None,
    )

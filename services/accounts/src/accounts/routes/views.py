"""Shaping answers: the use cases' results as the API's response bodies."""

from __future__ import annotations

from typing import Any

from accounts import domain
from accounts.repository import HistoryOrder
from accounts.schemas import (
    Invoice,
    OrderDetail,
    OrderLineView,
    OrderSummary,
    Profile,
    TimelineEntry,
    Tokens,
    Tracking,
)
from accounts.settings import AccountsSettings
from accounts.usecases import my_orders
from accounts.usecases.common import AccountView
from accounts.usecases.sessions import IssuedTokens


def profile(view: AccountView) -> Profile:
    account = view.account
    return Profile(
        customer_id=account.id,
        customer_number=account.customer_number,
        email=account.email,
        first_name=account.first_name,
        last_name=account.last_name,
        billing_address=account.billing_address,
        pending_email=view.pending_email,
        email_verified=account.email_verified,
        created_at=account.created_at,
    )


def tokens(issued: IssuedTokens, settings: AccountsSettings) -> Tokens:
    return Tokens(
        access_token=issued.access_token,
        expires_in=settings.access_token_ttl_seconds,
        expires_at=issued.expires_at,
        refresh_token=issued.refresh_token,
        refresh_expires_at=issued.refresh_expires_at,
        session_id=issued.session_id,
        customer=profile(issued.customer),
    )


def _amount(content: dict[str, Any] | None, key: str) -> Any:
    return content["totals"][key] if content else None


def order_summary(order: HistoryOrder) -> OrderSummary:
    status = domain.OrderStatus(order.status)
    return OrderSummary(
        order_id=order.order_id,
        order_number=order.order_number,
        status=status,
        status_label=domain.STATUS_LABELS[status],
        placed_at=order.placed_at,
        total=_amount(order.content, "total"),
        tracking_url=order.tracking_url,
        invoice_count=order.invoice_count,
    )


def order_detail(detail: my_orders.OrderDetail, settings: AccountsSettings) -> OrderDetail:
    order = detail.order
    content = order.content
    status = domain.OrderStatus(order.status)
    tracking = (
        Tracking(
            carrier=order.carrier or "",
            tracking_number=order.tracking_number or "",
            tracking_url=order.tracking_url,
            shipped_at=order.shipped_at,
        )
        if order.tracking_url
        else None
    )
    return OrderDetail(
        order_id=order.order_id,
        order_number=order.order_number,
        status=status,
        status_label=domain.STATUS_LABELS[status],
        placed_at=order.placed_at,
        lines=[OrderLineView.model_validate(line) for line in content["lines"]] if content else [],
        subtotal=_amount(content, "subtotal"),
        shipping=_amount(content, "shipping"),
        total=_amount(content, "total"),
        shipping_method=content["shipping_method"] if content else None,
        delivery_estimate=order.delivery_estimate,
        tracking=tracking,
        delivered_at=order.delivered_at,
        withdrawal_deadline=order.withdrawal_deadline,
        invoices=[
            Invoice(
                invoice_number=i.invoice_number,
                kind=i.kind,
                corrects_invoice_number=i.corrects_invoice_number,
                issue_date=i.issue_date,
                total_incl_vat=i.total_incl_vat,
                download_url=domain.invoice_download_url(
                    settings.payment_public_url, i.download_path
                ),
            )
            for i in detail.invoices
        ],
        timeline=[
            TimelineEntry(
                at=t.at,
                step=domain.TimelineStep(t.step),
                label=domain.TIMELINE_LABELS[domain.TimelineStep(t.step)],
                detail=t.detail,
            )
            for t in detail.timeline
        ],
    )

"""HTTP routes: the storefront's order API and the catalogue it sells from."""

import hashlib
from collections.abc import Awaitable, Callable
from typing import Annotated, Any
from uuid import UUID, uuid4

from fastapi import APIRouter, Body, Depends, Header, Path, Response
from jg_events import Address, CancellationReason, CancelledBy, CustomerContact
from jg_messaging import ServiceRuntime
from jg_web import COUNTRY_NOT_DELIVERED, delivery_problem

from checkout import domain, repository, store
from checkout.api import (
    CancelOrderRequest,
    ErrorResponse,
    ModifyOrderRequest,
    OrderOut,
    PlaceOrderRequest,
    ProductOut,
    ShippingMethodOut,
    order_out,
)
from checkout.auth import AuthError, Principal
from checkout.domain import ConflictError, Order, OrderRejectedError, Problem, RequestedLine
from checkout.http import json_dumps
from checkout.settings import CheckoutSettings

_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorResponse, "description": "Missing or invalid bearer token."},
    404: {"model": ErrorResponse, "description": "No such order (or not yours)."},
    413: {"model": ErrorResponse, "description": "Body larger than the configured limit."},
    415: {"model": ErrorResponse, "description": "Body is not application/json."},
    422: {"model": ErrorResponse, "description": "Invalid request: per-field codes and reasons."},
}
_UNREADABLE = {
    400: {"model": ErrorResponse, "description": "Body is not readable JSON (not UTF-8)."}
}
_WINDOW_CLOSED = {
    409: {
        "model": ErrorResponse,
        "description": "The order can no longer change: order_released, order_cancelled, "
        "payment_refused, payment_pending (PATCH before confirmation) or revision_mismatch.",
    }
}


def _request_hash(request: PlaceOrderRequest) -> str:
    return hashlib.sha256(json_dumps(request.model_dump(mode="json")).encode()).hexdigest()


def _undelivered(address: Address, field: str, countries: tuple[str, ...]) -> list[Problem]:
    """The shop delivers (and invoices) only to CHECKOUT_COUNTRIES."""
    reason = delivery_problem(address.country_code, countries)
    return [Problem(f"{field}.country_code", COUNTRY_NOT_DELIVERED, reason)] if reason else []


def _bad_key(code: str, message: str) -> AuthError:
    return AuthError(400, code, message)


def _check_key(key: str | None) -> str:
    if key is None:
        raise _bad_key(
            "idempotency_key_required", "L'en-tête Idempotency-Key est obligatoire pour commander."
        )
    key = key.strip()
    if not 1 <= len(key) <= 255 or not key.isascii() or not key.isprintable():
        raise _bad_key(
            "invalid_idempotency_key",
            "L'en-tête Idempotency-Key doit comporter 1 à 255 caractères ASCII imprimables.",
        )
    return key


def catalogue_router(runtime: ServiceRuntime, settings: CheckoutSettings) -> APIRouter:
    router = APIRouter(tags=["catalogue"])

    @router.get(
        "/catalogue", summary="Products on sale (prices TTC)", response_model=list[ProductOut]
    )
    async def catalogue() -> list[ProductOut]:
        async with runtime.pool.acquire() as conn:
            items = await repository.active_products(conn)
        return [
            ProductOut(
                sku=p.sku,
                name=p.name,
                price=p.price,
                category=p.category,
                vat_rate=p.vat_rate,
                on_sale=p.on_sale,
            )
            for p in items
        ]

    @router.get(
        "/shipping-methods",
        summary="Shipping methods offered",
        response_model=list[ShippingMethodOut],
    )
    async def shipping_methods() -> list[ShippingMethodOut]:
        return [ShippingMethodOut(**m.model_dump()) for m in settings.shipping_methods]

    return router


def orders_router(
    runtime: ServiceRuntime,
    settings: CheckoutSettings,
    authenticate: Callable[..., Awaitable[Principal]],
) -> APIRouter:
    router = APIRouter(tags=["orders"])
    options = settings.shipping_options()
    limits = settings.limits()
    Caller = Annotated[Principal, Depends(authenticate)]  # noqa: N806
    OrderId = Annotated[UUID, Path(description="Order id, as returned by POST /orders.")]  # noqa: N806

    async def view(order: Order) -> OrderOut:
        async with runtime.pool.acquire() as conn:
            entries = await repository.timeline(conn, order.id)
        return order_out(order, entries)

    async def replay(principal: Principal, key: str, request_hash: str) -> Order | None:
        async with runtime.pool.acquire() as conn:
            record = await repository.idempotency_record(conn, principal.idempotency_scope, key)
            if record is None:
                return None
            stored_hash, order_id = record
            if stored_hash != request_hash:
                raise OrderRejectedError(
                    [
                        Problem(
                            "Idempotency-Key",
                            "idempotency_key_reused",
                            "Cette clé d'idempotence a déjà servi pour une autre commande ; "
                            "utilisez une nouvelle clé pour une nouvelle commande.",
                        )
                    ]
                )
            return await repository.get_order(conn, order_id)

    @router.post(
        "/orders",
        status_code=201,
        response_model=OrderOut,
        summary="Place an order (the storefront does not wait for payment)",
        description="Requires `Authorization: Bearer <storefront token>` and an "
        "`Idempotency-Key` header. 201 with the new order; 200 with the same order when the "
        "same key and body are sent again; 422 `idempotency_key_reused` when the key was used "
        "with another body. Prices come from the catalogue only.",
        responses={
            200: {"model": OrderOut, "description": "Replay: the order created by this key."},
            400: {
                "model": ErrorResponse,
                "description": "Idempotency-Key missing or malformed, or a body that is not "
                "readable JSON (not UTF-8).",
            },
            403: {
                "model": ErrorResponse,
                "description": "A customer's token with another customer's id in the contact.",
            },
            **_ERRORS,
        },
    )
    async def place_order(
        request: PlaceOrderRequest,
        principal: Caller,
        response: Response,
        idempotency_key: Annotated[
            str | None,
            Header(
                alias="Idempotency-Key",
                description="Required. Unique per order attempt (e.g. a UUID); a retry reuses it.",
            ),
        ] = None,
    ) -> OrderOut:
        key = _check_key(idempotency_key)
        request_hash = _request_hash(request)
        existing = await replay(principal, key, request_hash)
        if existing is not None:
            response.status_code = 200
            response.headers["Idempotent-Replayed"] = "true"
            return await view(existing)

        customer_id = request.contact.customer_id
        if principal.kind == "customer":
            if customer_id is not None and customer_id != principal.customer_id:
                raise AuthError(403, "forbidden", "Ce compte client ne correspond pas au jeton.")
            customer_id = principal.customer_id
        async with runtime.pool.acquire() as conn:
            catalogue = await repository.products(conn, {line.sku for line in request.lines})
        problems: list[Problem] = []
        lines: tuple[Any, ...] = ()
        try:
            lines = domain.price_lines(
                [RequestedLine(line.sku, line.quantity) for line in request.lines],
                catalogue,
                limits,
            )
        except OrderRejectedError as exc:
            problems += exc.problems
        shipping = None
        try:
            shipping = domain.select_shipping(request.shipping_method, options, "shipping_method")
        except OrderRejectedError as exc:
            problems += exc.problems
        shipping_address = request.shipping_address.to_address()
        billing_address = request.billing_address.to_address()
        problems += domain.check_address(shipping_address, "shipping_address")
        problems += domain.check_address(billing_address, "billing_address")
        problems += _undelivered(shipping_address, "shipping_address", settings.countries)
        problems += _undelivered(billing_address, "billing_address", settings.countries)
        if problems or shipping is None:
            raise OrderRejectedError(problems)

        order_id = uuid4()
        async with runtime.messaging.transaction() as uow:
            claimed = await repository.claim_idempotency_key(
                uow.conn, principal.idempotency_scope, key, request_hash, order_id
            )
            if claimed:
                outcome = domain.place(
                    order_id=order_id,
                    sequence_value=await repository.next_order_sequence(uow.conn),
                    customer=CustomerContact(
                        customer_id=customer_id,
                        email=request.contact.email,
                        first_name=request.contact.first_name,
                        last_name=request.contact.last_name,
                    ),
                    lines=lines,
                    shipping=shipping,
                    shipping_address=shipping_address,
                    billing_address=billing_address,
                    payment_method_type=request.payment.type,
                    stripe_payment_method_id=request.payment.stripe_payment_method_id,
                    now=domain.utcnow(),
                    correlation_id=uow.correlation_id,
                )
                order = await store.save(uow, outcome, new=True)
        if not claimed:  # a twin request with this key committed first
            existing = await replay(principal, key, request_hash)
            assert existing is not None
            response.status_code = 200
            response.headers["Idempotent-Replayed"] = "true"
            return await view(existing)
        assert order is not None
        response.headers["Location"] = f"/orders/{order.id}"
        return await view(order)

    async def readable(conn: Any, principal: Principal, order_id: UUID, lock: bool) -> Order:
        order = await repository.get_order(conn, order_id, for_update=lock)
        if order is None or not principal.may_read(order.customer.customer_id):
            raise AuthError(404, "order_not_found", "Commande introuvable.")
        return order

    @router.get(
        "/orders/{order_id}",
        response_model=OrderOut,
        summary="Read an order: status, timeline, lines, totals, addresses, tracking",
        description="Storefront token, or the order's own customer token (once accounts' "
        "tokens are accepted).",
        responses=_ERRORS,
    )
    async def get_order(order_id: OrderId, principal: Caller) -> OrderOut:
        async with runtime.pool.acquire() as conn:
            order = await readable(conn, principal, order_id, lock=False)
        return await view(order)

    @router.patch(
        "/orders/{order_id}",
        response_model=OrderOut,
        summary="Modify an order before it is released",
        description="Addresses, shipping method, quantities of the lines (0 removes a line). "
        "Accepted while the order is confirmed and not yet released; a change of the total "
        "needs a new payment authorisation before release (OrderModified).",
        responses={**_ERRORS, **_UNREADABLE, **_WINDOW_CLOSED},
    )
    async def modify_order(
        order_id: OrderId, request: ModifyOrderRequest, principal: Caller
    ) -> OrderOut:
        problems: list[Problem] = []
        shipping = None
        if request.shipping_method is not None:
            try:
                shipping = domain.select_shipping(
                    request.shipping_method, options, "shipping_method"
                )
            except OrderRejectedError as exc:
                problems += exc.problems
        shipping_address = (
            request.shipping_address.to_address() if request.shipping_address else None
        )
        billing_address = request.billing_address.to_address() if request.billing_address else None
        if shipping_address:
            problems += domain.check_address(shipping_address, "shipping_address")
            problems += _undelivered(shipping_address, "shipping_address", settings.countries)
        if billing_address:
            problems += domain.check_address(billing_address, "billing_address")
            problems += _undelivered(billing_address, "billing_address", settings.countries)
        quantities = None
        if request.lines is not None:
            quantities = {}
            for index, line in enumerate(request.lines):
                if line.sku in quantities:
                    problems.append(
                        Problem(f"lines.{index}.sku", "duplicate_sku", "Article en double.")
                    )
                quantities[line.sku] = line.quantity
        if problems:
            raise OrderRejectedError(problems)
        change = domain.Modification(
            shipping_address=shipping_address,
            billing_address=billing_address,
            shipping=shipping,
            quantities=quantities,
        )
        async with runtime.messaging.transaction() as uow:
            order = await readable(uow.conn, principal, order_id, lock=True)
            if (
                request.expected_revision is not None
                and request.expected_revision != order.revision
            ):
                raise ConflictError(
                    "revision_mismatch",
                    f"La commande a changé entre-temps (révision {order.revision}, "
                    f"{request.expected_revision} attendue) : relisez-la avant de la modifier.",
                )
            outcome = domain.modify(order, change, limits=limits, now=domain.utcnow())
            order = await store.save(uow, outcome) or order
        return await view(order)

    @router.post(
        "/orders/{order_id}/cancel",
        response_model=OrderOut,
        summary="Cancel an order before it is released",
        description="Accepted until release (before or after payment authorisation). "
        "Cancelling a cancelled order again answers 200 and changes nothing. Publishes "
        "OrderCancelled: payment releases the hold, nothing is captured.",
        responses={**_ERRORS, **_UNREADABLE, **_WINDOW_CLOSED},
    )
    async def cancel_order(
        order_id: OrderId,
        principal: Caller,
        request: Annotated[CancelOrderRequest | None, Body()] = None,
    ) -> OrderOut:
        async with runtime.messaging.transaction() as uow:
            order = await readable(uow.conn, principal, order_id, lock=True)
            outcome = domain.cancel(
                order,
                reason=CancellationReason.CUSTOMER_REQUEST,
                cancelled_by=CancelledBy.CUSTOMER,
                note=request.note if request else None,
                now=domain.utcnow(),
            )
            order = await store.save(uow, outcome) or order
        return await view(order)

    return router

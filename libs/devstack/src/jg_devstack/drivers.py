"""Thin clients of the platform's public interfaces, as its outside world uses them.

Used by the end-to-end tests and by the demo; each one speaks only what the real party sees:

- :class:`Storefront`: checkout's HTTP API with the storefront's token (or a customer's token);
- :class:`StripeJs`: the Stripe stand-in (localstripe) as Stripe.js and the storefront backend
  call it: card PaymentMethods, the 3-D Secure step;
- :class:`Mailbox`: Mailpit's REST API, one recipient at a time;
- :class:`LogisticsTeam`: the logistics team in Japan on Kafka (reads ``jg.logistics.requests``,
  writes ``jg.logistics.reports``);
- :class:`Accounts`: the customer space; :class:`Fulfillment`: returns, claims, stock operations.

Waiting is always polling with a deadline (:func:`eventually`), never a fixed sleep.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar
from urllib.parse import parse_qs, urlsplit

import httpx

T = TypeVar("T")

JsonDict = dict[str, Any]


async def eventually(
    probe: Callable[[], Awaitable[T]],
    until: Callable[[T], bool] = bool,
    what: str = "the condition",
    *,
    timeout: float = 30.0,
    interval: float = 0.2,
) -> T:
    """Call ``probe`` until ``until(value)`` holds (by default: until it returns something
    truthy); fail with ``what`` and the last value. Tests poll with it instead of sleeping."""
    deadline = time.monotonic() + timeout
    while True:
        value = await probe()
        if until(value):
            return value
        if time.monotonic() > deadline:
            raise AssertionError(
                f"timed out after {timeout:.0f}s waiting for {what}; last: {value!r}"
            )
        await asyncio.sleep(interval)


def plain(text: str) -> str:
    """French typography's no-break spaces (U+00A0, U+202F) as ordinary spaces, CRLF as LF."""
    return text.replace("\u00a0", " ").replace("\u202f", " ").replace("\r\n", "\n")


def euros(amount: str | Any) -> str:
    """``"24.90"`` as a French reader sees it: ``"24,90 €"`` (after :func:`plain`)."""
    from decimal import Decimal

    value = Decimal(str(amount)).quantize(Decimal("0.01"))
    whole, cents = f"{value:.2f}".split(".")
    groups = f"{int(whole):,}".replace(",", " ")
    return f"{groups},{cents} €"


def unique_email(first_name: str = "camille") -> str:
    """An address nobody else uses: each journey reads only its own emails."""
    return f"{first_name.lower()}.{uuid.uuid4().hex[:12]}@example.fr"


def address(first_name: str, last_name: str, **changes: str) -> JsonDict:
    base: JsonDict = {
        "first_name": first_name,
        "last_name": last_name,
        "line1": "12 rue des Lilas",
        "line2": "Bâtiment B",
        "postal_code": "69003",
        "city": "Lyon",
        "country_code": "FR",
        "phone": "+33612345678",
    }
    return base | changes


def order_request(
    email: str,
    lines: Sequence[tuple[str, int]],
    payment_method_id: str,
    *,
    first_name: str = "Camille",
    last_name: str = "Durand",
    customer_id: str | None = None,
    shipping_method: str = "standard",
    payment_type: str = "card",
    billing: JsonDict | None = None,
) -> JsonDict:
    """The body of ``POST /orders`` the storefront sends."""
    return {
        "contact": {
            "email": email,
            "first_name": first_name,
            "last_name": last_name,
            "customer_id": customer_id,
        },
        "lines": [{"sku": sku, "quantity": quantity} for sku, quantity in lines],
        "shipping_address": address(first_name, last_name),
        "billing_address": billing
        or address(first_name, last_name, line1="3 place Bellecour", line2="", postal_code="69002"),
        "shipping_method": shipping_method,
        "payment": {"type": payment_type, "stripe_payment_method_id": payment_method_id},
    }


def _clean(body: JsonDict) -> JsonDict:
    """Drop empty optional strings (line2) the API would refuse."""
    for key in ("shipping_address", "billing_address"):
        if key in body and isinstance(body[key], dict):
            body[key] = {k: v for k, v in body[key].items() if v != ""}
    return body


class Storefront:
    """Checkout's HTTP API, as the storefront (or a logged-in customer) calls it."""

    def __init__(self, base_url: str, token: str) -> None:
        self.http = httpx.AsyncClient(
            base_url=base_url, timeout=15.0, headers={"Authorization": f"Bearer {token}"}
        )

    def as_customer(self, access_token: str) -> Storefront:
        return Storefront(str(self.http.base_url), access_token)

    async def close(self) -> None:
        await self.http.aclose()

    async def catalogue(self) -> list[JsonDict]:
        response = await self.http.get("/catalogue")
        response.raise_for_status()
        result: list[JsonDict] = response.json()
        return result

    async def place(self, body: JsonDict, *, key: str | None = None) -> httpx.Response:
        return await self.http.post(
            "/orders", json=_clean(body), headers={"Idempotency-Key": key or str(uuid.uuid4())}
        )

    async def place_ok(self, body: JsonDict) -> JsonDict:
        response = await self.place(body)
        if response.status_code != 201:
            raise AssertionError(f"order refused: {response.status_code} {response.text}")
        result: JsonDict = response.json()
        return result

    async def order(self, order_id: str) -> JsonDict:
        response = await self.http.get(f"/orders/{order_id}")
        response.raise_for_status()
        result: JsonDict = response.json()
        return result

    async def wait_status(self, order_id: str, *statuses: str, timeout: float = 30.0) -> JsonDict:
        return await eventually(
            lambda: self.order(order_id),
            lambda o: o["status"] in statuses,
            f"order {order_id} to be {' or '.join(statuses)}",
            timeout=timeout,
        )

    async def modify(self, order_id: str, changes: JsonDict) -> httpx.Response:
        return await self.http.patch(f"/orders/{order_id}", json=_clean(changes))

    async def cancel(self, order_id: str, note: str | None = None) -> httpx.Response:
        return await self.http.post(
            f"/orders/{order_id}/cancel", json={"note": note} if note else {}
        )


class StripeJs:
    """localstripe, called as Stripe.js (card details never reach our servers) and the
    storefront backend (reading an intent's client secret for the 3-D Secure step) call Stripe."""

    VISA = "4242424242424242"
    DECLINED = "4000000000000341"  # attaches, then the charge is declined (card_declined)
    THREE_D_SECURE = "4000002500003155"

    def __init__(self, base_url: str, secret_key: str) -> None:
        self.http = httpx.AsyncClient(
            base_url=base_url, timeout=15.0, headers={"Authorization": f"Bearer {secret_key}"}
        )

    async def close(self) -> None:
        await self.http.aclose()

    async def _post(self, path: str, data: dict[str, str]) -> JsonDict:
        response = await self.http.post(path, data=data)
        if response.status_code >= 400:
            raise AssertionError(f"Stripe {path}: {response.status_code} {response.text}")
        result: JsonDict = response.json()
        return result

    async def card(self, number: str = VISA) -> str:
        """A card PaymentMethod id (``pm_...``), as Stripe.js creates it from the card form."""
        pm = await self._post(
            "/v1/payment_methods",
            {
                "type": "card",
                "card[number]": number,
                "card[exp_month]": "12",
                "card[exp_year]": str(datetime.now(UTC).year + 3),
                "card[cvc]": "123",
            },
        )
        return str(pm["id"])

    async def sepa_debit(self) -> str:
        """A SEPA Direct Debit PaymentMethod: not a card, so refused on a card order."""
        pm = await self._post(
            "/v1/payment_methods",
            {
                "type": "sepa_debit",
                "sepa_debit[iban]": "FR1420041010050500013M02606",
                "billing_details[name]": "Camille Durand",
                "billing_details[email]": "camille@example.fr",
            },
        )
        return str(pm["id"])

    async def intent(self, intent_id: str) -> JsonDict:
        response = await self.http.get(f"/v1/payment_intents/{intent_id}")
        response.raise_for_status()
        result: JsonDict = response.json()
        return result

    async def authenticate(self, intent_id: str, *, success: bool) -> JsonDict:
        """The customer passes (or fails) the bank's 3-D Secure challenge."""
        intent = await self.intent(intent_id)
        return await self._post(
            f"/v1/payment_intents/{intent_id}/_authenticate",
            {
                "client_secret": str(intent["client_secret"]),
                "success": "true" if success else "false",
            },
        )

    async def handle_next_action(
        self, client_secret: str, *, success: bool, publishable_key: str = "pk_test_jgdevstack"
    ) -> JsonDict:
        """The customer's browser finishing 3-D Secure as Stripe.js does with
        ``stripe.handleNextAction({clientSecret})``: only the client secret the order gave and
        the publishable key, never the secret key (localstripe's Stripe.js stand-in posts to
        ``_authenticate``; the real one opens the bank's challenge)."""
        intent_id = client_secret.split("_secret_", 1)[0]
        async with httpx.AsyncClient(base_url=str(self.http.base_url), timeout=15.0) as browser:
            response = await browser.post(
                f"/v1/payment_intents/{intent_id}/_authenticate",
                params={"success": "true" if success else "false"},
                json={"key": publishable_key, "client_secret": client_secret},
            )
        if response.status_code >= 400:
            raise AssertionError(f"Stripe.js: {response.status_code} {response.text}")
        result: JsonDict = response.json()
        return result

    async def authorise_without_order(self, amount_cents: int, metadata: dict[str, str]) -> str:
        """Money held at Stripe that no order explains (e.g. a storefront that crashed after
        confirming the payment but before placing the order)."""
        pm = await self.card()
        data = {
            "amount": str(amount_cents),
            "currency": "eur",
            "payment_method": pm,
            "payment_method_types[]": "card",
            "capture_method": "manual",
            "confirm": "true",
        }
        data |= {f"metadata[{k}]": v for k, v in metadata.items()}
        intent = await self._post("/v1/payment_intents", data)
        return str(intent["id"])


def received_at(message: JsonDict) -> datetime:
    """When Mailpit received a message, as a time (its text drops trailing zeros of the
    fraction, so ``…00.12Z`` would sort after ``…00.123Z`` as text)."""
    return datetime.fromisoformat(str(message["Created"]))


def intent_id_from(next_action_url: str) -> str:
    """The PaymentIntent id the storefront's authentication page is given."""
    query = parse_qs(urlsplit(next_action_url).query)
    return query["payment_intent"][0]


class Mailbox:
    """Mailpit's REST API: what a customer finds in their inbox."""

    def __init__(self, api_url: str) -> None:
        self.http = httpx.AsyncClient(base_url=api_url, timeout=15.0)

    async def close(self) -> None:
        await self.http.aclose()

    async def inbox(self, recipient: str) -> list[JsonDict]:
        """Summaries of the messages to ``recipient``, oldest first."""
        response = await self.http.get(
            "/api/v1/search", params={"query": f'to:"{recipient}"', "limit": 100}
        )
        response.raise_for_status()
        messages: list[JsonDict] = response.json()["messages"]
        exact = [
            m
            for m in messages
            if any(to.get("Address", "").lower() == recipient.lower() for to in m.get("To") or [])
        ]
        return sorted(exact, key=received_at)

    async def message(self, message_id: str) -> JsonDict:
        response = await self.http.get(f"/api/v1/message/{message_id}")
        response.raise_for_status()
        result: JsonDict = response.json()
        return result

    async def attachment(self, message_id: str, part_id: str) -> bytes:
        response = await self.http.get(f"/api/v1/message/{message_id}/part/{part_id}")
        response.raise_for_status()
        return response.content

    async def wait_for(
        self, recipient: str, subject_contains: str, *, timeout: float = 30.0
    ) -> JsonDict:
        """The first email to ``recipient`` whose subject contains the text (full message)."""

        def matching(messages: list[JsonDict]) -> list[JsonDict]:
            wanted = subject_contains.lower()
            return [m for m in messages if wanted in str(m.get("Subject", "")).lower()]

        messages = await eventually(
            lambda: self.inbox(recipient),
            lambda found: bool(matching(found)),
            f"an email « {subject_contains} » to {recipient}",
            timeout=timeout,
        )
        return await self.message(str(matching(messages)[0]["ID"]))

    async def subjects(self, recipient: str) -> list[str]:
        return [str(m.get("Subject", "")) for m in await self.inbox(recipient)]


class LogisticsTeam:
    """The logistics team in Japan: reads its pick lists, reports parcels and stock on Kafka."""

    def __init__(self, bootstrap_servers: str, topic_prefix: str = "") -> None:
        from jg_events import Topic, topic_name

        self.bootstrap = bootstrap_servers
        self.requests_topic = topic_name(Topic.LOGISTICS_REQUESTS, topic_prefix)
        self.reports_topic = topic_name(Topic.LOGISTICS_REPORTS, topic_prefix)
        self.requests: list[Any] = []  # Envelope[OrderProcessing], as read
        self.report_timeout = 120.0  # how long a report is retried while Kafka is away
        self._consumer: Any = None
        self._producer: Any = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

        self._producer = AIOKafkaProducer(bootstrap_servers=self.bootstrap, acks="all")
        await self._producer.start()
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self.bootstrap,
            group_id=None,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
        )
        await consumer.start()
        deadline = time.monotonic() + 30
        partitions = consumer.partitions_for_topic(self.requests_topic)
        while not partitions:
            if time.monotonic() > deadline:
                await consumer.stop()
                raise RuntimeError(f"topic {self.requests_topic} not found")
            await consumer._client.force_metadata_update()
            await asyncio.sleep(0.2)
            partitions = consumer.partitions_for_topic(self.requests_topic)
        consumer.assign([TopicPartition(self.requests_topic, p) for p in sorted(partitions)])
        await consumer.seek_to_beginning()
        self._consumer = consumer
        self._task = asyncio.create_task(self._read())

    async def _read(self) -> None:
        from jg_events import parse

        while True:
            try:
                batch = await self._consumer.getmany(timeout_ms=200)
            except Exception:  # Kafka away (a chaos test): keep reading once it is back
                await asyncio.sleep(0.5)
                continue
            for records in batch.values():
                for record in records:
                    with contextlib.suppress(Exception):
                        self.requests.append(parse(record.value))

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._consumer is not None:
            await self._consumer.stop()
        if self._producer is not None:
            await self._producer.stop()

    def pick_lists(self, order_id: str) -> list[Any]:
        """Every OrderProcessing received for the order."""
        return [e for e in self.requests if str(e.payload.order_id) == order_id]

    async def wait_pick_list(self, order_id: str, *, count: int = 1, timeout: float = 30.0) -> Any:
        async def probe() -> list[Any]:
            return self.pick_lists(order_id)

        found = await eventually(
            probe,
            lambda lists: len(lists) >= count,
            f"{count} pick list(s) for order {order_id} on {self.requests_topic}",
            timeout=timeout,
            interval=0.1,
        )
        return found[count - 1]

    async def report(self, payload: Any, *, about: Any = None) -> None:
        """Publish a report (ParcelPickedUp...) in its envelope, with the contract's headers."""
        from jg_events import Envelope, kafka_headers

        if about is not None:
            envelope = Envelope.wrap(
                payload, correlation_id=about.correlation_id, causation_id=str(about.event_id)
            )
        else:
            envelope = Envelope.wrap(payload, correlation_id=f"logistics-{uuid.uuid4()}")
        deadline = time.monotonic() + self.report_timeout
        while True:
            try:
                await self._producer.send_and_wait(
                    self.reports_topic,
                    value=envelope.to_json_bytes(),
                    key=envelope.key.encode(),
                    headers=[(k, v.encode()) for k, v in kafka_headers(envelope).items()],
                )
                return
            except Exception:  # Kafka away: the same report again (consumers dedupe its id)
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.5)

    async def picked_up(
        self,
        pick_list: Any,
        tracking_number: str,
        *,
        carrier: str = "japan_post_ems",
        at: datetime | None = None,
    ) -> None:
        from jg_events import ParcelItem, ParcelPickedUp

        order = pick_list.payload
        await self.report(
            ParcelPickedUp(
                order_id=order.order_id,
                carrier=carrier,
                tracking_number=tracking_number,
                items=tuple(ParcelItem(sku=li.sku, quantity=li.quantity) for li in order.lines),
                picked_up_at=at or datetime.now(UTC),
            ),
            about=pick_list,
        )

    async def delivered(
        self, pick_list: Any, tracking_number: str, *, at: datetime | None = None
    ) -> None:
        from jg_events import ParcelDelivered

        await self.report(
            ParcelDelivered(
                order_id=pick_list.payload.order_id,
                tracking_number=tracking_number,
                delivered_at=at or datetime.now(UTC),
            ),
            about=pick_list,
        )

    async def replenished(self, sku: str, quantity: int) -> None:
        from jg_events import StockReplenished

        await self.report(
            StockReplenished(sku=sku, quantity_added=quantity, replenished_at=datetime.now(UTC))
        )


class Accounts:
    """Accounts' HTTP API: sign-up, login, the customer space, password reset, erasure."""

    def __init__(self, base_url: str) -> None:
        self.http = httpx.AsyncClient(base_url=base_url, timeout=15.0)

    async def close(self) -> None:
        await self.http.aclose()

    @staticmethod
    def bearer(token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}

    async def sign_up(
        self, email: str, password: str, first_name: str = "Camille", last_name: str = "Durand"
    ) -> JsonDict:
        response = await self.http.post(
            "/customers",
            json={
                "email": email,
                "password": password,
                "first_name": first_name,
                "last_name": last_name,
            },
        )
        if response.status_code != 201:
            raise AssertionError(f"sign-up refused: {response.status_code} {response.text}")
        result: JsonDict = response.json()
        return result

    async def login(self, email: str, password: str) -> httpx.Response:
        return await self.http.post("/login", json={"email": email, "password": password})

    async def me(self, token: str) -> httpx.Response:
        return await self.http.get("/me", headers=self.bearer(token))

    async def orders(self, token: str) -> JsonDict:
        response = await self.http.get("/me/orders", headers=self.bearer(token))
        response.raise_for_status()
        result: JsonDict = response.json()
        return result

    async def order(self, token: str, order_id: str) -> httpx.Response:
        return await self.http.get(f"/me/orders/{order_id}", headers=self.bearer(token))

    async def verify_email(self, link_token: str) -> httpx.Response:
        """Follow the link of the welcome (or « Confirmez votre adresse ») email."""
        return await self.http.post("/email-verification/confirm", json={"token": link_token})

    async def resend_verification(self, token: str) -> httpx.Response:
        return await self.http.post("/me/email-verification", headers=self.bearer(token))

    async def erase(self, token: str, password: str) -> httpx.Response:
        """« Supprimer mon compte », with the current password."""
        return await self.http.post(
            "/me/erasure", headers=self.bearer(token), json={"current_password": password}
        )


class Fulfillment:
    """Fulfillment's HTTP API: the customer's returns and claims, the operators' stock."""

    def __init__(self, base_url: str, operator_token: str, storefront_token: str) -> None:
        self.http = httpx.AsyncClient(base_url=base_url, timeout=15.0)
        self.operator = {"Authorization": f"Bearer {operator_token}"}
        self.storefront = {"Authorization": f"Bearer {storefront_token}"}

    def _as(self, token: str | None) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"} if token else self.storefront

    async def order(self, order_id: str, token: str | None = None) -> JsonDict:
        response = await self.http.get(f"/orders/{order_id}", headers=self._as(token))
        response.raise_for_status()
        result: JsonDict = response.json()
        return result

    async def withdraw(
        self,
        order_id: str,
        items: Sequence[tuple[str, int]] = (),
        *,
        items_unused: bool = True,
        token: str | None = None,
    ) -> httpx.Response:
        """The customer withdraws (``items`` empty: the whole order)."""
        return await self.http.post(
            f"/orders/{order_id}/returns",
            headers=self._as(token),
            json={
                "items": [{"sku": sku, "quantity": q} for sku, q in items],
                "items_unused": items_unused,
            },
        )

    async def claim(
        self,
        order_id: str,
        *,
        kind: str,
        order_number: str,
        items: Sequence[tuple[str, int]],
        photos: Sequence[tuple[str, bytes, str]],
        tracking_number: str | None = None,
        message: str | None = None,
        token: str | None = None,
    ) -> httpx.Response:
        """An after-sales claim (multipart form, photos as (file name, bytes, content type))."""
        import json

        data = {
            "kind": kind,
            "order_number": order_number,
            "items": json.dumps([{"sku": sku, "quantity": q} for sku, q in items]),
        }
        if tracking_number:
            data["tracking_number"] = tracking_number
        if message:
            data["message"] = message
        return await self.http.post(
            f"/orders/{order_id}/claims",
            headers=self._as(token),
            data=data,
            files=[("photos", photo) for photo in photos],
        )

    async def resolve_claim(
        self, claim_id: str, resolution: str, message: str, amount: str | None = None
    ) -> httpx.Response:
        body: JsonDict = {"resolution": resolution, "message": message}
        if amount is not None:
            body["amount"] = amount
        return await self.http.post(
            f"/operator/claims/{claim_id}/resolution", headers=self.operator, json=body
        )

    async def close(self) -> None:
        await self.http.aclose()

    async def stock(self, sku: str) -> JsonDict:
        response = await self.http.get(f"/operator/stock/{sku}", headers=self.operator)
        response.raise_for_status()
        result: JsonDict = response.json()
        return result

    async def count_stock(self, sku: str, on_hand: int, note: str) -> httpx.Response:
        """An inventory count: the warehouse has ``on_hand`` items of ``sku``."""
        current = await self.stock(sku)
        return await self.http.put(
            f"/operator/stock/{sku}",
            headers=self.operator,
            json={
                "name_fr": current["name_fr"],
                "name_ja": current.get("name_ja"),
                "name_romaji": current.get("name_romaji"),
                "on_hand": on_hand,
                "note": note,
            },
        )


CONFIRMED_OR_LATER = (
    "confirmed",
    "released",
    "backordered",
    "processing",
    "shipped",
    "delivered",
)


def tracking_number() -> str:
    """A Japan Post EMS-like tracking number nobody else uses."""
    import secrets

    return f"EE{secrets.randbelow(10**9):09d}JP"


class Shop:
    """The drivers together, with the steps many journeys share."""

    def __init__(
        self,
        storefront: Storefront,
        stripe: StripeJs,
        mailbox: Mailbox,
        logistics: LogisticsTeam,
        *,
        hand_off_timeout: float = 60.0,
    ) -> None:
        self.storefront = storefront
        self.stripe = stripe
        self.mailbox = mailbox
        self.logistics = logistics
        self.hand_off_timeout = hand_off_timeout

    async def paid_order(
        self,
        email: str,
        lines: Sequence[tuple[str, int]],
        *,
        as_customer: str | None = None,
        card: str = StripeJs.VISA,
        **details: Any,
    ) -> JsonDict:
        """A card order placed and confirmed (payment authorised); returns the order."""
        client = self.storefront.as_customer(as_customer) if as_customer else self.storefront
        try:
            pm = await self.stripe.card(card)
            placed = await client.place_ok(order_request(email, lines, pm, **details))
            return await client.wait_status(placed["id"], *CONFIRMED_OR_LATER)
        finally:
            if as_customer:
                await client.close()

    async def handed_off(self, order: JsonDict) -> Any:
        """The pick list (OrderProcessing) the logistics team receives for the order."""
        return await self.logistics.wait_pick_list(order["id"], timeout=self.hand_off_timeout)

    async def shipped(
        self, pick_list: Any, *, carrier: str = "japan_post_ems", at: datetime | None = None
    ) -> str:
        """The carrier picks the parcel up; returns its tracking number."""
        number = tracking_number()
        await self.logistics.picked_up(pick_list, number, carrier=carrier, at=at)
        return number

    async def delivered_order(
        self,
        email: str,
        lines: Sequence[tuple[str, int]],
        *,
        picked_up_at: datetime | None = None,
        delivered_at: datetime | None = None,
        **details: Any,
    ) -> tuple[JsonDict, Any, str]:
        """An order paid, handed off, shipped and delivered: (order, pick list, tracking)."""
        order = await self.paid_order(email, lines, **details)
        pick_list = await self.handed_off(order)
        number = await self.shipped(pick_list, at=picked_up_at)
        await self.logistics.delivered(pick_list, number, at=delivered_at)
        delivered = await self.storefront.wait_status(order["id"], "delivered")
        return delivered, pick_list, number


__all__ = [
    "CONFIRMED_OR_LATER",
    "Accounts",
    "Fulfillment",
    "LogisticsTeam",
    "Mailbox",
    "Shop",
    "Storefront",
    "StripeJs",
    "address",
    "euros",
    "eventually",
    "intent_id_from",
    "order_request",
    "plain",
    "tracking_number",
    "unique_email",
]

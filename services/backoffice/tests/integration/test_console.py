"""The console as a member uses it: signing in, the pages and their forms, the audit trail, a
service that is down, the dead letters copied from Kafka and replayed by a manager."""

from __future__ import annotations

import asyncio
import re
import uuid
from typing import Any

import asyncpg
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from jg_devstack import Endpoints
from jg_devstack.kafka_records import publish_raw
from jg_events import dead_letter_topic

from .conftest import (
    PASSWORD,
    STAFF_TOKEN_SECONDS,
    Console,
    closed_port,
    sign_in,
)

pytestmark = pytest.mark.integration

ORDER_ID = "0b5e6a55-9b0e-4f77-8f57-1f0a1a2b3c4d"
CLAIM_ID = "7d1e2f30-1111-4a2b-9c3d-5e6f7a8b9c0d"
PHOTO_ID = "8e2f3a41-2222-4b3c-8d4e-6f7a8b9c0d1e"
EMAIL_ID = 41


def _order(**changes: Any) -> dict[str, Any]:
    order = {
        "id": ORDER_ID,
        "number": "JG-2026-000123",
        "status": "delivered",
        "status_label": "Livrée",
        "cancellable": False,
        "modifiable_until": None,
        "placed_at": "2026-11-02T10:00:00Z",
        "customer": {"email": "camille@example.fr", "first_name": "Camille", "last_name": "Roux"},
        "lines": [
            {
                "sku": "NOREN-VAGUE-85",
                "name": "Noren vague",
                "quantity": 1,
                "unit_price": "34.90",
                "line_total": "34.90",
            }
        ],
        "totals": {"total": "34.90", "vat": "5.82"},
        "shipping_method": {"label": "EMS"},
        "timeline": [
            {"at": "2026-11-02T10:00:00Z", "kind": "placed", "label": "Commande passée"},
            {"at": "2026-11-12T08:00:00Z", "kind": "delivered", "label": "Commande livrée"},
        ],
    }
    return order | changes


def _serve_order(console: Console, **changes: Any) -> None:
    s = console.stand_ins
    s["checkout"].on(
        "GET",
        "/operator/orders",
        lambda r, m: (
            200,
            [
                {
                    "id": ORDER_ID,
                    "number": "JG-2026-000123",
                    "status": "delivered",
                    "status_label": "Livrée",
                    "email": "camille@example.fr",
                    "customer_name": "Camille Roux",
                    "placed_at": "2026-11-02T10:00:00Z",
                    "total": "34.90",
                }
            ],
        ),
    )
    s["checkout"].on("GET", f"/operator/orders/{ORDER_ID}", lambda r, m: (200, _order(**changes)))
    s["payment"].on(
        "GET",
        f"/operator/orders/{ORDER_ID}/payments",
        lambda r, m: (
            200,
            {
                "events": [{"at": "2026-11-02T10:00:05Z", "kind": "authorised", "amount": "34.90"}],
                "documents": [
                    {
                        "number": "F-2026-000001",
                        "kind": "invoice",
                        "amount": "34.90",
                        "issued_at": "2026-11-03T09:00:00Z",
                        "pdf_path": "/invoices/F-2026-000001.pdf",
                    }
                ],
            },
        ),
    )
    s["payment"].on("GET", "/invoices/F-2026-000001.pdf", lambda r, m: (200, b"%PDF-1.4 test"))
    s["fulfillment"].on(
        "GET",
        f"/operator/orders/{ORDER_ID}",
        lambda r, m: (
            200,
            {
                "handed_off_at": "2026-11-02T10:10:00Z",
                "parcels": [
                    {
                        "tracking_number": "EJ123456789JP",
                        "tracking_url": "https://trackings.post.japanpost.jp/EJ123456789JP",
                        "picked_up_at": "2026-11-03T08:00:00Z",
                    }
                ],
            },
        ),
    )
    s["notifications"].on(
        "GET",
        f"/operator/orders/{ORDER_ID}/emails",
        lambda r, m: (
            200,
            [
                {
                    "id": EMAIL_ID,
                    "template": "order_confirmed",
                    "status": "sent",
                    "subject": "Confirmation de votre commande JG-2026-000123",
                    "created_at": "2026-11-02T10:00:06Z",
                    "sent_at": "2026-11-02T10:00:07Z",
                    "last_error": None,
                }
            ],
        ),
    )


async def _audit(console: Console) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(console.settings.database_url.get_secret_value())
    try:
        return list(await conn.fetch("SELECT * FROM audit_trail ORDER BY id"))
    finally:
        await conn.close()


async def test_a_member_signs_in_and_the_staff_token_never_reaches_the_browser(
    console: Console,
) -> None:
    async with console.running() as client:
        assert (await client.get("/")).headers["location"] == "/connexion?suivant=%2F"
        wrong = await client.post(
            "/connexion", data={"email": "agent@japangoodz.test", "password": "nope"}
        )
        assert wrong.status_code == 401
        assert "Adresse e-mail ou mot de passe incorrect." in wrong.text
        assert "set-cookie" not in wrong.headers

        # the right password, posted by another site's page (login CSRF): no session
        forged = await client.post(
            "/connexion",
            data={"email": "agent@japangoodz.test", "password": PASSWORD},
            headers={"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"},
        )
        assert forged.status_code == 403
        assert "connectez-vous depuis la page de connexion" in forged.text
        assert "set-cookie" not in forged.headers

        right = await client.post(
            "/connexion",
            data={
                "email": "agent@japangoodz.test",
                "password": PASSWORD,
                "suivant": "//evil.example",
            },
        )
        assert right.status_code == 303
        assert right.headers["location"] == "/"  # never another site
        cookie = right.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=strict" in cookie
        assert "staff-token" not in cookie
        home = await client.get("/")
        assert "Hugo Agent" in home.text and "staff-token" not in home.text
        assert home.headers["content-security-policy"].startswith("default-src 'self'")


async def test_the_order_page_merges_the_services_and_a_service_down_is_said_politely(
    console: Console,
) -> None:
    _serve_order(console)
    down = f"http://127.0.0.1:{closed_port()}"
    async with console.running(notifications_url=down) as client:
        await sign_in(client, "agent@japangoodz.test")
        found = await client.get("/", params={"q": "camille@example.fr"})
        assert f'href="/commandes/{ORDER_ID}"' in found.text and "34,90\u00a0€" in found.text
        assert (
            console.stand_ins["checkout"].asked("GET", "/operator/orders?q=camille")[0][
                "authorization"
            ]
            == "Bearer staff-token-of-agent"
        )

        page = await client.get(f"/commandes/{ORDER_ID}")
        assert page.status_code == 200
        assert "Le service des e-mails ne répond pas pour le moment." in page.text
        titles = re.findall(r"<strong>(.*?)</strong>", page.text)
        assert titles == [
            "Commande passée",
            "Paiement autorisé",
            "Remise à la logistique",
            "Colis expédié EJ123456789JP",
            "Facture F-2026-000001",
            "Commande livrée",
        ]
        assert "https://trackings.post.japanpost.jp/EJ123456789JP" in page.text
        pdf = await client.get("/documents/F-2026-000001.pdf")  # proxied with the member's token
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
        assert (
            console.stand_ins["payment"].asked("GET", "/invoices/")[0]["authorization"]
            == "Bearer staff-token-of-agent"
        )


async def test_every_form_needs_the_sessions_csrf_token(console: Console) -> None:
    _serve_order(console, cancellable=True)
    cancels = console.stand_ins["checkout"]
    cancels.on("POST", f"/operator/orders/{ORDER_ID}/cancel", lambda r, m: (200, _order()))
    async with console.running() as client:
        csrf = await sign_in(client, "agent@japangoodz.test")
        forged = await client.post(
            f"/commandes/{ORDER_ID}/annulation", data={"note": "Demande par téléphone"}
        )
        assert forged.status_code == 403
        wrong = await client.post(
            f"/commandes/{ORDER_ID}/annulation", data={"note": "x", "csrf_token": csrf + "x"}
        )
        assert wrong.status_code == 403
        assert cancels.asked("POST", f"/operator/orders/{ORDER_ID}/cancel") == []

        done = await client.post(
            f"/commandes/{ORDER_ID}/annulation",
            data={"note": "Demande par téléphone", "csrf_token": csrf},
        )
        assert done.status_code == 303
        sent = cancels.asked("POST", f"/operator/orders/{ORDER_ID}/cancel")
        assert [r["body"] for r in sent] == [{"note": "Demande par téléphone"}]
        after = await client.get(done.headers["location"])
        assert "La commande est annulée." in after.text
    actions = [
        (r["actor"], r["action"], r["outcome"], r["order_id"]) for r in await _audit(console)
    ]
    assert ("agent@japangoodz.test", "cancel_order", "done", ORDER_ID) in actions


async def test_a_window_closed_is_said_in_the_services_words_and_recorded_as_refused(
    console: Console,
) -> None:
    _serve_order(console, cancellable=True)
    console.stand_ins["checkout"].on(
        "POST",
        f"/operator/orders/{ORDER_ID}/cancel",
        lambda r, m: (
            409,
            {
                "code": "window_closed",
                "message": "Le délai d’annulation de cette commande est passé.",
            },
        ),
    )
    async with console.running() as client:
        csrf = await sign_in(client, "agent@japangoodz.test")
        done = await client.post(
            f"/commandes/{ORDER_ID}/annulation", data={"note": "Demande", "csrf_token": csrf}
        )
        after = await client.get(done.headers["location"])
        assert "Le délai d’annulation de cette commande est passé." in after.text
    assert [r["outcome"] for r in await _audit(console) if r["action"] == "cancel_order"] == [
        "refused"
    ]


async def test_a_claim_is_resolved_with_its_photo_and_the_manager_reads_who_did_it(
    console: Console,
) -> None:
    claim = {
        "claim_id": CLAIM_ID,
        "order_id": ORDER_ID,
        "kind": "damaged_item",
        "status": "open",
        "items": [{"sku": "NOREN-VAGUE-85", "quantity": 1}],
        "message": "Le rideau est déchiré.",
        "opened_at": "2026-11-13T08:00:00Z",
        "photos": [{"photo_id": PHOTO_ID, "content_type": "image/png", "erased": False}],
    }
    f = console.stand_ins["fulfillment"]
    f.on("GET", "/operator/claims", lambda r, m: (200, [claim]))
    f.on("GET", f"/operator/claims/{CLAIM_ID}", lambda r, m: (200, claim))
    f.on(
        "GET",
        f"/operator/claims/{CLAIM_ID}/photos/{PHOTO_ID}",
        lambda r, m: (200, b"\x89PNG\r\n\x1a\n-photo"),
    )
    f.on(
        "POST",
        f"/operator/claims/{CLAIM_ID}/resolution",
        lambda r, m: (200, claim | {"status": "resolved"}),
    )
    async with console.running() as client:
        csrf = await sign_in(client, "agent@japangoodz.test")
        queue = await client.get("/reclamations")
        assert f'href="/reclamations/{CLAIM_ID}"' in queue.text
        page = await client.get(f"/reclamations/{CLAIM_ID}")
        assert f'src="/reclamations/{CLAIM_ID}/photos/{PHOTO_ID}"' in page.text
        photo = await client.get(f"/reclamations/{CLAIM_ID}/photos/{PHOTO_ID}")
        assert photo.headers["content-type"] == "image/png"
        assert photo.content.startswith(b"\x89PNG")

        bad = await client.post(
            f"/reclamations/{CLAIM_ID}/decision",
            data={"resolution": "refund", "amount": "vingt", "csrf_token": csrf},
        )
        assert "Le montant doit être en euros" in (await client.get(bad.headers["location"])).text
        done = await client.post(
            f"/reclamations/{CLAIM_ID}/decision",
            data={
                "resolution": "refund",
                "amount": "19,90",
                "csrf_token": csrf,
                "message": "Nous vous remboursons le rideau.",
            },
        )
        assert done.headers["location"] == "/reclamations"
        sent = f.asked("POST", f"/operator/claims/{CLAIM_ID}/resolution")
        assert [r["body"] for r in sent] == [
            {
                "resolution": "refund",
                "amount": "19.90",
                "message": "Nous vous remboursons le rideau.",
            }
        ]
        assert sent[0]["authorization"] == "Bearer staff-token-of-agent"
        assert (await client.get("/journal")).status_code == 403  # an agent's

        client.cookies.clear()
        await sign_in(client, "manager@japangoodz.test")
        trail = await client.get("/journal")
        assert trail.status_code == 200
        row = re.search(
            r"<tr>\s*<td>[^<]*</td><td>agent@japangoodz.test</td>"
            r"<td>Décision sur une réclamation</td>",
            trail.text,
        )
        assert row, trail.text


async def test_an_agent_sees_no_replay_button_and_is_refused_when_posting_anyway(
    console: Console, stack: Endpoints
) -> None:
    prefix = console.settings.platform.topic_prefix
    await publish_raw(
        stack.kafka_bootstrap,
        dead_letter_topic("payment", prefix),
        [
            (
                b"order-1",
                b'{"hello": 1}',
                {
                    "event-type": "OrderPlaced",
                    "event-id": "e-1",
                    "dlq-original-topic": f"{prefix}jg.checkout.orders",
                    "dlq-reason": "handler_failed",
                    "dlq-error": "boom",
                },
            )
        ],
    )
    async with console.running() as client:
        csrf = await sign_in(client, "agent@japangoodz.test")
        page = await _wait_for(client, "/lettres-mortes", "OrderPlaced")
        assert "Rejouer" not in page and "en attente d’un responsable" in page
        letter_id = await _letter_id(console)
        refused = await client.post(f"/lettres-mortes/{letter_id}/rejeu", data={"csrf_token": csrf})
        assert refused.status_code == 403
        assert "réservée aux responsables" in refused.text
        parked = await client.get("/messages-en-attente")
        assert parked.status_code == 403
    outcomes = [(r["action"], r["outcome"]) for r in await _audit(console)]
    assert ("replay_dead_letter", "forbidden") in outcomes


async def test_a_manager_replays_a_dead_letter_to_its_original_topic_once(
    console: Console, stack: Endpoints
) -> None:
    prefix = console.settings.platform.topic_prefix
    original = f"{prefix}jg.checkout.orders"
    await publish_raw(
        stack.kafka_bootstrap,
        dead_letter_topic("payment", prefix),
        [
            (
                b"order-2",
                b'{"v": 2}',
                {
                    "event-type": "OrderPlaced",
                    "event-id": "e-2",
                    "dlq-original-topic": original,
                    "dlq-error": "boom",
                    "dlq-reason": "handler_failed",
                },
            )
        ],
    )
    async with console.running() as client:
        csrf = await sign_in(client, "manager@japangoodz.test")
        page = await _wait_for(client, "/lettres-mortes", "OrderPlaced")
        assert "Rejouer" in page
        letter_id = await _letter_id(console)
        done = await client.post(f"/lettres-mortes/{letter_id}/rejeu", data={"csrf_token": csrf})
        assert done.status_code == 303
        again = await client.post(f"/lettres-mortes/{letter_id}/rejeu", data={"csrf_token": csrf})
        assert "ne peut pas être rejoué" in (await client.get(again.headers["location"])).text
    records = await _read_all(stack.kafka_bootstrap, original)
    assert len(records) == 1
    headers = dict(records[0].headers)
    assert records[0].value == b'{"v": 2}' and records[0].key == b"order-2"
    assert headers["event-id"] == b"e-2" and headers["replay-count"] == b"1"
    assert not [k for k in headers if k.startswith("dlq-")]


async def test_a_staff_token_that_ran_out_sends_the_member_to_sign_in_again(
    console: Console,
) -> None:
    _serve_order(console)
    async with console.running() as client:
        STAFF_TOKEN_SECONDS["value"] = 5  # already within the margin
        await client.post(
            "/connexion", data={"email": "agent@japangoodz.test", "password": PASSWORD}
        )
        back = await client.get(f"/commandes/{ORDER_ID}")
        assert back.status_code == 303
        assert back.headers["location"] == (
            f"/connexion?suivant=%2Fcommandes%2F{ORDER_ID}&raison=jeton"
        )
        page = await client.get(back.headers["location"])
        assert "votre connexion a expiré" in page.text
        # revoked before its time: the service's 401 does the same
        STAFF_TOKEN_SECONDS["value"] = 900
        console.stand_ins["checkout"].on(
            "GET", "/operator/orders", lambda r, m: (401, {"code": "unauthorized"})
        )
        await sign_in(client, "agent@japangoodz.test")
        found = await client.get("/", params={"q": "JG-2026-000123"})
        assert found.status_code == 303 and "raison=jeton" in found.headers["location"]


async def _wait_for(client: Any, path: str, text: str, timeout: float = 30) -> str:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        page = (await client.get(path)).text
        if text in page or asyncio.get_running_loop().time() > deadline:
            assert text in page, page
            return page
        await asyncio.sleep(0.3)


async def _letter_id(console: Console) -> int:
    conn = await asyncpg.connect(console.settings.database_url.get_secret_value())
    try:
        return int(await conn.fetchval("SELECT id FROM dead_letters ORDER BY id DESC LIMIT 1"))
    finally:
        await conn.close()


async def _read_all(bootstrap: str, topic: str) -> list[Any]:
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, group_id=f"t-{uuid.uuid4().hex}", enable_auto_commit=False
    )
    await consumer.start()
    try:
        tp = TopicPartition(topic, 0)
        consumer.assign([tp])
        await consumer.seek_to_beginning(tp)
        end = (await consumer.end_offsets([tp]))[tp]
        records: list[Any] = []
        while await consumer.position(tp) < end:
            batch = await consumer.getmany(tp, timeout_ms=1000)
            records += batch.get(tp, [])
        return records
    finally:
        await consumer.stop()


async def test_accounts_down_is_said_on_the_sign_in_page_not_taken_for_a_wrong_password(
    console: Console,
) -> None:
    async with console.running(accounts_url=f"http://127.0.0.1:{closed_port()}") as client:
        answer = await client.post(
            "/connexion", data={"email": "agent@japangoodz.test", "password": PASSWORD}
        )
        assert answer.status_code == 401
        assert "Le service des comptes ne répond pas pour le moment." in answer.text
        assert "mot de passe incorrect" not in answer.text


async def test_an_email_is_sent_again_through_notifications_and_recorded(
    console: Console,
) -> None:
    _serve_order(console)
    n = console.stand_ins["notifications"]
    n.on("POST", f"/operator/emails/{EMAIL_ID}/resend", lambda r, m: (202, {"id": 42}))
    async with console.running() as client:
        csrf = await sign_in(client, "agent@japangoodz.test")
        page = await client.get(f"/commandes/{ORDER_ID}")
        assert f'action="/commandes/{ORDER_ID}/emails/{EMAIL_ID}/renvoi"' in page.text
        done = await client.post(
            f"/commandes/{ORDER_ID}/emails/{EMAIL_ID}/renvoi", data={"csrf_token": csrf}
        )
        assert done.status_code == 303
        after = await client.get(f"/commandes/{ORDER_ID}")
        assert "L’e-mail sera renvoyé au client dans quelques instants." in after.text
    sent = n.asked("POST", f"/operator/emails/{EMAIL_ID}/resend")
    assert [r["authorization"] for r in sent] == ["Bearer staff-token-of-agent"]
    audit = [(r["action"], r["outcome"], r["target"]) for r in await _audit(console)]
    assert ("resend_email", "done", str(EMAIL_ID)) in audit

"""FAQ, « Avant ma commande » and « Puis-je modifier/annuler ma commande ? »: the storefront
places orders, Stripe (its stand-in) answers, the customer reads their mailbox."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from jg_devstack.drivers import (
    Mailbox,
    Shop,
    Storefront,
    StripeJs,
    euros,
    eventually,
    intent_id_from,
    order_request,
    plain,
    unique_email,
)
from jg_devstack.launcher import Platform
from jg_devstack.stripe_webhooks import failed_intent, signed_webhook, stripe_event
from jg_shop import french_date


def cents(amount: str) -> int:
    euros_part, cents_part = amount.split(".")
    return int(euros_part) * 100 + int(cents_part)


async def test_a_paid_order_is_confirmed_by_an_email_holding_the_whole_contract(
    shop: Shop, storefront: Storefront, stripe_js: StripeJs, mailbox: Mailbox
) -> None:
    email = unique_email("camille")
    card = await stripe_js.card(StripeJs.VISA)
    body = order_request(
        email,
        [("MATCHA-KYOTO-100", 2), ("FUROSHIKI-SAKURA", 1)],
        card,
        first_name="Camille",
        last_name="Durand",
    )
    placed = await storefront.place_ok(body)
    assert placed["status"] == "pending_payment"
    assert placed["number"].startswith("JG-")

    order = await storefront.wait_status(placed["id"], "confirmed", "released", "processing")
    assert order["payment"]["authorized"] is True
    assert order["confirmed_at"] is not None

    message = await mailbox.wait_for(email, "Confirmation de votre commande")
    text = plain(message["Text"])
    assert order["number"] in plain(message["Subject"])
    assert message["HTML"], "the confirmation has an HTML part too"
    # The products, quantities and prices paid.
    for line in order["lines"]:
        assert line["name"] in text
        assert f"réf. {line['sku']}" in text
        price = f"{line['quantity']} × {euros(line['unit_price'])}"
        assert f"{price} = {euros(line['line_total'])}" in text
    assert "produit soldé" in text  # the furoshiki is on sale
    totals = order["totals"]
    assert f"Sous-total : {euros(totals['subtotal'])}" in text
    assert f"Frais de livraison : {euros(totals['shipping'])}" in text
    assert f"Total TTC : {euros(totals['total'])}" in text
    assert f"dont TVA : {euros(totals['vat'])}" in text
    # Both addresses and the shipping method.
    shipping_to = "Camille Durand\n12 rue des Lilas\nBâtiment B\n69003 Lyon\nFrance"
    assert f"Adresse de livraison :\n{shipping_to}" in text
    assert "Adresse de facturation :\nCamille Durand\n3 place Bellecour\n69002 Lyon\nFrance" in text
    assert f"Mode de livraison : {order['shipping_method']['label']}" in text
    # The delivery date the shop commits to, as a French reader reads it (1er on the first).
    estimate = order["delivery_estimate"]
    latest = french_date(_date(estimate["latest"]), weekday=True)
    earliest = french_date(_date(estimate["earliest"]), weekday=True)
    assert f"Livraison au plus tard le {latest} (à partir du {earliest})." in text
    # The legal guarantees, the seller, its mediator and the terms and conditions.
    assert "GARANTIE LÉGALE DE CONFORMITÉ ET GARANTIE DES VICES CACHÉS" in text
    assert "articles 1641 à 1649 du code civil" in text
    assert "LE VENDEUR" in text and "médiateur de la consommation" in text
    assert "Conditions générales de vente : https://" in text
    # The order number, the modification window, the right of withdrawal and its form.
    assert f"votre commande n° {order['number']}" in text
    assert "MODIFIER OU ANNULER VOTRE COMMANDE" in text
    assert "VOTRE DROIT DE RÉTRACTATION" in text
    assert "MODÈLE DE FORMULAIRE DE RÉTRACTATION" in text
    assert f"Commande concernée : n° {order['number']}" in text

    confirmations = [s for s in await mailbox.subjects(email) if "Confirmation" in s]
    assert len(confirmations) == 1


def _date(iso: str) -> Any:
    from datetime import date

    return date.fromisoformat(iso)


REFUSAL_SENTENCES = {
    "other": "votre banque a refusé le paiement sans nous en préciser la raison",
    "authentication_failed": "l'authentification du paiement (3-D Secure) n'a pas abouti",
    "unsupported_method": "ce moyen de paiement ne fait pas partie de ceux que propose notre "
    "boutique",
    "insufficient_funds": "les fonds disponibles sur votre compte sont insuffisants",
    "limit_reached": "le plafond de paiement de votre carte est atteint",
    "incorrect_card_details": "les coordonnées bancaires saisies sont incorrectes",
}

# Refusals localstripe cannot produce arrive as Stripe sends them: a signed webhook after the
# bank's answer (here, on an intent waiting for 3-D Secure).
WEBHOOK_CODES = {
    "insufficient_funds": ("card_declined", "insufficient_funds"),
    "limit_reached": ("card_declined", "card_velocity_exceeded"),
    "incorrect_card_details": ("incorrect_cvc", None),
}


async def test_each_refusal_reason_is_told_in_french_and_nothing_is_confirmed(
    platform: Platform, storefront: Storefront, stripe_js: StripeJs, mailbox: Mailbox
) -> None:
    async with httpx.AsyncClient(base_url=platform.url("payment"), timeout=15) as payment:

        async def refused(reason: str) -> None:
            email = unique_email(reason.replace("_", ""))
            lines = [("SENCHA-SHIZUOKA-80", 1)]
            if reason == "other":
                pm = await stripe_js.card(StripeJs.DECLINED)
            elif reason == "unsupported_method":
                pm = await stripe_js.sepa_debit()
            else:
                pm = await stripe_js.card(StripeJs.THREE_D_SECURE)
            order = await storefront.place_ok(order_request(email, lines, pm))
            if reason in ("authentication_failed", *WEBHOOK_CODES):
                waiting = await storefront.wait_status(order["id"], "payment_action_required")
                intent_id = intent_id_from(waiting["payment"]["next_action"]["url"])
                if reason == "authentication_failed":
                    await stripe_js.authenticate(intent_id, success=False)
                else:
                    code, decline_code = WEBHOOK_CODES[reason]
                    event = stripe_event(
                        "payment_intent.payment_failed",
                        failed_intent(
                            intent_id,
                            cents(order["totals"]["total"]),
                            code,
                            decline_code,
                            order_id=order["id"],
                            revision=0,
                        ),
                    )
                    body, headers = signed_webhook(event, platform.secrets.stripe_webhook)
                    answer = await payment.post("/webhooks/stripe", content=body, headers=headers)
                    assert answer.status_code == 200, answer.text
            final = await storefront.wait_status(order["id"], "payment_refused", "confirmed")
            assert final["status"] == "payment_refused", f"{reason}: {final['status']}"
            assert final["payment"]["refusal_reason"] == reason
            assert final["cancellable"] is False and final["modifiable"] is False

            message = await mailbox.wait_for(email, "Votre paiement n'a pas été accepté")
            text = plain(message["Text"])
            assert order["number"] in plain(message["Subject"]), reason
            assert REFUSAL_SENTENCES[reason] in text, f"{reason}: {text}"
            assert "Vous ne recevrez pas de confirmation de commande" in text
            assert "Si un débit apparaît malgré tout sur votre relevé" in text
            subjects = await mailbox.subjects(email)
            assert not [s for s in subjects if "Confirmation" in s], f"{reason}: {subjects}"

        await asyncio.gather(*(refused(reason) for reason in REFUSAL_SENTENCES))


async def test_3d_secure_is_asked_then_completed_and_the_order_confirmed(
    storefront: Storefront, stripe_js: StripeJs, mailbox: Mailbox
) -> None:
    email = unique_email("hugo")
    pm = await stripe_js.card(StripeJs.THREE_D_SECURE)
    placed = await storefront.place_ok(order_request(email, [("CHASEN-BAMBOU-80", 1)], pm))

    waiting = await storefront.wait_status(placed["id"], "payment_action_required")
    action = waiting["payment"]["next_action"]
    assert action is not None and action["url"].startswith("https://")
    assert waiting["status_label"]
    assert await mailbox.subjects(email) == []  # nothing confirmed while the bank waits
    # What Stripe.js needs, from the order itself: the intent and its client secret (never in
    # the page's URL, which names the order and the intent only).
    intent_id, secret = waiting["payment"]["payment_intent_id"], waiting["payment"]["client_secret"]
    assert secret.startswith(f"{intent_id}_secret_")
    assert intent_id_from(action["url"]) == intent_id and placed["id"] in action["url"]
    assert secret not in action["url"]

    await stripe_js.handle_next_action(secret, success=True)
    order = await storefront.wait_status(placed["id"], "confirmed", "released", "processing")
    assert order["payment"]["next_action"] is None
    assert order["payment"]["client_secret"] is None  # only while the authentication waits
    assert order["payment"]["payment_intent_id"] is None
    kinds = [entry["kind"] for entry in order["timeline"]]
    assert kinds.index("payment_action_required") < kinds.index("confirmed")

    message = await mailbox.wait_for(email, "Confirmation de votre commande")
    assert order["number"] in plain(message["Subject"])


async def test_an_order_is_modified_or_cancelled_before_the_hand_off_and_not_after(
    shop: Shop, storefront: Storefront, mailbox: Mailbox
) -> None:
    # Cancelled inside the window: cancelled for good, the hold released, never handed off.
    cancel_email = unique_email("lea")
    doomed = await shop.paid_order(cancel_email, [("BOL-MATCHA-RAKU", 1)])
    assert doomed["status"] == "confirmed" and doomed["cancellable"] is True
    cancelled = await storefront.cancel(doomed["id"], "Je me suis trompée de couleur")
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"
    message = await mailbox.wait_for(cancel_email, "Annulation de votre commande")
    assert doomed["number"] in plain(message["Subject"])
    await mailbox.wait_for(cancel_email, "Autorisation de paiement levée")

    # Modified inside the window: new address and quantity, re-authorised, handed off as changed.
    email = unique_email("marc")
    order = await shop.paid_order(email, [("DARUMA-ROUGE-10", 1), ("EVENTAIL-WASHI", 1)])
    assert order["status"] == "confirmed" and order["modifiable"] is True
    new_address = dict(order["shipping_address"], line1="8 quai Saint-Antoine", line2=None)
    changed = await storefront.modify(
        order["id"],
        {
            "shipping_address": {k: v for k, v in new_address.items() if v is not None},
            "lines": [{"sku": "DARUMA-ROUGE-10", "quantity": 3}],
        },
    )
    assert changed.status_code == 200, changed.text
    modified = changed.json()
    assert modified["shipping_address"]["line1"] == "8 quai Saint-Antoine"
    daruma = next(line for line in modified["lines"] if line["sku"] == "DARUMA-ROUGE-10")
    assert daruma["quantity"] == 3
    assert modified["totals"]["total"] != order["totals"]["total"]
    message = await mailbox.wait_for(email, "a été modifiée")
    assert order["number"] in plain(message["Subject"])

    # The window closes: the logistics team gets the modified order.
    pick_list = await shop.handed_off(order)
    assert pick_list.payload.shipping_address.line1 == "8 quai Saint-Antoine"
    assert {(line.sku, line.quantity) for line in pick_list.payload.lines} == {
        ("DARUMA-ROUGE-10", 3),
        ("EVENTAIL-WASHI", 1),
    }
    # After the hand-off, neither a modification nor a cancellation is possible.
    late_change = await storefront.modify(
        order["id"], {"lines": [{"sku": "DARUMA-ROUGE-10", "quantity": 1}]}
    )
    late_cancel = await storefront.cancel(order["id"])
    for answer in (late_change, late_cancel):
        assert answer.status_code == 409, answer.text
        assert answer.json()["code"] == "order_released"
        assert answer.json()["message"]  # a French explanation for the storefront to show
    assert (await storefront.order(order["id"]))["status"] in ("released", "processing")

    # The cancelled order never reached the logistics team, and stays cancelled.
    assert shop.logistics.pick_lists(doomed["id"]) == []
    assert (await storefront.order(doomed["id"]))["status"] == "cancelled"


async def test_a_raised_total_is_authorised_again_on_the_same_card_through_3d_secure(
    shop: Shop, storefront: Storefront, stripe_js: StripeJs, mailbox: Mailbox
) -> None:
    """The card asks for 3-D Secure every time: the order is confirmed through the client
    secret, modified to a higher total, and the same card (attached to the order's Stripe
    Customer) is authorised again through the new intent's client secret, before release."""
    email = unique_email("yuki")
    pm = await stripe_js.card(StripeJs.THREE_D_SECURE)
    placed = await storefront.place_ok(order_request(email, [("DARUMA-ROUGE-10", 1)], pm))
    first = await storefront.wait_status(placed["id"], "payment_action_required")
    await stripe_js.handle_next_action(first["payment"]["client_secret"], success=True)
    confirmed = await storefront.wait_status(placed["id"], "confirmed")
    held = await stripe_js.intent(first["payment"]["payment_intent_id"])
    assert held["customer"] and held["payment_method"] == pm

    changed = await storefront.modify(
        placed["id"], {"lines": [{"sku": "DARUMA-ROUGE-10", "quantity": 3}]}
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["totals"]["total"] > confirmed["totals"]["total"]

    async def reauthorisation() -> dict[str, Any]:
        return await storefront.order(placed["id"])

    waiting = await eventually(
        reauthorisation,
        lambda o: o["payment"]["client_secret"] is not None,
        "the re-authorisation to ask for 3-D Secure",
    )
    assert waiting["status"] == "confirmed" and waiting["payment"]["authorized"] is False
    second = waiting["payment"]["payment_intent_id"]
    assert second != first["payment"]["payment_intent_id"]
    again = await stripe_js.intent(second)
    assert (again["customer"], again["payment_method"]) == (held["customer"], pm)

    await stripe_js.handle_next_action(waiting["payment"]["client_secret"], success=True)
    pick_list = await shop.handed_off(confirmed)
    assert [(line.sku, line.quantity) for line in pick_list.payload.lines] == [
        ("DARUMA-ROUGE-10", 3)
    ]
    await mailbox.wait_for(email, "a été modifiée")

"""FAQ, « Ma commande »: the hand-off to the logistics team in Japan, stock-outs, the carrier's
pick-up with its tracking link and the invoice, delivery and withdrawal, after-sales claims.

The logistics team is played on its Kafka topics exactly as the contract describes
(docs/logistics-contract.md); the customer reads their mailbox and their customer space."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx
from jg_devstack.drivers import (
    Accounts,
    Fulfillment,
    LogisticsTeam,
    Mailbox,
    Shop,
    Storefront,
    euros,
    eventually,
    plain,
    unique_email,
)
from jg_events import ItemCondition, ReceivedItem, ReturnReceived
from PIL import Image
from pypdf import PdfReader

PASSWORD = "Sakura-Matcha-2026!"


def photo(kind: str, colour: tuple[int, int, int]) -> bytes:
    """A small real picture, as a phone would send one."""
    buffer = io.BytesIO()
    Image.new("RGB", (96, 64), colour).save(buffer, format=kind)
    return buffer.getvalue()


def pdf_text(data: bytes) -> str:
    return plain("\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages))


async def test_a_validated_order_is_handed_off_to_logistics_when_its_window_closes(
    shop: Shop, storefront: Storefront, mailbox: Mailbox
) -> None:
    email = unique_email("ines")
    order = await shop.paid_order(email, [("BAGUETTES-LAQUE-5", 2), ("ENCENS-KYARA-40", 1)])

    pick_list = await shop.handed_off(order)
    request = pick_list.payload
    assert request.order_number == order["number"]
    assert pick_list.occurred_at >= datetime.fromisoformat(order["modifiable_until"])
    assert {(line.sku, line.quantity) for line in request.lines} == {
        ("BAGUETTES-LAQUE-5", 2),
        ("ENCENS-KYARA-40", 1),
    }
    assert all(line.name_ja for line in request.lines)  # the warehouse reads Japanese
    assert request.shipping_address.line1 == "12 rue des Lilas"
    assert request.shipping_method.code == "standard"
    assert request.customer.email == email

    processing = await storefront.wait_status(order["id"], "processing")
    assert processing["status_label"]
    message = await mailbox.wait_for(email, "est en cours de traitement")
    assert order["number"] in plain(message["Subject"])


async def test_tea_and_a_teapot_are_invoiced_at_two_vat_rates_with_the_shipping_split(
    shop: Shop, mailbox: Mailbox
) -> None:
    email = unique_email("chloe")
    order = await shop.paid_order(email, [("THEIERE-TETSUBIN", 1), ("MATCHA-KYOTO-100", 2)])
    rates = {line["sku"]: line["vat_rate"] for line in order["lines"]}
    assert rates == {"THEIERE-TETSUBIN": "20.00", "MATCHA-KYOTO-100": "5.50"}  # tea is food
    totals = order["totals"]
    tea, teapot = totals["vat_breakdown"]
    assert (tea["rate"], teapot["rate"]) == ("5.50", "20.00")
    # The shipping follows the goods: one share per rate, to the cent, the teapot's the larger.
    assert Decimal(tea["shipping"]) + Decimal(teapot["shipping"]) == Decimal(totals["shipping"])
    assert Decimal(teapot["shipping"]) > Decimal(tea["shipping"]) > 0
    assert Decimal(tea["vat"]) + Decimal(teapot["vat"]) == Decimal(totals["vat"])

    # The confirmation says the same...
    confirmation = plain((await mailbox.wait_for(email, "Confirmation de votre commande"))["Text"])
    for share, rate in ((tea, "5,5 %"), (teapot, "20 %")):
        assert (
            f"TVA à {rate} sur {euros(share['total_incl_vat'])} TTC "
            f"(dont {euros(share['shipping'])} de frais de livraison) : {euros(share['vat'])}"
        ) in confirmation

    # ...and so does the invoice at shipment: one shipping line and one VAT row per rate.
    pick_list = await shop.handed_off(order)
    await shop.shipped(pick_list)
    invoice_mail = await mailbox.wait_for(email, "Votre facture")
    (attachment,) = [
        a for a in invoice_mail["Attachments"] if a["ContentType"] == "application/pdf"
    ]
    invoice = pdf_text(await mailbox.attachment(invoice_mail["ID"], attachment["PartID"]))
    for share, rate in ((tea, "5,5 %"), (teapot, "20 %")):
        assert f"part au taux de {rate}" in " ".join(invoice.split())  # lines may wrap
        assert (
            f"{rate}\n {euros(share['total_excl_vat'])}\n {euros(share['vat'])}\n "
            f"{euros(share['total_incl_vat'])}"
        ) in invoice  # the VAT table: rate, base excluding VAT, VAT, including VAT
    assert f"Total TVA\n {euros(totals['vat'])}" in invoice
    assert f"Total TTC\n {euros(totals['total'])}" in invoice


async def test_a_stock_out_after_validation_backorders_the_order_until_replenished(
    shop: Shop,
    storefront: Storefront,
    mailbox: Mailbox,
    fulfillment: Fulfillment,
    logistics: LogisticsTeam,
) -> None:
    sku = "COUTEAU-SANTOKU-18"
    email = unique_email("yuki")
    order = await shop.paid_order(email, [(sku, 2)])
    # The last knives went before the order's window closed: the warehouse counts none.
    counted = await fulfillment.count_stock(sku, 0, "inventaire : rupture")
    assert counted.status_code == 200, counted.text

    backordered = await storefront.wait_status(order["id"], "backordered", timeout=40)
    assert backordered["status_label"]
    message = await mailbox.wait_for(email, "en cours de réapprovisionnement")
    text = plain(message["Text"])
    assert order["number"] in plain(message["Subject"])
    assert f"(réf. {sku}) : 2 sur 2 commandés" in text
    assert "Nouvelle estimation de livraison" in text
    assert shop.logistics.pick_lists(order["id"]) == []  # nothing to pick yet

    await logistics.replenished(sku, 5)
    pick_list = await shop.handed_off(order)
    assert [(line.sku, line.quantity) for line in pick_list.payload.lines] == [(sku, 2)]
    await storefront.wait_status(order["id"], "processing")
    await mailbox.wait_for(email, "est en cours de traitement")
    stock = await fulfillment.stock(sku)
    assert (stock["on_hand"], stock["reserved"]) == (5, 2)


async def test_pick_up_sends_the_tracking_link_and_the_invoice_both_in_the_customer_space(
    shop: Shop, accounts: Accounts, mailbox: Mailbox, storefront: Storefront
) -> None:
    email = unique_email("sophie")
    session = await accounts.sign_up(email, PASSWORD, "Sophie", "Martin")
    token = session["access_token"]
    order = await shop.paid_order(
        email,
        [("THEIERE-TETSUBIN", 1), ("MATCHA-KYOTO-100", 1)],
        as_customer=token,
        first_name="Sophie",
        last_name="Martin",
    )
    pick_list = await shop.handed_off(order)
    tracking = await shop.shipped(pick_list)

    shipped = await mailbox.wait_for(email, "a été expédiée")
    text = plain(shipped["Text"])
    link = f"https://trackings.post.japanpost.jp/services/srv/search/direct?searchKind=S004&locale=en&reqCodeNo1={tracking}"
    assert f"Numéro de suivi : {tracking}" in text
    assert f"Suivre votre colis : {link}" in text
    assert "« Suivre mon colis »" in text

    invoice_mail = await mailbox.wait_for(email, "Votre facture")
    attachments = invoice_mail["Attachments"]
    (attachment,) = [a for a in attachments if a["ContentType"] == "application/pdf"]
    pdf = await mailbox.attachment(invoice_mail["ID"], attachment["PartID"])
    invoice_text = pdf_text(pdf)
    subject = plain(invoice_mail["Subject"])
    invoice_number = subject.split("facture n° ")[1].split(" ")[0]
    assert invoice_number in invoice_text
    assert order["number"] in invoice_text
    assert "Théière en fonte tetsubin" in invoice_text
    assert "« Mes commandes et factures »" in plain(invoice_mail["Text"])

    # The customer space shows the same: the tracking link and the invoice to download.
    async def detail() -> dict[str, object]:
        response = await accounts.order(token, order["id"])
        assert response.status_code == 200, response.text
        result: dict[str, object] = response.json()
        return result

    seen = await eventually(
        detail,
        lambda d: d["status"] == "shipped" and bool(d["invoices"]) and bool(d["tracking"]),
        "the shipped order with its invoice in the customer space",
    )
    assert seen["tracking"]["tracking_url"] == link  # type: ignore[index]
    (invoice,) = seen["invoices"]  # type: ignore[misc]
    assert invoice["invoice_number"] == invoice_number
    async with httpx.AsyncClient(timeout=15) as client:
        download = await client.get(invoice["download_url"], headers=accounts.bearer(token))
    assert download.status_code == 200
    assert download.headers["content-type"].startswith("application/pdf")
    assert download.content == pdf  # the very document the email carried
    assert (await storefront.order(order["id"]))["tracking"]["tracking_url"] == link


async def test_a_delivered_order_may_be_withdrawn_within_14_days_and_not_after(
    shop: Shop, mailbox: Mailbox, fulfillment: Fulfillment, logistics: LogisticsTeam
) -> None:
    # Delivered today: the whole order is withdrawn, sent back unused, and refunded.
    email = unique_email("paul")
    order, pick_list, tracking = await shop.delivered_order(
        email, [("MANEKI-NEKO-15", 1), ("SENCHA-SHIZUOKA-80", 2)]
    )
    delivered = plain((await mailbox.wait_for(email, "a été livrée"))["Text"])
    assert f"numéro de suivi {tracking}" in delivered
    assert "droit de rétractation jusqu'au" in delivered

    accepted = await fulfillment.withdraw(order["id"])
    assert accepted.status_code == 201, accepted.text
    withdrawal = accepted.json()
    assert withdrawal["status"] == "accepted"
    assert withdrawal["expected_refund"] == order["totals"]["total"]  # delivery included
    instructions = plain((await mailbox.wait_for(email, "Votre retour est accepté"))["Text"])
    assert withdrawal["return_id"] in instructions
    assert "Tokyo" in instructions  # where to send it

    await logistics.report(
        ReturnReceived(
            order_id=pick_list.payload.order_id,
            return_id=withdrawal["return_id"],
            items=tuple(
                ReceivedItem(sku=line.sku, quantity=line.quantity, condition=ItemCondition.UNUSED)
                for line in pick_list.payload.lines
            ),
            received_at=datetime.now(UTC),
        ),
        about=pick_list,
    )
    refund = await mailbox.wait_for(email, "Votre remboursement de")
    assert plain(refund["Subject"]).startswith(
        f"Votre remboursement de {order['totals']['total'].replace('.', ',')} €"
    )
    credit_note = await mailbox.wait_for(email, "Votre avoir")
    assert any(a["ContentType"] == "application/pdf" for a in credit_note["Attachments"])

    # Delivered three weeks ago: the withdrawal period is over, and the customer is told why.
    late_email = unique_email("jeanne")
    now = datetime.now(UTC)
    late, _, _ = await shop.delivered_order(
        late_email,
        [("KOKESHI-CERISIER", 1)],
        picked_up_at=now - timedelta(days=24),
        delivered_at=now - timedelta(days=21),
    )
    refused = await fulfillment.withdraw(late["id"])
    assert refused.status_code == 422, refused.text
    assert refused.json()["code"] == "withdrawal_period_expired"
    explanation = refused.json()["message"]
    rejected = await mailbox.wait_for(late_email, "Votre demande de retour")
    assert plain(explanation) in plain(rejected["Text"])
    assert not [s for s in await mailbox.subjects(late_email) if "retour est accepté" in s]


async def test_missing_and_damaged_items_are_claimed_with_photos_and_resolved(
    shop: Shop, mailbox: Mailbox, fulfillment: Fulfillment, logistics: LogisticsTeam
) -> None:
    email = unique_email("nora")
    order, _, tracking = await shop.delivered_order(
        email, [("NOREN-VAGUE-85", 1), ("BENTO-HINOKI-2", 1)]
    )

    # An item is missing from the parcel: order number, tracking number, photo of the parcel.
    missing = await fulfillment.claim(
        order["id"],
        kind="missing_item",
        order_number=order["number"],
        items=[("BENTO-HINOKI-2", 1)],
        tracking_number=tracking,
        message="Le colis ne contenait pas la boîte à bento.",
        photos=[("colis.jpg", photo("JPEG", (180, 140, 90)), "image/jpeg")],
    )
    assert missing.status_code == 201, missing.text
    assert missing.json()["photos"][0]["content_type"] == "image/jpeg"
    # Another arrived damaged: a photo of it and the order number.
    damaged = await fulfillment.claim(
        order["id"],
        kind="damaged_item",
        order_number=order["number"],
        items=[("NOREN-VAGUE-85", 1)],
        message="Le rideau est déchiré.",
        photos=[("noren.png", photo("PNG", (20, 40, 160)), "image/png")],
    )
    assert damaged.status_code == 201, damaged.text

    async def acknowledgements() -> list[str]:
        return [s for s in await mailbox.subjects(email) if "bien reçu votre réclamation" in s]

    await eventually(acknowledgements, lambda found: len(found) == 2, "two claim receipts")

    # Customer service decides: the missing item is sent again, the damaged one refunded.
    reship = await fulfillment.resolve_claim(
        missing.json()["claim_id"], "reship", "Nous vous renvoyons la boîte à bento."
    )
    assert reship.status_code == 200, reship.text
    again = await logistics.wait_pick_list(order["id"], count=2)
    assert [(line.sku, line.quantity) for line in again.payload.lines] == [("BENTO-HINOKI-2", 1)]
    refund = await fulfillment.resolve_claim(
        damaged.json()["claim_id"], "refund", "Nous vous remboursons le rideau."
    )
    assert refund.status_code == 200, refund.text
    await eventually(
        lambda: mailbox.subjects(email),
        lambda subjects: sum("Réponse à votre réclamation" in s for s in subjects) == 2,
        "two claim answers",
    )
    refunded = await mailbox.wait_for(email, "Votre remboursement de")
    assert "Votre remboursement de 34,90 €" in plain(refunded["Subject"])  # the noren's price

"""Each email renders in correct French with the facts the customer needs (no services)."""

import re
from datetime import UTC, datetime
from decimal import Decimal
from html import unescape
from typing import Any

import pytest
from babel.numbers import format_currency
from jg_events import (
    Backordered,
    ClaimOpened,
    ClaimResolution,
    ClaimResolved,
    CustomerErased,
    CustomerErasureRequested,
    CustomerRegistered,
    Delivered,
    EmailChangeRequested,
    EmailChangeRequestedV1,
    EmailVerificationRequested,
    Envelope,
    Event,
    InvoiceIssued,
    LinkSealer,
    OrderCancelled,
    OrderConfirmed,
    OrderModified,
    OrderProcessing,
    PasswordResetRequested,
    PaymentRefused,
    RefundIssued,
    RefusalReason,
    ReturnAccepted,
    ReturnRejected,
    Shipped,
)
from jg_events.examples import (
    EMAIL_CHANGE_URL,
    EXAMPLE_LINK_SEALING_KEY,
    RESET_URL,
    VERIFICATION_URL,
    example,
)
from jg_shop import SellerIdentity
from notifications.domain import Template, plan_emails
from notifications.preview import preview_plans
from notifications.rendering import NBSP, NNBSP, RenderedEmail, Renderer, Shop, typography

pytestmark = pytest.mark.unit

# The seller's identity as configured (JG_SELLER_*), distinct from the samples.
SELLER = SellerIdentity(
    legal_name="Kumo Trading SARL",
    legal_form="SARL au capital de 25 000 €",
    address="1 rue de l'Exemple\n75001 Paris\nFrance",
    phone="+33 1 80 00 00 01",
    email="service@kumo.example",
    siren="987654321",
    rcs="RCS Paris 987 654 321",
    vat_number="FR45987654321",
    mediator_name="CM2C",
    mediator_url="https://www.cm2c.net",
    terms_url="https://www.kumo.example/cgv",
)
RENDERER = Renderer(Shop(seller=SELLER))


def variant(event: Event, **changes: Any) -> Any:
    """A valid copy of an example event with some fields changed (validated again)."""
    return type(event).model_validate({**event.model_dump(), **changes})


LINKS = LinkSealer(EXAMPLE_LINK_SEALING_KEY)  # opens the examples' sealed links


def render(event: Event) -> RenderedEmail:
    (plan,) = plan_emails(event, LINKS)
    return RENDERER.render(plan)


def visible_html(html: str) -> str:
    """The HTML without its <style> block and tags: what the reader sees."""
    text = re.sub(r"<(style|title)>.*?</\1>", "", html, flags=re.S)
    text = re.sub(r"<br>|</(p|td|th|tr|li|div|h1|h2|ol|ul|table)>", "\n", text)
    text = unescape(re.sub(r"<[^>]+>", "", text))
    return re.sub(r"[ \t]*\n[ \t\n]*", "\n", re.sub(r"[ \t]+", " ", text))


def both(email: RenderedEmail) -> tuple[str, str]:
    return email.text, visible_html(email.html)


def euros(amount: str) -> str:
    return format_currency(Decimal(amount), "EUR", locale="fr_FR")


# --- Every template ---------------------------------------------------------------------------


@pytest.mark.parametrize("template", list(Template), ids=lambda t: t.value)
def test_every_email_has_a_french_subject_a_text_part_and_a_responsive_inlined_html_part(
    template: Template,
) -> None:
    email = RENDERER.render(preview_plans()[template])
    assert email.subject and "\n" not in email.subject
    assert email.text.startswith("Bonjour ") or email.text.startswith("Bonjour\u00a0")
    assert '<html lang="fr">' in email.html
    assert 'name="viewport"' in email.html
    assert "@media (max-width: 620px)" in email.html  # responsive rules kept
    assert 'style="' in email.html and 'class="content"' in email.html  # CSS inlined
    assert "contact@japangoodz.com" in email.text and "contact@japangoodz.com" in email.html


@pytest.mark.parametrize("template", list(Template), ids=lambda t: t.value)
def test_french_punctuation_is_preceded_by_a_non_breaking_space(template: Template) -> None:
    email = RENDERER.render(preview_plans()[template])
    for text in (email.subject, email.text, visible_html(email.html)):
        assert not re.search(r" [;:!?»]", text), re.search(r".{30} [;:!?»].{10}", text)
        assert "« " not in text
        assert not re.search(r"n° ", text)


def test_typography_spaces_punctuation_but_leaves_urls_code_and_times_alone() -> None:
    assert typography("Bonjour ! Ça va ? Oui : bien ; « parfait »") == (
        f"Bonjour{NNBSP}! Ça va{NNBSP}? Oui{NBSP}: bien{NNBSP}; «{NBSP}parfait{NBSP}»"
    )
    untouched = "https://x.fr/a?b=1 10:20 {% if a != b %} color: red;"
    assert typography(untouched) == untouched


# --- Money, dates, escaping -------------------------------------------------------------------


def test_amounts_are_written_the_french_way_by_babel() -> None:
    order = example(OrderConfirmed)
    shipping = variant(order.shipping_method, price=Decimal("12.50"))
    totals = variant(
        order.totals, shipping=Decimal("12.50"), total=Decimal("96.97"), vat_breakdown=()
    )
    email = render(variant(order, shipping_method=shipping, totals=totals))
    twelve_fifty = euros("12.50")
    assert twelve_fifty in ("12,50\u00a0€", "12,50\u202f€")  # Babel's no-break space
    for part in both(email):
        assert twelve_fifty in part
        assert euros("96.97") in part
        assert "12.50" not in part and "12,50 €" not in part  # never a dot, never a breakable space


def test_a_customer_name_with_markup_is_escaped_in_the_html_part() -> None:
    order = example(OrderConfirmed)
    evil = "<script>alert('x')</script>"
    customer = variant(order.customer, first_name=evil)
    address = variant(order.shipping_address, line2='<img src=x onerror="alert(1)">')
    email = render(variant(order, customer=customer, shipping_address=address))
    assert "<script>" not in email.html and "<img src=x" not in email.html
    assert "&lt;script&gt;" in email.html
    assert "&lt;img src=x" in email.html
    assert evil in email.text  # plain text shows what the customer typed, harmlessly


def test_dates_are_french_and_in_paris_time() -> None:
    email = render(example(OrderConfirmed))  # modifiable until 09:20:07 UTC, estimate 16-23 March
    for part in both(email):
        assert f"2{NBSP}mars 2026 à 10{NBSP}h{NBSP}20" in part or "2 mars 2026 à 10" in part
        assert "lundi 16 mars 2026" in part and "lundi 23 mars 2026" in part


def test_the_first_of_a_month_is_written_1er_by_every_date_filter() -> None:
    """long_date, full_date and datetime all go through jg_shop.french_date."""
    order = example(OrderConfirmed)
    first = variant(
        order,
        placed_at=datetime(2026, 4, 1, 8, 5, tzinfo=UTC),
        modifiable_until=datetime(2026, 4, 1, 8, 10, tzinfo=UTC),
        delivery_estimate={"earliest": "2026-04-01", "latest": "2026-05-04"},
    )
    for part in both(render(first)):
        assert "1er avril 2026 à 10" in part  # datetime (Paris time)
        assert "mercredi 1er avril 2026" in part  # full_date
        assert " 1 avril" not in part
    preheader = re.search(r'class="preheader"[^>]*>(.*?)</div>', render(first).html, re.S)
    assert preheader is not None and "4 mai 2026" in preheader.group(1)  # long_date
    invoice = variant(example(InvoiceIssued), issue_date="2026-06-01")
    (plan,) = plan_emails(invoice)
    for part in both(RENDERER.render(plan)):
        assert "du 1er juin 2026" in part


# --- What each email says ---------------------------------------------------------------------


def test_the_confirmation_carries_the_contract_and_the_withdrawal_form() -> None:
    order = example(OrderConfirmed)
    email = render(order)
    assert email.subject == f"Confirmation de votre commande n°{NBSP}JG-2026-000123"
    for part in both(email):
        assert "JG-2026-000123" in part
        for line in order.lines:
            assert line.name in part
            assert euros(str(line.unit_price)) in part and euros(str(line.line_total)) in part
        assert "3" in part and "produit soldé" in part
        assert "Frais de livraison" in part and euros("14.90") in part
        assert "Total TTC" in part and euros("99.37") in part
        assert "dont TVA" in part and euros("8.44") in part
        assert "Japan Post EMS" in part
        assert part.count("12 rue des Lilas") == 2  # shipping and billing addresses
        assert "69003 Lyon" in part and "France" in part
        assert "Adresse de livraison" in part and "Adresse de facturation" in part
        assert "10 à 15 jours ouvrés" in part and "ouvrables" not in part
        assert "modifier ou annuler votre commande jusqu'au" in part
        assert f"«{NBSP}Mes commandes et factures{NBSP}»" in part
        assert "en cours de traitement" in part
        assert "droit de rétractation" in part.lower()
        assert "quatorze jours" in part
        assert "formulaire de rétractation" in part.lower()
        assert "R. 221-1" in part
        assert "Rayez la mention inutile" in part
        assert "y compris les produits soldés" in part


def test_the_confirmation_commits_to_the_latest_delivery_day() -> None:
    """L111-1 3°: a date the shop commits to, the last business day of the estimate."""
    email = render(example(OrderConfirmed))  # estimate: 16 to 23 March 2026
    for part in both(email):
        assert (
            "Livraison au plus tard le lundi 23 mars 2026 (à partir du lundi 16 mars 2026)" in part
        )
        assert "Livraison estimée" not in part
    assert "livraison au plus tard le 23 mars 2026" in email.html  # the preheader


def test_the_confirmation_names_the_seller_its_mediator_and_its_terms() -> None:
    email = render(example(OrderConfirmed))
    assert 'href="https://www.kumo.example/cgv"' in email.html
    assert 'href="https://www.cm2c.net"' in email.html
    for part in both(email):
        assert "Kumo Trading SARL, SARL au capital de 25 000 €" in part
        assert "1 rue de l'Exemple, 75001 Paris, France" in part
        assert typography("N° TVA intracommunautaire : FR45987654321") in part
        assert "RCS Paris 987 654 321" in part
        assert "+33 1 80 00 00 01" in part and "service@kumo.example" in part
        assert "conditions générales de vente" in part.lower()
        assert "médiateur de la consommation" in part and "CM2C" in part
        assert "https://www.cm2c.net" in part
        # the withdrawal section and form give the real address, never a placeholder
        notify = "vous devez nous notifier (Kumo Trading SARL, 1 rue de l'Exemple, 75001 Paris"
        assert notify in part
        assert typography("À l'attention de Kumo Trading SARL, 1 rue de l'Exemple") in part
        assert "[" not in part and "SELLER" not in part
        for sample in ("JapanGoodz SAS", "123456789", "rue de la Paix", "Médiation Exemple"):
            assert sample not in part


def test_the_confirmation_carries_the_legal_guarantees_box() -> None:
    """L217-3 and following (the text of D. 211-2's annex), and art. 1641 of the Code civil."""
    email = render(example(OrderConfirmed))
    assert 'class="box legal"' in email.html
    for part in both(email):
        assert "Garantie légale de conformité et garantie des vices cachés".lower() in part.lower()
        assert "délai de deux ans à compter de la délivrance du bien" in part
        assert "réparation ou au remplacement du bien dans un délai de trente jours" in part
        assert "extension de six mois" in part
        assert "articles L. 217-1 à L. 217-32 du code de la consommation" in part
        assert "garantie légale des vices cachés" in part
        assert "articles 1641 à 1649 du code civil" in part
        assert "deux ans à compter de la découverte du défaut" in part


def test_refusing_a_return_or_a_claim_names_the_mediator() -> None:
    """L616-2: a dispute the shop does not settle comes with the mediator's details."""
    refused_claim = variant(
        example(ClaimResolved), resolution=ClaimResolution.REJECTED, amount=None
    )
    for event in (example(ReturnRejected), refused_claim):
        email = render(event)
        assert 'href="https://www.cm2c.net"' in email.html
        for part in both(email):
            assert "médiateur de la consommation" in part
            assert "CM2C" in part and "https://www.cm2c.net" in part
    for part in both(render(refused_claim)):  # « réclamation » said once in the decision
        assert "d'y donner une suite favorable" in part
    for part in both(render(example(ClaimResolved))):  # a refund settles it: no mediator
        assert "médiateur" not in part


def test_the_confirmation_and_the_modification_show_the_vat_per_rate_with_the_shipping_split() -> (
    None
):
    order = example(OrderConfirmed)  # matcha at 5.5 %, furoshiki at 20 %
    email = render(order)
    for part in both(email):
        for share in order.totals.vat_breakdown:
            rate = f"{share.rate:.2f}".rstrip("0").rstrip(".").replace(".", ",")
            assert (
                f"TVA à {rate}{NBSP}% sur {euros(str(share.total_incl_vat))} TTC "
                f"(dont {euros(str(share.shipping))} de frais de livraison)"
            ) in part
            assert euros(str(share.vat)) in part
        assert f"TVA à 5,5{NBSP}% sur {euros('70.93')} TTC (dont {euros('10.96')}" in part
        assert f"TVA à 20{NBSP}% sur {euros('28.44')} TTC (dont {euros('3.94')}" in part
        assert "au prorata du montant hors taxes des articles" in part
    # The modification keeps only the tea: all the shipping is taxed with it, nothing to split.
    modified = render(example(OrderModified))
    for part in both(modified):
        assert f"TVA à 5,5{NBSP}% sur {euros('74.87')} TTC (dont {euros('14.90')}" in part
        assert f"20{NBSP}%" not in part
        assert "au prorata" not in part


def test_an_order_event_from_before_the_breakdown_shows_its_vat_total_only() -> None:
    order = example(OrderConfirmed)
    older = variant(order, totals=variant(order.totals, vat_breakdown=()))
    for part in both(render(older)):
        assert "dont TVA" in part and euros("8.44") in part
        assert "TVA à" not in part and "au prorata" not in part


def test_a_guest_is_told_to_reply_rather_than_to_use_a_customer_space() -> None:
    order = example(OrderConfirmed)
    email = render(variant(order, customer=variant(order.customer, customer_id=None)))
    for part in both(email):
        assert "répondez à cet e-mail en nous indiquant votre numéro de commande" in part
        assert "Mes commandes et factures" not in part


@pytest.mark.parametrize("reason", list(RefusalReason), ids=lambda r: r.value)
def test_a_refused_payment_says_why_advises_the_bank_and_how_to_try_again(
    reason: RefusalReason,
) -> None:
    from notifications.domain import REFUSAL_ADVICE, REFUSAL_REASONS

    email = render(variant(example(PaymentRefused), reason=reason))
    assert "paiement" in email.subject and "JG-2026-000123" in email.subject
    for part in both(email):
        assert typography(REFUSAL_REASONS[reason]) in part
        assert typography(REFUSAL_ADVICE[reason]) in part
        assert "Si un débit apparaît malgré tout sur votre relevé de compte" in part
        assert "confirme que le paiement a bien été effectué" not in part
        assert "réessayer" in part.lower()
        assert euros("99.37") in part
        assert "Vous ne recevrez pas de confirmation de commande" in part


def test_the_shipping_email_gives_carrier_tracking_number_link_and_customer_space_path() -> None:
    shipped = example(Shipped)
    email = render(shipped)
    assert f'href="{shipped.tracking_url.replace("&", "&amp;")}"' in email.html
    for part in both(email):
        assert "Japan Post (EMS)" in part
        assert "EN123456789JP" in part
        assert f"«{NBSP}Mes commandes et factures{NBSP}»" in part
        assert f"«{NBSP}Suivre mon colis{NBSP}»" in part  # the customer space's own label
        assert "Suivre votre colis" in part
    assert shipped.tracking_url in email.text


def test_the_invoice_email_names_the_invoice_its_pdf_and_where_it_stays() -> None:
    (plan,) = plan_emails(example(InvoiceIssued))
    email = RENDERER.render(plan)
    assert "F-2026-000042" in email.subject
    assert plan.attachment is not None and plan.attachment.filename == "facture-F-2026-000042.pdf"
    for part in both(email):
        assert "F-2026-000042" in part and "facture-F-2026-000042.pdf" in part
        assert f"«{NBSP}Mes commandes et factures{NBSP}»" in part
        assert euros("90.93") in part and euros("8.44") in part and euros("99.37") in part


def test_the_password_reset_gives_the_single_use_link_its_expiry_and_the_spam_hint() -> None:
    event = example(PasswordResetRequested)
    email = render(event)
    assert RESET_URL in email.text and f'href="{RESET_URL}"' in email.html
    assert event.sealed_reset_url not in email.text + email.html
    for part in both(email):
        assert "une seule fois" in part
        assert "expire le 2" in part and "11" in part  # 10:14 UTC is 11 h 14 in Paris
        assert "Courrier indésirable" in part and "Spams" in part


def test_the_email_change_link_goes_to_the_new_address_with_its_expiry_and_the_ignore_advice() -> (
    None
):
    event = example(EmailChangeRequested)  # expires 2026-03-03 09:14 UTC, 10 h 14 in Paris
    (plan,) = plan_emails(event, LINKS)
    assert plan.to_email == event.new_email != event.email
    email = RENDERER.render(plan)
    assert email.subject == "Confirmez votre nouvelle adresse e-mail JapanGoodz"
    assert EMAIL_CHANGE_URL in email.text
    assert f'href="{EMAIL_CHANGE_URL}"' in email.html
    for part in both(email):
        assert event.new_email in part
        assert event.email not in part  # the current address is not shown to an unconfirmed one
        assert "une seule fois" in part
        assert re.search(
            rf"expire le 3[ {NBSP}]mars 2026 à 10{NBSP}h{NBSP}14 \(heure de Paris\)", part
        )
        assert f"«{NBSP}Informations et adresse de facturation{NBSP}»" in part
        assert "Si vous n'êtes pas à l'origine de cette demande, ignorez simplement" in part
        assert "ne sera pas modifiée" in part
        assert "ancienne adresse" in part
        assert "Courrier indésirable" in part and "Spams" in part


def test_the_email_change_link_and_name_are_escaped_in_the_html_part() -> None:
    link = "https://www.japangoodz.com/mon-compte/confirmation-email?token=Qa7w2&src=mail"
    evil = '<b onmouseover="x()">Camille</b>'
    email = render(variant(example(EmailChangeRequestedV1), confirmation_url=link, first_name=evil))
    assert f'href="{link.replace("&", "&amp;")}"' in email.html
    assert "<b onmouseover" not in email.html and "&lt;b onmouseover" in email.html
    assert link in email.text and evil in email.text  # plain text shows them as they are


def test_the_welcome_email_asks_to_verify_the_address_with_the_link_and_its_expiry() -> None:
    event = example(CustomerRegistered)  # the link expires 2026-03-03 09:14 UTC
    email = render(event)
    assert VERIFICATION_URL in email.text and f'href="{VERIFICATION_URL}"' in email.html
    for part in both(email):
        assert event.email in part and "est bien la vôtre" in part
        assert "une seule fois" in part
        assert re.search(rf"expire le 3[ {NBSP}]mars 2026 à 10{NBSP}h{NBSP}14", part)
        assert "passées sans compte" in part
        assert "sans confirmation, ce compte n'aura aucun accès à vos commandes" in part
    older = variant(event, sealed_verification_url=None, verification_expires_at=None)
    (plan,) = plan_emails(older)
    plain_welcome = RENDERER.render(plan)
    for part in both(plain_welcome):
        assert "est bien la vôtre" not in part and "répondez simplement" in part


def test_a_new_verification_link_comes_with_its_expiry_and_the_ignore_advice() -> None:
    event = example(EmailVerificationRequested)
    email = render(event)
    assert email.subject == "Confirmez votre adresse e-mail JapanGoodz"
    assert VERIFICATION_URL in email.text and f'href="{VERIFICATION_URL}"' in email.html
    for part in both(email):
        assert event.customer_number in part and "une seule fois" in part
        assert "ignorez simplement cet e-mail" in part
        assert "Courrier indésirable" in part and "Spams" in part


@pytest.mark.parametrize(
    ("event", "facts"),
    [
        (
            example(OrderModified),
            ["a bien été modifiée", "99,37", "74,87", "Mes commandes et factures"],
        ),
        (
            example(OrderCancelled),
            ["a été annulée", "à votre demande", "99,37", "ne sera pas débité"],
        ),
        (
            example(OrderProcessing),
            ["en cours de traitement", "ne peut plus être modifiée", "Furoshiki motif sakura"],
        ),
        (
            example(Backordered),
            [
                "Certains articles de votre commande",
                "réapprovisionnement",
                "Furoshiki motif sakura",
                "lundi 30 mars 2026",
                "annulation",
            ],
        ),
        (example(Delivered), ["a été livré", "mercredi 1er avril 2026", "rétractation"]),
        (
            example(ReturnAccepted),
            [
                "est acceptée",
                "7e1f0a9b-2c3d-4e5f-8a7b-6c5d4e3f2a01",
                "À renvoyer au plus tard le mercredi 15 avril 2026",
            ],
        ),
        (example(ReturnRejected), ["ne pouvons malheureusement pas", "est dépassé"]),
        (example(RefundIssued), ["À la suite de votre retour", "remboursé", "59,97"]),
        (example(ClaimOpened), ["bien reçu votre réclamation", "article endommagé", "écrasée"]),
        (example(ClaimResolved), ["remboursons", "19,99", "Toutes nos excuses"]),
        (example(CustomerErasureRequested), ["suppression", "C-004217", "factures"]),
        (example(CustomerErased), ["ont été supprimés", "dernier"]),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, Event) else "",
)
def test_each_email_states_its_facts(event: Event, facts: list[str]) -> None:
    email = render(event)
    for part in both(email):
        for fact in facts:
            assert typography(fact) in part, (fact, part[:400])


def test_the_modification_email_explains_the_new_authorisation_only_when_the_total_changed() -> (
    None
):
    changed = render(example(OrderModified))
    assert "nouvelle autorisation" in changed.text
    same = example(OrderModified)
    unchanged = render(variant(same, previous_total=same.new_total, amount_changed=False))
    assert "nouvelle autorisation" not in unchanged.text
    assert "reste de" in unchanged.text


def test_envelopes_of_the_examples_render_through_the_public_plan() -> None:
    # the handler renders from the envelope's payload; a round trip through JSON changes nothing
    envelope = Envelope.wrap(example(OrderConfirmed), correlation_id="c")
    parsed = Envelope[OrderConfirmed].model_validate_json(envelope.to_json_bytes())
    assert render(parsed.payload) == render(example(OrderConfirmed))
    assert datetime(2026, 3, 2, tzinfo=UTC) < parsed.payload.modifiable_until

"""The console's rules: who may do what, when a session stops, CSRF, the merged timeline, the
French amounts and the dead letters' replay headers."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from backoffice.domain import (
    Action,
    DeadLetter,
    Member,
    Role,
    SessionState,
    csrf_matches,
    from_another_site,
    may,
    new_session,
    replay_headers,
    safe_next,
    service_of,
    timeline,
    wording,
)

pytestmark = pytest.mark.unit

NOW = datetime(2026, 12, 2, 14, 0, tzinfo=UTC)
MANAGER = Member(uuid.uuid4(), "manager@japangoodz.test", "Claire Manager", Role.MANAGER)
AGENT = Member(uuid.uuid4(), "agent@japangoodz.test", "Hugo Agent", Role.AGENT)


def test_only_managers_replay_and_read_the_audit_trail() -> None:
    for action in (Action.REPLAY_DEAD_LETTER, Action.REPLAY_OUTBOX, Action.READ_AUDIT):
        assert may(Role.MANAGER, action)
        assert not may(Role.AGENT, action)
    for action in (
        Action.CANCEL_ORDER,
        Action.RESOLVE_CLAIM,
        Action.RESEND_EMAIL,
        Action.COUNT_STOCK,
    ):
        assert may(Role.AGENT, action)
        assert may(Role.MANAGER, action)


def test_a_session_asks_to_sign_in_again_once_its_staff_token_runs_out() -> None:
    session = new_session("s", "c", AGENT, "token", 900, NOW, timedelta(hours=10))
    assert session.state(NOW + timedelta(minutes=10)) is SessionState.ACTIVE
    # a little before accounts' expiry: a page's calls would be refused halfway
    assert session.state(NOW + timedelta(seconds=890)) is SessionState.TOKEN_EXPIRED
    assert session.state(NOW + timedelta(hours=10)) is SessionState.EXPIRED


def test_the_csrf_token_must_be_the_sessions_own() -> None:
    assert csrf_matches("abc123", "abc123")
    assert not csrf_matches("abc123", "abc124")
    assert not csrf_matches("abc123", "")
    assert not csrf_matches("abc123", None)


@pytest.mark.parametrize(
    ("origin", "fetch_site", "refused"),
    [
        ("https://console.japangoodz.com", "same-origin", False),
        ("https://console.japangoodz.com/", None, False),
        (None, None, False),  # a script, an old browser: nothing to judge
        (None, "none", False),  # typed in the address bar, a bookmark
        ("https://evil.example", None, True),
        ("https://evil.example", "cross-site", True),
        (None, "cross-site", True),
        (None, "same-site", True),  # another host of japangoodz.com, e.g. a shop page
        ("null", None, True),  # a sandboxed frame, a data: page
        ("https://console.japangoodz.com.evil.example", None, True),
        ("https://evil.example", "same-origin", False),  # the browser's word decides
    ],
)
def test_a_sign_in_posted_from_another_site_is_refused(
    origin: str | None, fetch_site: str | None, refused: bool
) -> None:
    assert from_another_site(origin, fetch_site, "console.japangoodz.com") is refused


def test_a_proxy_that_rewrites_host_does_not_lock_members_out() -> None:
    # a current browser says same-origin: the Host the app sees does not matter
    assert not from_another_site("https://console.japangoodz.com", "same-origin", "backoffice:8000")
    # an older browser (no Sec-Fetch-Site): Origin against Host, default ports aside
    assert not from_another_site(
        "https://console.japangoodz.com", None, "console.japangoodz.com:443"
    )
    assert not from_another_site("http://127.0.0.1:8006", None, "127.0.0.1:8006")
    assert from_another_site("https://evil.example", None, "console.japangoodz.com:443")


@pytest.mark.parametrize(
    ("asked", "goes"),
    [
        ("/commandes/1", "/commandes/1"),
        ("https://evil.example/", "/"),
        ("//evil.example", "/"),
        ("/\\evil.example", "/"),
        ("", "/"),
        (None, "/"),
    ],
)
def test_after_signing_in_the_member_stays_on_the_console(asked: str | None, goes: str) -> None:
    assert safe_next(asked) == goes


def test_the_timeline_merges_the_four_services_oldest_first() -> None:
    order = {
        "timeline": [
            {"at": "2026-11-02T10:00:00Z", "kind": "placed", "label": "Commande passée"},
            {"at": "2026-11-02T10:05:00Z", "kind": "confirmed", "label": "Paiement validé"},
        ]
    }
    payments = {
        "events": [{"at": "2026-11-02T10:04:00Z", "kind": "authorised", "amount": "34.90"}],
        "documents": [
            {
                "number": "F-2026-000001",
                "kind": "invoice",
                "amount": "34.90",
                "issued_at": "2026-11-03T09:00:00+00:00",
            }
        ],
    }
    fulfillment = {
        "handed_off_at": "2026-11-02T10:10:00Z",
        "parcels": [
            {
                "tracking_number": "EJ123",
                "tracking_url": "https://track.example/EJ123",
                "picked_up_at": "2026-11-03T08:00:00Z",
                "delivered_at": "2026-11-12T08:00:00Z",
            }
        ],
        "claims": [
            {
                "kind": "damaged_item",
                "opened_at": "2026-11-13T08:00:00Z",
                "resolved_at": "2026-11-13T09:00:00Z",
                "resolution": "refund",
                "refund_amount": "34.90",
            }
        ],
    }
    emails = [
        {
            "subject": "Confirmation de votre commande",
            "status": "sent",
            "created_at": "2026-11-02T10:05:01Z",
            "sent_at": "2026-11-02T10:05:03Z",
        }
    ]
    entries = timeline.merge(
        timeline.checkout_entries(order),
        timeline.payment_entries(payments),
        timeline.fulfillment_entries(fulfillment),
        timeline.email_entries(emails),
    )
    assert [e.title for e in entries] == [
        "Commande passée",
        "Paiement autorisé",
        "Paiement validé",
        "Confirmation de votre commande",
        "Remise à la logistique",
        "Colis expédié EJ123",
        "Facture F-2026-000001",
        "Colis livré EJ123",
        "Réclamation ouverte (article endommagé)",
        "Réclamation résolue\u00a0: remboursement",
    ]
    invoice = next(e for e in entries if e.title.startswith("Facture"))
    assert invoice.link == "/documents/F-2026-000001.pdf"  # proxied by the console
    shipped = next(e for e in entries if e.title.startswith("Colis expédié"))
    assert shipped.link == "https://track.example/EJ123"
    assert entries[1].detail == "34,90\u00a0€"


def test_a_service_that_did_not_answer_adds_nothing_and_breaks_nothing() -> None:
    entries = timeline.merge(
        timeline.checkout_entries({}),
        timeline.payment_entries({}),
        timeline.fulfillment_entries({"parcels": [{"shipped_at": "bad"}]}),
        timeline.email_entries([]),
    )
    assert entries == []


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("34.90", "34,90\u00a0€"),
        (Decimal("1234.5"), "1\u202f234,50\u00a0€"),
        ("-5", "-5,00\u00a0€"),
        (None, ""),
    ],
)
def test_amounts_are_written_the_french_way(value: object, text: str) -> None:
    assert wording.euros(value) == text


def test_a_refund_amount_is_euros_with_two_places_at_most() -> None:
    assert wording.parse_euros("19,90") == Decimal("19.90")
    assert wording.parse_euros(" 19.9 € ") == Decimal("19.90")
    assert wording.parse_euros("") is None
    for wrong in ("abc", "-3", "0", "1.999", "NaN", "Infinity"):
        with pytest.raises(ValueError):
            wording.parse_euros(wrong)


def _letter(headers: list[tuple[str, bytes]]) -> DeadLetter:
    return DeadLetter(7, "payment", "t.jg.payment.dead-letter", 1, 42, b"k", b"{}", headers, NOW)


def test_a_replay_is_the_original_message_without_the_dead_letter_headers() -> None:
    letter = _letter(
        [
            ("event-type", b"OrderPlaced"),
            ("event-id", b"e1"),
            ("dlq-original-topic", b"t.jg.checkout.orders"),
            ("dlq-reason", b"handler_failed"),
            ("dlq-error", b"boom"),
            ("replay-count", b"1"),
        ]
    )
    assert letter.replayable
    assert replay_headers(letter) == [
        ("event-type", b"OrderPlaced"),
        ("event-id", b"e1"),
        ("replayed-from", b"t.jg.payment.dead-letter/1/42"),
        ("replay-count", b"2"),
    ]


def test_an_unreadable_dead_letter_is_not_replayed() -> None:
    letter = _letter(
        [("dlq-original-topic", b"t.jg.checkout.orders"), ("dlq-reason", b"unreadable")]
    )
    assert not letter.replayable
    assert not _letter([("dlq-reason", b"handler_failed")]).replayable


def test_the_service_of_a_dead_letter_topic() -> None:
    assert service_of("t1.jg.payment.dead-letter", "t1.") == "payment"
    assert service_of("jg.checkout.dead-letter", "") == "checkout"


def test_dates_are_written_the_french_way() -> None:
    assert wording.french_date("2026-12-16") == "16/12/2026"
    assert wording.french_date(None) == ""
    assert wording.paris_time(datetime(2026, 12, 2, 15, 4, tzinfo=UTC)) == "02/12/2026 à 16:04"

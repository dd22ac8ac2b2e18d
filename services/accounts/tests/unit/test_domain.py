"""Accounts' pure rules: emails, passwords, tokens, slowing down, addresses, order statuses."""

import ipaddress
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from accounts import domain
from accounts.domain import (
    Backoff,
    InvalidEmailError,
    OrderStatus,
    PasswordProblem,
    client_address,
    customer_number,
    hash_token,
    link_with_token,
    new_token,
    next_status,
    normalise_email,
    over_limit,
    password_problems,
    wait_before_next_try,
)

pytestmark = pytest.mark.unit

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


# --- emails ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("camille.durand@example.fr", "camille.durand@example.fr"),
        ("  Camille.Durand@Example.FR \n", "camille.durand@example.fr"),
        ("CAMILLE+boutique@EXAMPLE.fr", "camille+boutique@example.fr"),
        ("élodie@exemple.fr", "élodie@exemple.fr"),
    ],
)
def test_emails_are_trimmed_and_lower_cased_so_one_person_has_one_account(
    raw: str, expected: str
) -> None:
    assert normalise_email(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "   ",
        "camille",
        "camille@",
        "@example.fr",
        "camille@@example.fr",
        "a b@example.fr",
        "camille@example",
        f"{'a' * 250}@example.fr",
    ],
)
def test_invalid_emails_are_refused_with_a_french_message(raw: str) -> None:
    with pytest.raises(InvalidEmailError) as caught:
        normalise_email(raw)
    assert "adresse e-mail" in str(caught.value)


# --- password policy -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "password",
    [
        "Kintsugi-Tasse-42",  # three kinds, 17 characters
        "Ma théière en fonte 1854",  # passphrase
        "correct horse battery staple",  # long passphrase, lower case only
        "Q7#pL9!vR2@x",  # exactly 12, four kinds
    ],
)
def test_good_passwords_pass(password: str) -> None:
    assert (
        password_problems(password, email="camille.durand@example.fr", names=("Camille", "Durand"))
        == []
    )


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("Court-1a", PasswordProblem.TOO_SHORT),
        ("A1b!" * 40, PasswordProblem.TOO_LONG),
        ("onlylowercase1", PasswordProblem.TOO_SIMPLE),
        ("aaaaaaaaaaaaaaaaaaaa", PasswordProblem.REPETITIVE),
        ("Camille-2026!x", PasswordProblem.PERSONAL),
        ("Durand#Tokyo99", PasswordProblem.PERSONAL),
        ("Azerty123456!", PasswordProblem.COMMON),
        ("MotDePasse2026!", PasswordProblem.COMMON),
        ("12345678901234567", PasswordProblem.COMMON),
    ],
)
def test_weak_passwords_are_refused_with_the_reason(
    password: str, problem: PasswordProblem
) -> None:
    problems = password_problems(
        password, email="camille.durand@example.fr", names=("Camille", "Durand")
    )
    assert problem in problems
    assert all(domain.PASSWORD_MESSAGES[p] for p in problems)


def test_the_email_local_part_is_personal_too() -> None:
    assert PasswordProblem.PERSONAL in password_problems(
        "xx-Sakuramochi-77", email="sakuramochi@example.jp"
    )


def test_passwords_are_compared_in_nfkc_form() -> None:
    # a full-width "Ａ" typed on a Japanese keyboard is the same password as "A"
    assert domain.normalise_password("Ａbc") == "Abc"


# --- tokens ----------------------------------------------------------------------------------


def test_tokens_have_at_least_128_random_bits_and_only_their_hash_is_kept() -> None:
    token, token_hash = new_token()
    assert len(token) >= 43  # 32 bytes in base64url
    assert token_hash == hash_token(token)
    assert len(token_hash) == 32 and token.encode() not in token_hash
    assert len({new_token()[0] for _ in range(200)}) == 200


def test_a_different_token_never_matches_the_hash() -> None:
    token, token_hash = new_token()
    assert hash_token(token[:-1] + ("A" if token[-1] != "A" else "B")) != token_hash


def test_the_link_carries_the_token_and_keeps_other_parameters() -> None:
    link = link_with_token(
        "https://www.japangoodz.com/mon-compte/reinitialisation?lang=fr", "abc_-9"
    )
    parts = urlsplit(link)
    assert parts.path == "/mon-compte/reinitialisation"
    assert parse_qs(parts.query) == {"lang": ["fr"], "token": ["abc_-9"]}


# --- slowing down failed logins, rate limits ---------------------------------------------------

POLICY = Backoff(
    free_failures=5,
    window=timedelta(minutes=15),
    base_delay=timedelta(seconds=2),
    max_delay=timedelta(minutes=15),
)


def test_the_first_failures_cost_nothing() -> None:
    failures = [NOW - timedelta(seconds=s) for s in (1, 2, 3, 4)]
    assert wait_before_next_try(failures, NOW, POLICY) == 0


def test_past_the_free_failures_each_try_waits_twice_as_long() -> None:
    waits = []
    for n in range(5, 10):
        failures = [NOW] * n  # n failures, the latest just now
        waits.append(wait_before_next_try(failures, NOW, POLICY))
    assert waits == [2, 4, 8, 16, 32]


def test_the_wait_is_counted_from_the_latest_failure_and_capped() -> None:
    failures = [NOW - timedelta(seconds=1)] * 5
    assert wait_before_next_try(failures, NOW, POLICY) == pytest.approx(1.0)
    many = [NOW - timedelta(minutes=1)] * 40
    assert wait_before_next_try(many, NOW, POLICY) == pytest.approx(14 * 60)


def test_failures_older_than_the_window_are_forgotten() -> None:
    old = [NOW - timedelta(minutes=16)] * 50
    assert wait_before_next_try(old, NOW, POLICY) == 0


def test_a_limit_allows_exactly_its_number_of_requests() -> None:
    assert [over_limit(n, 3) for n in range(5)] == [False, False, False, True, True]


# --- customer numbers, client addresses ------------------------------------------------------


HOUR = timedelta(hours=1)


def test_a_sliding_window_admits_its_limit_then_says_how_long_to_wait() -> None:
    accepted: list[datetime] = []
    for minute in range(3):
        at = NOW + timedelta(minutes=minute)
        assert domain.wait_for_room(accepted, at, limit=3, window=HOUR) == 0
        accepted.append(at)
    # full: the oldest leaves the window an hour after it came, 58 minutes from now
    later = NOW + timedelta(minutes=2)
    assert domain.wait_for_room(accepted, later, limit=3, window=HOUR) == 58 * 60
    # once it left, there is room for one again (not three)
    after = NOW + HOUR + timedelta(seconds=1)
    assert domain.wait_for_room(accepted, after, limit=3, window=HOUR) == 0
    accepted.append(after)
    assert domain.wait_for_room(accepted, after, limit=3, window=HOUR) > 0


def test_the_wait_frees_exactly_as_many_as_needed() -> None:
    accepted = [NOW - timedelta(minutes=m) for m in (50, 40, 30, 20, 10)]  # 5 in the window
    # limit 3: three must leave for a fourth to fit; the third oldest leaves in 30 minutes
    assert domain.wait_for_room(accepted, NOW, limit=3, window=HOUR) == 30 * 60
    # requests older than the window do not count
    old = [NOW - timedelta(hours=2)] * 10
    assert domain.wait_for_room(old, NOW, limit=1, window=HOUR) == 0


def test_a_request_accepted_by_a_concurrent_caller_that_read_the_clock_later_counts() -> None:
    # Two instances: one read the clock a few milliseconds before the other recorded.
    just_after = [NOW + timedelta(milliseconds=5)]
    assert domain.wait_for_room(just_after, NOW, limit=1, window=HOUR) > 0


def test_waits_are_said_in_french() -> None:
    assert domain.wait_text(0.2) == "1 seconde"
    assert domain.wait_text(45) == "45 secondes"
    assert domain.wait_text(61) == "2 minutes"
    assert domain.wait_text(3600) == "60 minutes"


def test_a_guest_order_address_is_compared_like_account_addresses() -> None:
    assert domain.order_email(" Helene.Marchand@Example.FR ") == "helene.marchand@example.fr"
    assert domain.order_email("Not An@Address") == "not an@address"  # still comparable


def test_customer_numbers_look_like_c_000123() -> None:
    assert customer_number(123) == "C-000123"
    assert customer_number(1_234_567) == "C-1234567"
    with pytest.raises(ValueError):
        customer_number(0)


PROXIES = [ipaddress.ip_network("10.0.0.0/8"), ipaddress.ip_network("127.0.0.1/32")]


@pytest.mark.parametrize(
    ("peer", "forwarded", "expected"),
    [
        ("203.0.113.7", None, "203.0.113.7"),
        ("203.0.113.7", "198.51.100.1", "203.0.113.7"),  # not a proxy: header ignored
        ("10.1.2.3", "198.51.100.1", "198.51.100.1"),
        ("10.1.2.3", "6.6.6.6, 198.51.100.1, 10.9.9.9", "198.51.100.1"),  # spoofed left part
        ("10.1.2.3", "garbage", "10.1.2.3"),
        (None, None, "unknown"),
    ],
)
def test_the_client_address_trusts_forwarded_for_only_from_proxies(
    peer: str | None, forwarded: str | None, expected: str
) -> None:
    assert client_address(peer, forwarded, PROXIES) == expected


# --- order statuses --------------------------------------------------------------------------


def test_an_order_status_never_moves_backwards() -> None:
    assert next_status(OrderStatus.SHIPPED, OrderStatus.PROCESSING) is OrderStatus.SHIPPED
    assert next_status(OrderStatus.BACKORDERED, OrderStatus.PROCESSING) is OrderStatus.PROCESSING
    assert next_status(OrderStatus.PROCESSING, OrderStatus.BACKORDERED) is OrderStatus.PROCESSING
    assert next_status(None, OrderStatus.DELIVERED) is OrderStatus.DELIVERED


def test_cancelled_and_refused_orders_stay_so() -> None:
    assert next_status(OrderStatus.CANCELLED, OrderStatus.RELEASED) is OrderStatus.CANCELLED
    assert next_status(OrderStatus.CONFIRMED, OrderStatus.CANCELLED) is OrderStatus.CANCELLED
    assert next_status(OrderStatus.PLACED, OrderStatus.PAYMENT_REFUSED) is (
        OrderStatus.PAYMENT_REFUSED
    )


def test_every_status_and_step_has_a_french_label() -> None:
    assert set(domain.STATUS_LABELS) == set(OrderStatus)
    assert set(domain.TIMELINE_LABELS) == set(domain.TimelineStep)


def test_invoice_links_point_at_payment() -> None:
    assert domain.invoice_download_url("http://127.0.0.1:8002/", "/invoices/F-2026-000042.pdf") == (
        "http://127.0.0.1:8002/invoices/F-2026-000042.pdf"
    )

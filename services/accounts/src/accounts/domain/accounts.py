"""The account's rules: emails, the password policy, secret tokens, slowing down failed
logins, rate limits, customer numbers, links, client addresses, profile changes, erasure."""

from __future__ import annotations

import hashlib
import ipaddress
import math
import re
import secrets
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from email_validator import EmailNotValidError, validate_email
from jg_events import Address, CustomerField

# --- emails ----------------------------------------------------------------------------------

MAX_EMAIL_LENGTH = 254


class InvalidEmailError(ValueError):
    """The address cannot be an email address (message in French)."""


def normalise_email(raw: str) -> str:
    """Trimmed, lower-cased, syntactically valid email address (no DNS lookup).

    The domain is kept in its Unicode form (IDNA-normalised); the whole address is lower-cased,
    so ``" Camille.Durand@Example.FR "`` and ``"camille.durand@example.fr"`` are one account.
    """
    candidate = unicodedata.normalize("NFC", raw.strip())
    if not candidate:
        raise InvalidEmailError("Veuillez indiquer votre adresse e-mail.")
    try:
        validated = validate_email(candidate, check_deliverability=False)
    except EmailNotValidError as error:
        raise InvalidEmailError("Cette adresse e-mail n'est pas valide.") from error
    email = validated.normalized.lower()
    if len(email) > MAX_EMAIL_LENGTH:
        raise InvalidEmailError("Cette adresse e-mail est trop longue.")
    return email


def order_email(raw: str) -> str:
    """The address of an order, as accounts keys guest orders by it (like account emails).

    Checkout validates addresses itself; one that accounts' rules would refuse is still
    compared trimmed and lower-cased, as checkout's erasure compares them.
    """
    try:
        return normalise_email(raw)
    except InvalidEmailError:
        return raw.strip().lower()


# --- names -----------------------------------------------------------------------------------

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def clean_name(raw: str) -> str:
    """A first or last name: trimmed, inner whitespace collapsed, 1 to 100 characters."""
    name = " ".join(unicodedata.normalize("NFC", raw).split())
    if not name:
        raise ValueError("Ce champ est obligatoire.")
    if len(name) > 100:
        raise ValueError("100 caractères au maximum.")
    if _CONTROL.search(name):
        raise ValueError("Caractères non autorisés.")
    return name


# --- password policy -------------------------------------------------------------------------

MIN_PASSWORD_LENGTH = 12
PASSPHRASE_LENGTH = 16
MAX_PASSWORD_LENGTH = 128

# Frequent choices (after removing digits and symbols, lower-cased): refused whatever is added.
COMMON_PASSWORD_CORES = frozenset(
    {
        "password",
        "passwd",
        "motdepasse",
        "azerty",
        "azertyuiop",
        "qwerty",
        "qwertyuiop",
        "abcdef",
        "abcdefgh",
        "abcdefghijkl",
        "bonjour",
        "soleil",
        "doudou",
        "loulou",
        "chouchou",
        "marseille",
        "paris",
        "iloveyou",
        "jetaime",
        "admin",
        "welcome",
        "bienvenue",
        "letmein",
        "japangoodz",
        "japan",
        "japon",
        "sakura",
        "tokyo",
        "naruto",
        "pokemon",
    }
)


class PasswordProblem(StrEnum):
    """Why a password is refused (the messages are shown to the customer)."""

    TOO_SHORT = "too_short"
    TOO_LONG = "too_long"
    TOO_SIMPLE = "too_simple"
    REPETITIVE = "repetitive"
    PERSONAL = "personal"
    COMMON = "common"


PASSWORD_MESSAGES: dict[PasswordProblem, str] = {
    PasswordProblem.TOO_SHORT: f"Le mot de passe doit contenir au moins {MIN_PASSWORD_LENGTH} "
    "caractères.",
    PasswordProblem.TOO_LONG: f"Le mot de passe ne peut pas dépasser {MAX_PASSWORD_LENGTH} "
    "caractères.",
    PasswordProblem.TOO_SIMPLE: "Le mot de passe doit mélanger au moins trois types de caractères "
    "(minuscules, majuscules, chiffres, caractères spéciaux), ou compter au moins "
    f"{PASSPHRASE_LENGTH} caractères.",
    PasswordProblem.REPETITIVE: "Le mot de passe répète trop les mêmes caractères.",
    PasswordProblem.PERSONAL: "Le mot de passe ne doit contenir ni votre adresse e-mail ni votre "
    "nom.",
    PasswordProblem.COMMON: "Ce mot de passe est trop courant, veuillez en choisir un autre.",
}

PASSWORD_POLICY_TEXT = (
    f"{MIN_PASSWORD_LENGTH} à {MAX_PASSWORD_LENGTH} caractères, mélangeant au moins trois types "
    f"de caractères (ou {PASSPHRASE_LENGTH} caractères au moins), sans votre e-mail ni votre nom."
)


def normalise_password(password: str) -> str:
    """NFKC form, so the same password typed on another keyboard/OS still matches."""
    return unicodedata.normalize("NFKC", password)


def password_problems(
    password: str, *, email: str | None = None, names: Iterable[str] = ()
) -> list[PasswordProblem]:
    """Every rule ``password`` breaks (empty: acceptable).

    Rules (close to the CNIL's 2022 recommendation): 12 to 128 characters; three of the four
    kinds (lower case, upper case, digit, other) unless 16 characters or more (a passphrase);
    at least 5 different characters; not containing the email's local part or the customer's
    names; not a common password with digits or symbols added.
    """
    pw = normalise_password(password)
    problems: list[PasswordProblem] = []
    if len(pw) < MIN_PASSWORD_LENGTH:
        problems.append(PasswordProblem.TOO_SHORT)
    if len(pw) > MAX_PASSWORD_LENGTH:
        problems.append(PasswordProblem.TOO_LONG)
    kinds = sum(
        (
            any(c.islower() for c in pw),
            any(c.isupper() for c in pw),
            any(c.isdigit() for c in pw),
            any(not c.isalnum() for c in pw),
        )
    )
    if kinds < 3 and len(pw) < PASSPHRASE_LENGTH:
        problems.append(PasswordProblem.TOO_SIMPLE)
    if len(set(pw)) < 5:
        problems.append(PasswordProblem.REPETITIVE)
    lowered = pw.casefold()
    personal = [n.casefold() for n in names if len(n) >= 3]
    if email:
        local = email.split("@", 1)[0].casefold()
        personal += [local] if len(local) >= 4 else []
        personal += [p for p in re.split(r"[._+-]", local) if len(p) >= 4]
    if any(p in lowered for p in personal):
        problems.append(PasswordProblem.PERSONAL)
    core = "".join(c for c in lowered if c.isalpha())
    if core in COMMON_PASSWORD_CORES or pw.isdigit():
        problems.append(PasswordProblem.COMMON)
    return problems


# --- secret tokens (reset links, email confirmations, refresh tokens) -------------------------

TOKEN_BYTES = 32  # 256 random bits


def hash_token(token: str) -> bytes:
    """SHA-256 of a token: what the database keeps (the token itself is never stored).

    A fast hash is right here: the token has 256 random bits, so it cannot be guessed from its
    hash, unlike a password.
    """
    return hashlib.sha256(token.encode("utf-8")).digest()


def new_token() -> tuple[str, bytes]:
    """A new URL-safe token of 256 random bits and its hash."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    return token, hash_token(token)


def link_with_token(base_url: str, token: str) -> str:
    """``base_url`` with ``token=<token>`` added to its query (other parameters kept)."""
    parts = urlsplit(base_url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "token"]
    query.append(("token", token))
    return urlunsplit(parts._replace(query=urlencode(query)))


# --- slowing down failed logins, rate limits ---------------------------------------------------


@dataclass(frozen=True)
class Backoff:
    """Failures allowed freely in a window, then an exponentially growing wait."""

    free_failures: int
    window: timedelta
    base_delay: timedelta
    max_delay: timedelta


def wait_before_next_try(failures: Sequence[datetime], now: datetime, policy: Backoff) -> float:
    """Seconds the caller must still wait before its next try (0: it may try now).

    ``failures`` are the times of recent failed attempts (any order). Past the free ones, the
    n-th further failure imposes ``base_delay * 2**(n-1)`` (capped) after the latest failure.
    """
    recent = sorted(t for t in failures if now - t < policy.window)
    beyond = len(recent) - policy.free_failures + 1
    if beyond < 1:
        return 0.0
    delay = min(policy.max_delay, policy.base_delay * (2.0 ** (beyond - 1)))
    wait = (recent[-1] + delay - now).total_seconds()
    return max(0.0, wait)


def over_limit(recent_requests: int, limit: int) -> bool:
    """True when ``recent_requests`` (before this one) already reached ``limit``."""
    return recent_requests >= limit


def wait_for_room(
    requests: Sequence[datetime], now: datetime, *, limit: int, window: timedelta
) -> float:
    """Seconds before one more request fits in a sliding window of ``limit`` per ``window``.

    ``requests`` are the times of the requests already accepted (any order; those older than
    the window are ignored, those a little after ``now``, accepted by a concurrent request that
    read the clock later, count). 0 means there is room now; otherwise the wait until enough
    of them leave the window, i.e. until the ``limit``-th most recent one is ``window`` old.
    """
    recent = sorted(t for t in requests if t > now - window)
    if len(recent) < limit:
        return 0.0
    frees_at = recent[len(recent) - limit] + window
    return max(0.0, (frees_at - now).total_seconds())


def wait_text(seconds: float) -> str:
    """A wait in French words: ``"1 seconde"``, ``"45 secondes"``, ``"12 minutes"``."""
    if seconds < 60:
        n = max(1, math.ceil(seconds))
        return f"{n} seconde{'s' if n > 1 else ''}"
    n = math.ceil(seconds / 60)
    return f"{n} minute{'s' if n > 1 else ''}"


# --- customer numbers --------------------------------------------------------------------------


def customer_number(sequence_value: int) -> str:
    """The number shown to the customer, e.g. ``C-000123`` (asked for on erasure requests)."""
    if sequence_value < 1:
        raise ValueError("customer numbers start at 1")
    return f"C-{sequence_value:06d}"


CUSTOMER_NUMBER_PATTERN = r"^C-\d{6,}$"


# --- client addresses --------------------------------------------------------------------------


def client_address(
    peer: str | None,
    forwarded_for: str | None,
    trusted: Sequence[ipaddress.IPv4Network | ipaddress.IPv6Network],
) -> str:
    """The address a request comes from, for the rate limits.

    The TCP peer, unless it is a trusted proxy (e.g. the storefront backend): then the
    right-most address of ``X-Forwarded-For`` that is not itself a trusted proxy.
    """

    def is_trusted(address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in trusted)

    address = peer or "unknown"
    if not forwarded_for or not is_trusted(address):
        return address
    for hop in reversed([h.strip() for h in forwarded_for.split(",") if h.strip()]):
        try:
            ipaddress.ip_address(hop)
        except ValueError:
            return address  # a garbled header: fall back to the proxy itself
        address = hop
        if not is_trusted(hop):
            break
    return address


# --- decisions of the use cases ---------------------------------------------------------------


def login_wait(
    by_email: Sequence[datetime],
    by_address: Sequence[datetime],
    now: datetime,
    *,
    per_email: Backoff,
    per_address: Backoff,
) -> float:
    """Seconds a login must wait: the longer of the email's and the client address's
    slow-downs (each counts the recent failures of its subject)."""
    return max(
        wait_before_next_try(by_email, now, per_email),
        wait_before_next_try(by_address, now, per_address),
    )


def same_email(new_email: str, current_email: str) -> bool:
    """An email change to the address the account already has (both normalised)."""
    return new_email == current_email


@dataclass(frozen=True)
class ProfileFields:
    """The fields of the profile a customer changes themselves."""

    first_name: str
    last_name: str
    billing_address: Address | None


@dataclass(frozen=True)
class ProfileChange:
    """A change as asked: None for a name leaves it; the address changes only when given
    (``address_given``), and given as None it is removed."""

    first_name: str | None = None
    last_name: str | None = None
    billing_address: Address | None = None
    address_given: bool = False


def apply_profile_change(
    current: ProfileFields, change: ProfileChange
) -> tuple[ProfileFields, list[CustomerField]]:
    """The profile after ``change``, and the fields that really differ (in the order
    first name, last name, billing address)."""
    updated = ProfileFields(
        first_name=change.first_name if change.first_name is not None else current.first_name,
        last_name=change.last_name if change.last_name is not None else current.last_name,
        billing_address=change.billing_address if change.address_given else current.billing_address,
    )
    changed = [
        name
        for name, differs in (
            (CustomerField.FIRST_NAME, updated.first_name != current.first_name),
            (CustomerField.LAST_NAME, updated.last_name != current.last_name),
            (CustomerField.BILLING_ADDRESS, updated.billing_address != current.billing_address),
        )
        if differs
    ]
    return updated, changed


def erasure_to_request(erasure_requested_at: datetime | None) -> bool:
    """An erasure request for an account is made once: a second one (customer service asking
    again) changes nothing and announces nothing."""
    return erasure_requested_at is None

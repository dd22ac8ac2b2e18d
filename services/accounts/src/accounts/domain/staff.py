"""The shop's team: roles, the development members, and who may add a member."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from email_validator import EmailNotValidError, validate_email
from jg_auth import StaffRole
from jg_messaging import Environment

__all__ = [
    "DEV_STAFF",
    "DEV_STAFF_PASSWORD",
    "DevStaffMember",
    "dev_staff_to_seed",
    "normalise_staff_email",
]

DEV_STAFF_PASSWORD = "dev-only-staff-password"  # noqa: S105 - development only, never seeded elsewhere


@dataclass(frozen=True)
class DevStaffMember:
    email: str
    name: str
    role: StaffRole


DEV_STAFF: tuple[DevStaffMember, ...] = (
    DevStaffMember("manager@japangoodz.test", "Claire Manager", StaffRole.MANAGER),
    DevStaffMember("agent@japangoodz.test", "Hugo Agent", StaffRole.AGENT),
)


def dev_staff_to_seed(environment: Environment) -> tuple[DevStaffMember, ...]:
    """The members seeded at start-up: the two development members in development only
    (never in test or production, where a manager is added with ``accounts.staff``)."""
    return DEV_STAFF if environment is Environment.DEVELOPMENT else ()


def normalise_staff_email(raw: str) -> str:
    """A team member's address, trimmed and lower-cased. Unlike customers' addresses, a
    special-use domain is accepted (the development members are ``@japangoodz.test``)."""
    candidate = unicodedata.normalize("NFC", raw.strip())
    try:
        validated = validate_email(candidate, check_deliverability=False, test_environment=True)
    except EmailNotValidError as error:
        raise ValueError("Cette adresse e-mail n'est pas valide.") from error
    return validated.normalized.lower()

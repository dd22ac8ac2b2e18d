"""Steps several use cases share: the live account, its view, the password policy error."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from jg_auth import AuthError
from jg_events import CustomerField, CustomerUpdated
from jg_web.http import ApiError, Problem

from accounts import domain, repository
from accounts.repository import Account

SESSION_ENDED = "Votre session a pris fin, veuillez vous reconnecter."


@dataclass(frozen=True)
class AccountView:
    """What the customer sees of their account: the row and the address waiting for
    confirmation, if any."""

    account: Account
    pending_email: str | None


async def account_view(conn: repository.Conn, account: Account, now: datetime) -> AccountView:
    return AccountView(account, await repository.pending_email(conn, account.id, now))


async def live(conn: repository.Conn, customer_id: UUID, *, lock: bool = False) -> Account:
    """The live account of a session (401 ``session_ended`` once erased or being erased)."""
    account = await repository.live_customer(conn, customer_id, lock=lock)
    if account is None:
        raise AuthError("session_ended", SESSION_ENDED)
    return account


def customer_updated(
    account: Account, changed: list[CustomerField], previous_email: str | None = None
) -> CustomerUpdated:
    return CustomerUpdated(
        customer_id=account.id,
        customer_number=account.customer_number,
        email=account.email,
        first_name=account.first_name,
        last_name=account.last_name,
        billing_address=account.billing_address,
        changed_fields=tuple(changed),
        previous_email=previous_email,
    )


def check_new_password(
    password: str, *, email: str, names: tuple[str, str], field_name: str
) -> None:
    """422 ``password_policy`` with one problem per rule the new password breaks."""
    problems = domain.password_problems(password, email=email, names=names)
    if problems:
        raise ApiError(
            422,
            "password_policy",
            "Le mot de passe ne respecte pas les règles de sécurité.",
            problems=[
                Problem(field_name, p.value, domain.PASSWORD_MESSAGES[p], {"rule": p.value})
                for p in problems
            ],
        )

"""Accounts' events: customers, password resets and erasure (topic ``jg.accounts.customers``).

All keyed by customer id. No event ever carries a password or a password hash.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, ClassVar

from pydantic import Field, StringConstraints, model_validator

from jg_events.common import Address, CustomerEvent, Email, HttpUrl
from jg_events.envelope import UtcDatetime
from jg_events.topics import Topic

__all__ = [
    "CustomerErased",
    "CustomerErasureRequested",
    "CustomerField",
    "CustomerRegistered",
    "CustomerUpdated",
    "EmailChangeRequested",
    "ErasureRequestedBy",
    "PasswordResetRequested",
]

_Name = Annotated[str, StringConstraints(min_length=1, max_length=100)]
CustomerNumber = Annotated[str, StringConstraints(min_length=1, max_length=32)]


class _AccountEvent(CustomerEvent):
    topic: ClassVar[Topic] = Topic.ACCOUNTS_CUSTOMERS

    customer_number: CustomerNumber = Field(
        description="Customer number shown to the customer (asked for on erasure requests)."
    )
    email: Email = Field(description="The customer's email address.")
    first_name: _Name = Field(description="First name.")


class CustomerRegistered(_AccountEvent):
    """A customer created an account.

    Producer: accounts, on sign-up. Consumers: checkout (links the customer's future orders),
    notifications (welcome email, optional).
    """

    event_type: ClassVar[str] = "CustomerRegistered"
    schema_version: ClassVar[int] = 1

    last_name: _Name = Field(description="Last name.")


class CustomerField(StrEnum):
    """Profile fields a CustomerUpdated may report as changed."""

    EMAIL = "email"
    FIRST_NAME = "first_name"
    LAST_NAME = "last_name"
    BILLING_ADDRESS = "billing_address"
    PASSWORD = "password"  # noqa: S105 - the fact it changed, never a value


class CustomerUpdated(_AccountEvent):
    """A customer changed their profile (current values, and which ones changed).

    Producer: accounts, on a profile change (an email change once confirmed from the new
    address; a password change). Consumers: notifications (security notice to the previous
    address on an email change, or on a password change), checkout and payment (contact and
    billing details of future documents).
    """

    event_type: ClassVar[str] = "CustomerUpdated"
    schema_version: ClassVar[int] = 1

    last_name: _Name = Field(description="Last name.")
    billing_address: Address | None = Field(
        default=None, description="Current billing address, if the customer gave one."
    )
    changed_fields: tuple[CustomerField, ...] = Field(
        min_length=1, description="Which fields this change touched."
    )
    previous_email: Email | None = Field(
        default=None, description="The address before the change, when the email changed."
    )

    @model_validator(mode="after")
    def _previous_email_iff_changed(self) -> CustomerUpdated:
        if (CustomerField.EMAIL in self.changed_fields) != (self.previous_email is not None):
            raise ValueError("previous_email is given when the email changed, and only then")
        return self


class PasswordResetRequested(_AccountEvent):
    """A customer asked to reset a forgotten password (the account exists).

    Producer: accounts, on ``POST /password-reset`` for an existing account (unknown emails
    produce nothing, and the HTTP answer is the same). Consumer: notifications (email with the
    single-use link, its expiry and the spam-folder hint).
    The URL holds a single-use token whose hash only is stored by accounts; the topic must be
    readable by notifications only. Never a password.
    """

    event_type: ClassVar[str] = "PasswordResetRequested"
    schema_version: ClassVar[int] = 1

    reset_url: HttpUrl = Field(description="Storefront link that sets a new password, once.")
    expires_at: UtcDatetime = Field(description="When the link stops working (UTC).")


class EmailChangeRequested(_AccountEvent):
    """A logged-in customer asked to change their email; the new address must confirm it.

    Producer: accounts, on ``POST /me/email`` (the current password is checked first).
    Consumer: notifications (an email to ``new_email`` with the single-use confirmation link
    and its expiry). ``email`` is still the current address: nothing changes until the link is
    followed, then accounts publishes CustomerUpdated (``previous_email`` set), on which
    notifications warns the previous address. The URL holds a single-use token whose hash only
    is stored by accounts. Never a password.
    """

    event_type: ClassVar[str] = "EmailChangeRequested"
    schema_version: ClassVar[int] = 1

    new_email: Email = Field(description="The address to confirm; the email goes there.")
    confirmation_url: HttpUrl = Field(
        description="Storefront link that confirms the new address, once."
    )
    expires_at: UtcDatetime = Field(description="When the link stops working (UTC).")


class ErasureRequestedBy(StrEnum):
    """Who asked for the erasure."""

    CUSTOMER = "customer"
    CUSTOMER_SERVICE = "customer_service"


class CustomerErasureRequested(_AccountEvent):
    """The customer asked for their account and personal data to be erased (GDPR art. 17).

    Producer: accounts, on a logged-in customer's request or customer service's (email plus
    customer number). Consumers: every service (checkout, payment, fulfillment, notifications,
    accounts) erases or pseudonymises the customer's personal data, keeping only what the law
    requires (invoices); notifications sends the "request received" email first and nothing
    else afterwards, except the final confirmation (CustomerErased).
    """

    event_type: ClassVar[str] = "CustomerErasureRequested"
    schema_version: ClassVar[int] = 1

    requested_at: UtcDatetime = Field(description="When the request was made (UTC).")
    requested_by: ErasureRequestedBy = Field(description="'customer' or 'customer_service'.")
    email_verified: bool = Field(
        False,
        description="True when the customer proved they own `email` (a confirmation link "
        "followed). Only then may a service erase what it holds by that address (guest orders "
        "placed with it); otherwise only what belongs to `customer_id`.",
    )


class CustomerErased(_AccountEvent):
    """Accounts finished erasing the customer: the last time the email address is used.

    Producer: accounts, once its own data is erased (the other services erase on
    CustomerErasureRequested). Consumer: notifications (the "deletion done" email, then it
    forgets the address). Other consumers must not store anything from this event.
    """

    event_type: ClassVar[str] = "CustomerErased"
    schema_version: ClassVar[int] = 1

    erased_at: UtcDatetime = Field(description="When the erasure was completed (UTC).")


ACCOUNT_EVENTS = (
    CustomerRegistered,
    CustomerUpdated,
    EmailChangeRequested,
    PasswordResetRequested,
    CustomerErasureRequested,
    CustomerErased,
)

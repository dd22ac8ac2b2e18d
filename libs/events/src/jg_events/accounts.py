"""Accounts' events: customers, password resets and erasure (topic ``jg.accounts.customers``).

All keyed by customer id. No event ever carries a password or a password hash, and no
single-use link in clear: a link to reset a password, change or verify an email is a
``SealedLink`` that only notifications can open (see :mod:`jg_events.sealing`); checkout,
payment and fulfillment read this topic too, and it is kept for days.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, ClassVar
from uuid import UUID

from pydantic import Field, StringConstraints, model_validator

from jg_events.common import Address, CustomerEvent, Email, HttpUrl
from jg_events.envelope import Event, UtcDatetime
from jg_events.sealing import LinkPurpose, SealedLink
from jg_events.topics import Topic

__all__ = [
    "CustomerEmailVerified",
    "CustomerErased",
    "CustomerErasureRequested",
    "CustomerField",
    "CustomerRegistered",
    "CustomerUpdated",
    "EmailChangeRequested",
    "EmailChangeRequestedV1",
    "EmailProof",
    "EmailVerificationRequested",
    "ErasureRequestedBy",
    "PasswordResetRequested",
    "PasswordResetRequestedV1",
    "SealedLinkRef",
    "sealed_link_of",
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


@dataclass(frozen=True)
class SealedLinkRef:
    """A sealed link of an event and the context it opens in (see :mod:`jg_events.sealing`)."""

    sealed: str
    purpose: LinkPurpose
    customer_id: UUID
    recipient: str


class CustomerRegistered(_AccountEvent):
    """A customer created an account; its address is not verified yet.

    Producer: accounts, on sign-up. Consumer: notifications (the welcome email, which carries
    the link that verifies the address when ``sealed_verification_url`` is given). Until the
    address is verified (CustomerEmailVerified), no service may treat the account as the owner
    of the address: guest orders placed with it are not the account's.
    """

    event_type: ClassVar[str] = "CustomerRegistered"
    schema_version: ClassVar[int] = 1

    last_name: _Name = Field(description="Last name.")
    sealed_verification_url: SealedLink | None = Field(
        default=None,
        description="Storefront link that verifies `email` (single use, expiring), sealed for "
        "notifications (purpose 'email_verification', recipient `email`). Set by accounts "
        "since email verification exists; absent from older events.",
    )
    verification_expires_at: UtcDatetime | None = Field(
        default=None, description="When the verification link stops working (UTC), if given."
    )

    def sealed_link(self) -> SealedLinkRef | None:
        if self.sealed_verification_url is None:
            return None
        return SealedLinkRef(
            self.sealed_verification_url,
            LinkPurpose.EMAIL_VERIFICATION,
            self.customer_id,
            self.email,
        )


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


class PasswordResetRequestedV1(_AccountEvent):
    """Version 1 of PasswordResetRequested, with the link in clear: no longer produced.

    It put a token that takes over the account on a topic other services read; version 2 seals
    it. Notifications still reads version 1 (events written before the upgrade).
    """

    event_type: ClassVar[str] = "PasswordResetRequested"
    schema_version: ClassVar[int] = 1

    reset_url: HttpUrl = Field(description="Storefront link that sets a new password, once.")
    expires_at: UtcDatetime = Field(description="When the link stops working (UTC).")

    def sealed_link(self) -> SealedLinkRef | None:
        return None


class PasswordResetRequested(_AccountEvent):
    """A customer asked to reset a forgotten password (the account exists).

    Producer: accounts, on ``POST /password-reset`` for an existing account (unknown emails
    produce nothing, and the HTTP answer is the same). Consumer: notifications (email with the
    single-use link, its expiry and the spam-folder hint). The link holds a single-use token
    whose hash only is stored by accounts; it is sealed for notifications (purpose
    'password_reset', recipient `email`). Never a password.
    """

    event_type: ClassVar[str] = "PasswordResetRequested"
    schema_version: ClassVar[int] = 2

    sealed_reset_url: SealedLink = Field(
        description="Storefront link that sets a new password, once; sealed for notifications."
    )
    expires_at: UtcDatetime = Field(description="When the link stops working (UTC).")

    def sealed_link(self) -> SealedLinkRef | None:
        return SealedLinkRef(
            self.sealed_reset_url, LinkPurpose.PASSWORD_RESET, self.customer_id, self.email
        )


class EmailChangeRequestedV1(_AccountEvent):
    """Version 1 of EmailChangeRequested, with the link in clear: no longer produced.

    Notifications still reads it (events written before the upgrade); version 2 seals the link.
    """

    event_type: ClassVar[str] = "EmailChangeRequested"
    schema_version: ClassVar[int] = 1

    new_email: Email = Field(description="The address to confirm; the email goes there.")
    confirmation_url: HttpUrl = Field(
        description="Storefront link that confirms the new address, once."
    )
    expires_at: UtcDatetime = Field(description="When the link stops working (UTC).")

    def sealed_link(self) -> SealedLinkRef | None:
        return None


class EmailChangeRequested(_AccountEvent):
    """A logged-in customer asked to change their email; the new address must confirm it.

    Producer: accounts, on ``POST /me/email`` (the current password is checked first).
    Consumer: notifications (an email to ``new_email`` with the single-use confirmation link
    and its expiry). ``email`` is still the current address: nothing changes until the link is
    followed, then accounts publishes CustomerUpdated (``previous_email`` set), on which
    notifications warns the previous address, and CustomerEmailVerified (the link proved the
    new address). The link holds a single-use token whose hash only is stored by accounts; it
    is sealed for notifications (purpose 'email_change', recipient `new_email`).
    """

    event_type: ClassVar[str] = "EmailChangeRequested"
    schema_version: ClassVar[int] = 2

    new_email: Email = Field(description="The address to confirm; the email goes there.")
    sealed_confirmation_url: SealedLink = Field(
        description="Storefront link that confirms the new address, once; sealed for notifications."
    )
    expires_at: UtcDatetime = Field(description="When the link stops working (UTC).")

    def sealed_link(self) -> SealedLinkRef | None:
        return SealedLinkRef(
            self.sealed_confirmation_url, LinkPurpose.EMAIL_CHANGE, self.customer_id, self.new_email
        )


class EmailVerificationRequested(_AccountEvent):
    """A customer asked for a new link that verifies their account's address.

    Producer: accounts, on ``POST /me/email-verification`` (rate-limited; the first link goes
    with CustomerRegistered). Consumer: notifications (an email to `email` with the link). The
    link is sealed for notifications (purpose 'email_verification', recipient `email`).
    """

    event_type: ClassVar[str] = "EmailVerificationRequested"
    schema_version: ClassVar[int] = 1

    sealed_verification_url: SealedLink = Field(
        description="Storefront link that verifies `email`, once; sealed for notifications."
    )
    expires_at: UtcDatetime = Field(description="When the link stops working (UTC).")

    def sealed_link(self) -> SealedLinkRef | None:
        return SealedLinkRef(
            self.sealed_verification_url,
            LinkPurpose.EMAIL_VERIFICATION,
            self.customer_id,
            self.email,
        )


class EmailProof(StrEnum):
    """How the customer proved they own the address: a link sent to it, followed."""

    VERIFICATION_LINK = "verification_link"
    PASSWORD_RESET_LINK = "password_reset_link"  # noqa: S105 - a kind of proof
    EMAIL_CHANGE_LINK = "email_change_link"


class CustomerEmailVerified(_AccountEvent):
    """The customer proved they own `email` by following a link sent to it.

    Producer: accounts, when a verification, password-reset or email-change link is followed
    (once per address of the account). From then on the account owns the address: accounts
    links the guest orders placed with it to the account ("Mes commandes et factures"), and an
    erasure of the account carries ``email_verified`` true. Consumers: none required; a
    service that links guest orders to accounts by email must wait for this event.
    """

    event_type: ClassVar[str] = "CustomerEmailVerified"
    schema_version: ClassVar[int] = 1

    verified_at: UtcDatetime = Field(description="When the link was followed (UTC).")
    proof: EmailProof = Field(description="Which link proved the address.")


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
    EmailVerificationRequested,
    CustomerEmailVerified,
    EmailChangeRequestedV1,
    PasswordResetRequestedV1,
)


def sealed_link_of(event: Event) -> SealedLinkRef | None:
    """The sealed link an account event carries, with its context, if any."""
    method = getattr(event, "sealed_link", None)
    if isinstance(event, _AccountEvent) and callable(method):
        ref = method()
        return ref if isinstance(ref, SealedLinkRef) else None
    return None

"""HTTP request and response bodies (every field described in OpenAPI)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal
from uuid import UUID

from jg_events import Address
from jg_web import CountryCode, NoLoneSurrogates, SingleLine
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from accounts.domain import (
    CUSTOMER_NUMBER_PATTERN,
    PASSWORD_POLICY_TEXT,
    InvalidEmailError,
    OrderStatus,
    TimelineStep,
    clean_name,
    normalise_email,
)
from accounts.domain.staff import normalise_staff_email


def _email(value: str) -> str:
    try:
        return normalise_email(value)
    except InvalidEmailError as error:
        raise ValueError(str(error)) from error


EmailIn = Annotated[
    str,
    StringConstraints(max_length=400),
    AfterValidator(_email),
    Field(description="Email address (trimmed and lower-cased).", examples=["camille@example.fr"]),
]
# Text fields follow jg_web's rule (no NUL, lone surrogate, control character or line break).
NameIn = Annotated[
    str,
    StringConstraints(max_length=200),
    AfterValidator(clean_name),
    SingleLine,
    Field(description="A name as the customer writes it (1 to 100 characters)."),
]
NewPassword = Annotated[
    str,
    StringConstraints(max_length=1024),
    SingleLine,
    Field(description=f"New password: {PASSWORD_POLICY_TEXT}"),
]
# A password given to log in (or to confirm) is only refused when it cannot be hashed at all
# (a lone surrogate): one accepted before the text rule existed must still open its account.
AnyPassword = Annotated[
    str,
    StringConstraints(min_length=1, max_length=1024),
    NoLoneSurrogates,
    Field(description="Password."),
]
SecretToken = Annotated[
    str,
    StringConstraints(min_length=16, max_length=256, pattern=r"^[A-Za-z0-9_-]+$"),
    Field(description="The token from the link sent by email."),
]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- requests --------------------------------------------------------------------------------


class SignUp(Body):
    email: EmailIn
    password: NewPassword
    first_name: NameIn
    last_name: NameIn


class Login(Body):
    email: EmailIn
    password: AnyPassword


class Refresh(Body):
    refresh_token: SecretToken = Field(description="The refresh token from the last login/refresh.")


_AddressName = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100), SingleLine
]
_AddressText = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), SingleLine
]


class BillingAddressIn(Body):
    """A billing address as the customer gives it (the stored one is an ``Address``)."""

    first_name: _AddressName = Field(description="First name on the invoice.")
    last_name: _AddressName = Field(description="Last name on the invoice.")
    company: _AddressText | None = Field(default=None, description="Company name, if any.")
    line1: _AddressText = Field(description="Street address, first line.")
    line2: _AddressText | None = Field(default=None, description="Street address, second line.")
    postal_code: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=16), SingleLine
    ] = Field(description="Postal code.")
    city: _AddressName = Field(description="City.")
    country_code: CountryCode = Field(
        description="Country, ISO 3166-1 alpha-2 in capitals (e.g. 'FR'); one of "
        "ACCOUNTS_COUNTRIES (by default the EU member states and Monaco)."
    )
    phone: (
        Annotated[
            str, StringConstraints(strip_whitespace=True, min_length=3, max_length=32), SingleLine
        ]
        | None
    ) = Field(default=None, description="Phone number, E.164 preferred.")

    def to_address(self) -> Address:
        return Address.model_validate(self.model_dump())


class ProfileChange(Body):
    """Only the fields given change; ``billing_address: null`` removes the address."""

    first_name: NameIn | None = Field(None, description="New first name.")
    last_name: NameIn | None = Field(None, description="New last name.")
    billing_address: BillingAddressIn | None = Field(
        None, description="New billing address (null removes it)."
    )


class EmailChange(Body):
    new_email: EmailIn
    current_password: AnyPassword = Field(description="The current password, to confirm.")


class ConfirmToken(Body):
    token: SecretToken


class PasswordChange(Body):
    current_password: AnyPassword = Field(description="The current password.")
    new_password: NewPassword


class PasswordResetRequest(Body):
    email: EmailIn


class PasswordResetConfirm(Body):
    token: SecretToken
    new_password: NewPassword


class CustomerErasureRequest(Body):
    current_password: AnyPassword = Field(description="The current password, to confirm.")


class OperatorErasureRequest(Body):
    email: EmailIn
    customer_number: Annotated[str, StringConstraints(pattern=CUSTOMER_NUMBER_PATTERN)] = Field(
        description="Customer number the customer gave, e.g. 'C-000123'."
    )


# --- responses -------------------------------------------------------------------------------


class Profile(BaseModel):
    customer_id: UUID = Field(description="Customer id (the 'sub' of access tokens).")
    customer_number: str = Field(description="Number shown to the customer, e.g. 'C-000123'.")
    email: str = Field(description="Email address used to log in and to write to the customer.")
    first_name: str = Field(description="First name.")
    last_name: str = Field(description="Last name.")
    billing_address: Address | None = Field(description="Billing address, if given.")
    pending_email: str | None = Field(
        None, description="New address waiting for confirmation from its mailbox, if any."
    )
    email_verified: bool = Field(
        description="True once a link sent to `email` was followed (verification, reset or "
        "email change): only then do the guest orders placed with it show in the history."
    )
    created_at: datetime = Field(description="When the account was created (UTC).")


class Tokens(BaseModel):
    access_token: str = Field(description="Signed JWT (ES256/RS256) for every platform API.")
    token_type: Literal["Bearer"] = Field("Bearer", description="Always 'Bearer'.")
    expires_in: int = Field(description="Seconds the access token stays valid.")
    expires_at: datetime = Field(description="When the access token expires (UTC).")
    refresh_token: str = Field(
        description="Opaque, single-use: exchange it at POST /sessions/refresh for new tokens."
    )
    refresh_expires_at: datetime = Field(description="When the session ends at the latest.")
    session_id: UUID = Field(description="Session id (the 'sid' claim).")
    customer: Profile = Field(description="The logged-in customer.")


class SessionInfo(BaseModel):
    customer_id: UUID = Field(description="Customer id.")
    session_id: UUID = Field(description="Session id.")
    expires_at: datetime = Field(description="When the presented access token expires (UTC).")


class Accepted(BaseModel):
    message: str = Field(description="What happens next, in French, for the customer.")


class ErasureAccepted(Accepted):
    customer_number: str = Field(description="Number of the account being erased.")


class ErrorBody(BaseModel):
    code: str = Field(description="Machine-readable error code.")
    message: str = Field(description="Readable explanation (French, for the customer).")
    details: list[dict[str, str]] | None = Field(
        None, description="Per-field problems: 'field' and 'message'."
    )


# --- order history -------------------------------------------------------------------------


class Tracking(BaseModel):
    carrier: str = Field(description="Carrier code, e.g. 'japan_post_ems'.")
    tracking_number: str = Field(description="Carrier's tracking number.")
    tracking_url: str = Field(description="'Suivre mon colis': the carrier's tracking page.")
    shipped_at: datetime | None = Field(description="When the carrier picked the parcel up.")


class Invoice(BaseModel):
    invoice_number: str = Field(description="Number in the invoice series, e.g. 'F-2026-000042'.")
    kind: Literal["invoice", "credit_note"] = Field(description="Invoice or credit note.")
    corrects_invoice_number: str | None = Field(description="Invoice a credit note corrects.")
    issue_date: date = Field(description="Date of issue.")
    total_incl_vat: Decimal = Field(description="Total TTC, euros.")
    download_url: str = Field(description="Link to the PDF (payment's API).")


class TimelineEntry(BaseModel):
    at: datetime = Field(description="When it happened (UTC).")
    step: TimelineStep = Field(description="Machine name of the step.")
    label: str = Field(description="French label.")
    detail: dict[str, object] | None = Field(None, description="Step details, if any.")


class OrderLineView(BaseModel):
    sku: str = Field(description="Product reference.")
    name: str = Field(description="Product name.")
    quantity: int = Field(description="Number of items.")
    unit_price: Decimal = Field(description="Price of one item, TTC.")
    line_total: Decimal = Field(description="Line total, TTC.")


class OrderSummary(BaseModel):
    order_id: UUID = Field(description="Order id.")
    order_number: str = Field(description="Order number, e.g. 'JG-2026-000123'.")
    status: OrderStatus = Field(description="Machine status.")
    status_label: str = Field(description="French status label.")
    placed_at: datetime | None = Field(description="When the order was placed (UTC).")
    total: Decimal | None = Field(description="Total paid TTC, when known.")
    tracking_url: str | None = Field(description="'Suivre mon colis' link once shipped.")
    invoice_count: int = Field(description="Invoices and credit notes available.")


class OrderList(BaseModel):
    orders: list[OrderSummary] = Field(description="Most recent first.")
    total: int = Field(description="Number of orders of the customer.")


class OrderDetail(BaseModel):
    order_id: UUID = Field(description="Order id.")
    order_number: str = Field(description="Order number.")
    status: OrderStatus = Field(description="Machine status.")
    status_label: str = Field(description="French status label.")
    placed_at: datetime | None = Field(description="When the order was placed (UTC).")
    lines: list[OrderLineView] = Field(description="Products (empty until known).")
    subtotal: Decimal | None = Field(description="Sum of the lines, TTC.")
    shipping: Decimal | None = Field(description="Shipping price, TTC.")
    total: Decimal | None = Field(description="Total TTC.")
    shipping_method: str | None = Field(description="Shipping method label.")
    delivery_estimate: dict[str, date] | None = Field(
        description="Expected delivery window: 'earliest' and 'latest'."
    )
    tracking: Tracking | None = Field(description="Parcel tracking, once shipped.")
    delivered_at: datetime | None = Field(description="When the parcel was delivered.")
    withdrawal_deadline: date | None = Field(
        description="Last day to exercise the right of withdrawal."
    )
    invoices: list[Invoice] = Field(description="Invoices and credit notes.")
    timeline: list[TimelineEntry] = Field(description="What happened, oldest first.")


# --- the shop's team (console) ---------------------------------------------------------------

StaffRoleName = Literal["agent", "manager"]


def _staff_email(value: str) -> str:
    return normalise_staff_email(value)


StaffEmailIn = Annotated[
    str,
    StringConstraints(max_length=320),
    AfterValidator(_staff_email),
    Field(
        description="A team member's email (trimmed, lower-cased).",
        examples=["agent@japangoodz.test"],
    ),
]


class StaffLogin(Body):
    email: StaffEmailIn
    password: AnyPassword


class NewStaffMemberIn(Body):
    email: StaffEmailIn
    name: NameIn
    role: StaffRoleName = Field(description="'agent' or 'manager' (manager ≥ agent).")
    password: NewPassword


class StaffMemberOut(BaseModel):
    id: UUID = Field(description="The member's id (the staff token's 'sub').")
    email: str = Field(description="The member's email (sign-in, and the audit's actor).")
    name: str = Field(description="Name shown in the console.")
    role: StaffRoleName = Field(description="'agent' or 'manager'.")


class StaffMemberDetail(StaffMemberOut):
    active: bool = Field(description="May sign in.")
    created_at: datetime = Field(description="When the member was added (UTC).")
    created_by: str = Field(description="Who added the member (email, or how it was seeded).")


class StaffTokens(BaseModel):
    access_token: str = Field(description="Staff access token (audience '<audience>/staff').")
    token_type: Literal["bearer"] = Field("bearer", description="Always 'bearer'.")
    expires_in: int = Field(description="Seconds the access token is valid.")
    member: StaffMemberOut

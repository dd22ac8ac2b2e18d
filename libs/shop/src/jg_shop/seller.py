"""The seller's legal identity, once for the whole platform (environment variables ``JG_SELLER_*``).

Payment prints it on every invoice and credit note; notifications in every email that needs
it (the contract confirmation, the withdrawal section and form, the refusals that must name the
consumer mediator). Both read the same variables, so an invoice and an email cannot disagree.

Every field has a sample value so that development and tests run without configuration. Outside
``development`` and ``test``, :func:`require_real_seller` refuses to let a service start while a
variable is unset or still carries its sample value (a fictional SIREN on a real invoice is an
offence), and while a URL is not https.
"""

from __future__ import annotations

from jg_messaging import Environment
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["SAMPLE_SELLER", "SellerIdentity", "require_real_seller"]

ENV_PREFIX = "JG_SELLER_"


class SellerIdentity(BaseSettings):
    """Who sells: the legal mentions of invoices (CGI art. 242 nonies A) and of the contract
    confirmation (Code de la consommation L221-5, L111-1, L616-1)."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore", frozen=True)

    legal_name: str = Field(
        "JapanGoodz SAS", min_length=1, description="Seller's legal (company) name"
    )
    legal_form: str = Field(
        "SAS au capital de 10 000 €",
        min_length=1,
        description="Legal form and share capital, as printed ('SAS au capital de 10 000 €')",
    )
    address: str = Field(
        "12 rue de la Paix\n75002 Paris\nFrance",
        min_length=1,
        description="Postal address of the registered office, lines separated by '\\n' (invoices, "
        "withdrawal form)",
    )
    phone: str = Field(
        "+33 1 23 45 67 89",
        pattern=r"^\+?[0-9][0-9 .]{5,24}$",
        description="Customer service telephone number, as printed",
    )
    email: str = Field(
        "contact@japangoodz.com",
        pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$",
        description="Customer service email address printed in the seller's identity",
    )
    siren: str = Field("123456789", pattern=r"^\d{9}$", description="SIREN (9 digits)")
    rcs: str = Field(
        "RCS Paris 123 456 789",
        min_length=1,
        description="Trade register entry ('RCS <city> <SIREN>')",
    )
    vat_number: str = Field(
        "FR32123456789",
        pattern=r"^[A-Z]{2}[0-9A-Z]{2,13}$",
        description="Intra-community VAT number",
    )
    mediator_name: str = Field(
        "Médiation Exemple",
        min_length=1,
        description="Consumer mediator the shop adheres to (Code de la consommation L616-1)",
    )
    mediator_url: str = Field(
        "https://www.mediateur.example",
        pattern=r"^https?://\S+$",
        description="Website of the consumer mediator, where a complaint is filed",
    )
    terms_url: str = Field(
        "https://www.japangoodz.com/cgv",
        pattern=r"^https?://\S+$",
        description="Page of the general terms and conditions of sale (CGV)",
    )

    @property
    def address_lines(self) -> tuple[str, ...]:
        return tuple(line.strip() for line in self.address.splitlines() if line.strip())

    @property
    def one_line_address(self) -> str:
        """``"12 rue de la Paix, 75002 Paris, France"``."""
        return ", ".join(self.address_lines)

    def problems(self, environment: Environment) -> list[str]:
        """What stops this identity from reaching customers in ``environment`` (none in
        development and test)."""
        if environment in (Environment.DEVELOPMENT, Environment.TEST):
            return []
        unset = [f for f in type(self).model_fields if f not in self.model_fields_set]
        sample = [
            f
            for f in SAMPLE_VALUES
            if f in self.model_fields_set and getattr(self, f) == getattr(SAMPLE_SELLER, f)
        ]
        insecure = [
            f for f in ("mediator_url", "terms_url") if not getattr(self, f).startswith("https://")
        ]
        found = []
        if unset:
            found.append(f"not set: {_names(unset)}")
        if sample:
            found.append(f"still the sample value: {_names(sample)}")
        if insecure:
            found.append(f"not an https:// URL: {_names(insecure)}")
        return found


# The fields whose sample is invented (a real seller never has these values). The legal name,
# email and terms URL samples are the shop's own plausible values: production must set them, but
# may keep them.
SAMPLE_VALUES = (
    "legal_form",
    "address",
    "phone",
    "siren",
    "rcs",
    "vat_number",
    "mediator_name",
    "mediator_url",
)


def _names(fields: list[str]) -> str:
    return ", ".join(f"{ENV_PREFIX}{f.upper()}" for f in fields)


SAMPLE_SELLER = SellerIdentity.model_construct()
"""The sample identity (every default), for previews and tests; never read from the
environment."""


def require_real_seller(seller: SellerIdentity, environment: Environment) -> SellerIdentity:
    """``seller`` itself; outside development and test, a :class:`ValueError` naming every
    variable that is unset, still a sample or not https."""
    problems = seller.problems(environment)
    if problems:
        raise ValueError(
            f"refusing to start in {environment}: the seller's identity, printed on invoices and "
            "in the emails, is incomplete (" + "; ".join(problems) + ")"
        )
    return seller

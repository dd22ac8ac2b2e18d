"""Rendering emails from templates: Jinja2 (autoescaped HTML), Babel fr_FR, inlined CSS.

Each email ``<name>`` has two templates in ``templates/``:

- ``<name>.txt.j2``: the plain-text part; its ``subject`` block is the Subject header;
- ``<name>.html.j2``: the HTML part (autoescaped), whose ``<style>`` is inlined into ``style``
  attributes by css-inline; ``@media`` rules stay in a ``<style>`` tag for small screens.

French typography is applied to the templates' own text when they are loaded, so authors write
ordinary spaces: a space before ``: ; ! ?`` and inside ``« »`` becomes non-breaking (U+00A0
before ``:`` and inside guillemets, U+202F, the narrow one, before ``; ! ?``). Free French text
carried by events goes through the ``fr`` filter for the same result. Amounts and percentages
are formatted by Babel for fr_FR (``12,50 €`` with a no-break space); dates by
``jg_shop.french_date`` (``mercredi 1er avril 2026``, where Babel writes ``1 avril``).

Rendering is pure: no I/O apart from reading the template files.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from jg_shop import SAMPLE_SELLER, SellerIdentity, french_date

from notifications import domain
from notifications.domain import EmailPlan, Template

if TYPE_CHECKING:
    import css_inline
    from babel import Locale
    from jinja2 import Environment

# Jinja2, Babel's locale data and css-inline (~5 MB resident) are loaded by the first email
# rendered, not when the service starts.

__all__ = ["RenderedEmail", "Renderer", "Shop", "typography"]

TEMPLATES_DIR = Path(__file__).parent / "templates"


@functools.cache
def _locale() -> Locale:
    from babel import Locale

    return Locale("fr", "FR")


NBSP = "\u00a0"
NNBSP = "\u202f"

_BEFORE_COLON = re.compile(r" :(?=[\s<{\"')»]|$)", re.MULTILINE)
_BEFORE_HIGH_PUNCT = re.compile(r" ([;!?])(?=[\s<{\"')»]|$)", re.MULTILINE)
_OPENING_GUILLEMET = re.compile(r"« ")
_CLOSING_GUILLEMET = re.compile(r" »")
_NUMERO = re.compile(r"\b([nN]°) ")


def typography(text: str) -> str:
    """French spacing: no-break spaces before ``: ; ! ?``, inside ``« »`` and after ``n°``."""
    text = _BEFORE_COLON.sub(NBSP + ":", text)
    text = _BEFORE_HIGH_PUNCT.sub(NNBSP + r"\1", text)
    text = _OPENING_GUILLEMET.sub("«" + NBSP, text)
    text = _CLOSING_GUILLEMET.sub(NBSP + "»", text)
    return _NUMERO.sub(r"\1" + NBSP, text)


def _environment(folder: Path) -> Environment:
    """A Jinja2 environment whose loader applies French typography to the templates' source."""
    from jinja2 import BaseLoader, Environment, FileSystemLoader, StrictUndefined, select_autoescape

    class FrenchLoader(BaseLoader):
        def __init__(self, folder: Path) -> None:
            self._inner = FileSystemLoader(str(folder), encoding="utf-8")

        def get_source(
            self, environment: Environment, template: str
        ) -> tuple[str, str | None, Callable[[], bool] | None]:
            source, filename, uptodate = self._inner.get_source(environment, template)
            return typography(source), filename, uptodate

        def list_templates(self) -> list[str]:
            return self._inner.list_templates()

    return Environment(
        loader=FrenchLoader(folder),
        autoescape=select_autoescape(
            enabled_extensions=("html.j2",),
            disabled_extensions=("txt.j2",),
            default_for_string=True,
            default=True,
        ),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


@dataclass(frozen=True)
class Shop:
    """What the emails say about the shop itself (from settings)."""

    shop_url: str = "https://www.japangoodz.com"
    customer_space_url: str = "https://www.japangoodz.com/mon-compte"
    contact_email: str = "contact@japangoodz.com"
    seller: SellerIdentity = SAMPLE_SELLER
    return_costs_borne_by_customer: bool = True


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    html: str
    text: str


# --- Filters (Babel fr_FR) --------------------------------------------------------------------


def money(value: Decimal | int | str) -> str:
    """``Decimal("12.50")`` -> ``"12,50 €"`` (Babel's no-break space before the sign)."""
    from babel.numbers import format_currency

    return format_currency(Decimal(value), "EUR", locale=_locale())


def percent(rate: Decimal | int | str) -> str:
    """A VAT rate in percent: ``Decimal("20.00")`` -> ``"20 %"``, ``"5.50"`` -> ``"5,5 %"``."""
    from babel.numbers import format_decimal

    return f"{format_decimal(Decimal(rate), locale=_locale())}{NBSP}%"


def long_date(value: date) -> str:
    """``"16 mars 2026"``, ``"1er avril 2026"``."""
    return french_date(value)


def full_date(value: date) -> str:
    """``"lundi 16 mars 2026"``, ``"mercredi 1er avril 2026"``."""
    return french_date(value, weekday=True)


def country(code: str) -> str:
    name: str = _locale().territories.get(code, code)
    return name


_CONTROL_OR_SPACES = re.compile(r"[\x00-\x20\x7f\u2028\u2029]+")


def one_line(text: str) -> str:
    """Collapse newlines, control characters and runs of spaces (for headers and subjects).

    No-break spaces are kept: they are part of the French typography.
    """
    return _CONTROL_OR_SPACES.sub(" ", text).strip(" ")


class Renderer:
    """Renders :class:`EmailPlan`s (or any template with a context) to subject, HTML, text."""

    def __init__(
        self,
        shop: Shop | None = None,
        *,
        timezone: str = "Europe/Paris",
        folder: Path | None = None,
    ) -> None:
        self.shop = shop or Shop()
        self.tz = ZoneInfo(timezone)
        self._folder = folder or TEMPLATES_DIR

    @functools.cached_property
    def env(self) -> Environment:
        """The templates' environment, built by the first email rendered."""
        env = _environment(self._folder)
        env.filters.update(
            money=money,
            percent=percent,
            long_date=long_date,
            full_date=full_date,
            datetime=self.local_datetime,
            time=self.local_time,
            country=country,
            fr=typography,
            one_line=one_line,
        )
        env.globals.update(
            shop=self.shop,
            refusal_reasons=domain.REFUSAL_REASONS,
            refusal_advice=domain.REFUSAL_ADVICE,
            cancellation_reasons=domain.CANCELLATION_REASONS,
            carriers=domain.CARRIERS,
            claim_kinds=domain.CLAIM_KINDS,
            claim_resolutions=domain.CLAIM_RESOLUTIONS,
            refund_causes=domain.REFUND_CAUSES,
            payment_methods=domain.PAYMENT_METHODS,
        )
        return env

    @functools.cached_property
    def _inliner(self) -> css_inline.CSSInliner:
        import css_inline

        return css_inline.CSSInliner(keep_at_rules=True, load_remote_stylesheets=False)

    def local_datetime(self, value: datetime) -> str:
        """``"2 mars 2026 à 10 h 20"``, in the shop's time zone."""
        local = value.astimezone(self.tz)
        return f"{long_date(local.date())} à {self.local_time(local)}"

    def local_time(self, value: datetime) -> str:
        local = value.astimezone(self.tz)
        return f"{local.hour}{NBSP}h{NBSP}{local.minute:02d}"

    def context(self, plan: EmailPlan) -> dict[str, Any]:
        customer = getattr(plan.event, "customer", None)
        return {
            "event": plan.event,
            "first_name": plan.first_name,
            "to_email": plan.to_email,
            "is_guest": customer is not None and customer.customer_id is None,
            "attachment": plan.attachment,
            "link": plan.link,
            "template": plan.template.value,
        }

    def render(self, plan: EmailPlan) -> RenderedEmail:
        return self.render_template(plan.template, self.context(plan))

    def render_template(self, template: Template | str, context: dict[str, Any]) -> RenderedEmail:
        name = Template(template).value
        from jinja2 import TemplateNotFound

        try:
            text_template = self.env.get_template(f"{name}.txt.j2")
            html_template = self.env.get_template(f"{name}.html.j2")
        except TemplateNotFound as exc:  # pragma: no cover - every Template has its files
            raise LookupError(f"no template for {name}") from exc
        subject_block = text_template.blocks.get("subject")
        if subject_block is None:
            raise LookupError(f"{name}.txt.j2 has no subject block")
        subject = one_line("".join(subject_block(text_template.new_context(dict(context)))))
        full = {**context, "subject": subject}
        text = _tidy_text(text_template.render(full))
        html = self._inliner.inline(html_template.render(full))
        return RenderedEmail(subject=subject, html=html, text=text)


SIGNATURE_SEPARATOR = "-- "
"""The line above a plain-text signature (RFC 3676, 4.3): two hyphens and a space."""


def _tidy_text(text: str) -> str:
    """No trailing spaces (but the signature separator's), at most one blank line in a row, one
    final newline."""
    lines = [
        SIGNATURE_SEPARATOR if line.rstrip() == "--" else line.rstrip()
        for line in text.splitlines()
    ]
    tidy: list[str] = []
    for line in lines:
        if not line and tidy and not tidy[-1]:
            continue
        tidy.append(line)
    return "\n".join(tidy).strip("\n") + "\n"

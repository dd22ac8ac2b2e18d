"""Every email rendered with realistic data (``jg_events.examples``), to look at in a browser.

    uv run python -m notifications.preview <outdir>

writes ``<outdir>/index.html`` and, for each email, ``<template>.html`` (the HTML part exactly as
sent, CSS inlined) and ``<template>.txt`` (the plain-text part). The same renderings are served
by the service in development at ``GET /previews``.
"""

from __future__ import annotations

import argparse
import html
import sys
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from pathlib import Path

from jg_events import (
    Backordered,
    ClaimOpened,
    ClaimResolved,
    CustomerErased,
    CustomerErasureRequested,
    CustomerField,
    CustomerRegistered,
    CustomerUpdated,
    Delivered,
    EmailChangeRequested,
    EmailVerificationRequested,
    Event,
    InvoiceIssued,
    InvoiceKind,
    LinkSealer,
    OrderCancelled,
    OrderConfirmed,
    OrderModified,
    OrderProcessing,
    PasswordResetRequested,
    PaymentCancelled,
    PaymentRefused,
    RefundIssued,
    ReturnAccepted,
    ReturnRejected,
    Shipped,
)
from jg_events.examples import EXAMPLE_LINK_SEALING_KEY, example
from jg_messaging import Environment, PlatformSettings

from notifications.context import renderer_for
from notifications.domain import EmailPlan, Template, plan_emails
from notifications.rendering import RenderedEmail, Renderer
from notifications.settings import NotificationsSettings

__all__ = ["main", "preview_plans", "render_all", "write_previews"]


def _sample_events() -> list[Event]:
    invoice = example(InvoiceIssued)
    credit_note = InvoiceIssued.model_validate(
        {
            **invoice.model_dump(),
            "invoice_number": "F-2026-000057",
            "kind": InvoiceKind.CREDIT_NOTE,
            "corrects_invoice_number": invoice.invoice_number,
            "issue_date": date(2026, 4, 10),
            "total_excl_vat": Decimal("56.84"),  # the matcha, at 5.5 %
            "total_vat": Decimal("3.13"),
            "total_incl_vat": Decimal("59.97"),
            "download_path": "/invoices/F-2026-000057.pdf",
        }
    )
    updated = example(CustomerUpdated)
    password_changed = CustomerUpdated.model_validate(
        {
            **updated.model_dump(),
            "changed_fields": (CustomerField.PASSWORD,),
            "previous_email": None,
        }
    )
    modified = example(OrderModified)
    not_applied = OrderModified.model_validate(
        {
            **modified.model_dump(),
            "revision": 2,
            "previous_total": modified.new_total + 24,
            "restores_authorized_revision": 1,
        }
    )
    return [
        example(OrderConfirmed),
        example(PaymentRefused),
        modified,
        not_applied,
        example(OrderCancelled),
        example(PaymentCancelled),
        example(OrderProcessing),
        example(Backordered),
        example(Shipped),
        invoice,
        credit_note,
        example(Delivered),
        example(ReturnAccepted),
        example(ReturnRejected),
        example(RefundIssued),
        example(ClaimOpened),
        example(ClaimResolved),
        example(CustomerRegistered),
        example(PasswordResetRequested),
        example(EmailChangeRequested),
        example(EmailVerificationRequested),
        password_changed,
        updated,
        example(CustomerErasureRequested),
        example(CustomerErased),
    ]


def preview_plans() -> dict[Template, EmailPlan]:
    """One realistic plan per template (every template is covered)."""
    plans: dict[Template, EmailPlan] = {}
    links = LinkSealer(EXAMPLE_LINK_SEALING_KEY)  # the examples' links are sealed with it
    for event in _sample_events():
        for plan in plan_emails(event, links):
            plans.setdefault(plan.template, plan)
    missing = [t.value for t in Template if t not in plans]
    if missing:  # pragma: no cover - guarded by the unit tests
        raise RuntimeError(f"no preview data for {missing}")
    return {template: plans[template] for template in Template}


def render_all(renderer: Renderer) -> dict[Template, RenderedEmail]:
    return {template: renderer.render(plan) for template, plan in preview_plans().items()}


def index_page(rendered: dict[Template, RenderedEmail], *, suffix: str = "") -> str:
    rows = "\n".join(
        f"<tr><td><code>{t.value}</code></td><td>{html.escape(email.subject)}</td>"
        f'<td><a href="{suffix}{t.value}.html">HTML</a> · <a href="{suffix}{t.value}.txt">texte</a>'
        "</td></tr>"
        for t, email in rendered.items()
    )
    return (
        '<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8">'
        "<title>JapanGoodz – aperçu des e-mails</title>"
        "<style>body{font-family:sans-serif;margin:2em}td{padding:4px 12px 4px 0}</style>"
        "</head><body><h1>Aperçu des e-mails</h1>"
        "<p>Chaque e-mail rendu avec les exemples de <code>jg_events.examples</code>.</p>"
        f"<table><tr><th>Modèle</th><th>Objet</th><th>Parties</th></tr>{rows}</table>"
        "</body></html>"
    )


def write_previews(outdir: Path, renderer: Renderer | None = None) -> list[Path]:
    renderer = renderer or Renderer()
    outdir.mkdir(parents=True, exist_ok=True)
    rendered = render_all(renderer)
    written = []
    for template, email in rendered.items():
        for suffix, content in ((".html", email.html), (".txt", email.text)):
            path = outdir / f"{template.value}{suffix}"
            path.write_text(content, encoding="utf-8")
            written.append(path)
    index = outdir / "index.html"
    index.write_text(index_page(rendered), encoding="utf-8")
    written.append(index)
    return written


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m notifications.preview",
        description="Render every email with realistic data into a folder of HTML/text files.",
    )
    parser.add_argument("outdir", type=Path, help="folder to write the previews into")
    args = parser.parse_args(argv)
    # Previews are a developer's tool: sample data, development settings.
    development = PlatformSettings(environment=Environment.DEVELOPMENT)
    written = write_previews(args.outdir, renderer_for(NotificationsSettings(platform=development)))
    print(f"{len(written)} files written; open {args.outdir / 'index.html'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

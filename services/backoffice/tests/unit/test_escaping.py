"""What customers and strangers write reaches staff pages as text, never as markup."""

from __future__ import annotations

import pytest
from backoffice.routes.dependencies import TEMPLATES

pytestmark = pytest.mark.unit


def test_a_sign_in_link_cannot_break_out_of_its_hidden_field() -> None:
    page = TEMPLATES.env.get_template("sign_in.html.j2").render(
        next='/"><meta http-equiv="refresh" content="0;url=https://evil.example">',
        email="",
        member=None,
    )
    assert "<meta http-equiv" not in page
    assert "&#34;&gt;&lt;meta" in page or "&quot;&gt;&lt;meta" in page


def test_a_customer_message_is_shown_as_written_not_run() -> None:
    template = TEMPLATES.env.from_string("<p>{{ message }}</p>")
    page = template.render(message="<script>alert('x')</script> Merci !")
    assert "<script>" not in page
    assert "&lt;script&gt;" in page

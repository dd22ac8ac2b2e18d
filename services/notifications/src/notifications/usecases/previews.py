"""The email previews served in development: every email rendered with the example events."""

from __future__ import annotations

from jg_web.http import ApiError

from notifications.domain import Template
from notifications.rendering import RenderedEmail, Renderer

# notifications.preview (every example event, sealed links: cryptography) is imported by the
# previews' first request, not at start-up.

__all__ = ["preview_email", "preview_index"]


def preview_index(renderer: Renderer) -> str:
    """The HTML page that lists every email with links to its two parts."""
    from notifications.preview import index_page, render_all

    return index_page(render_all(renderer), suffix="previews/")


def preview_email(renderer: Renderer, template: str) -> RenderedEmail:
    """One email rendered with its example; 404 ``unknown_template`` (with the list) if none."""
    try:
        name = Template(template)
    except ValueError:
        raise ApiError(
            404,
            "unknown_template",
            f"Aucun modèle d'e-mail ne s'appelle « {template} ».",
            extra={"templates": [t.value for t in Template]},
        ) from None
    from notifications.preview import preview_plans

    return renderer.render(preview_plans()[name])

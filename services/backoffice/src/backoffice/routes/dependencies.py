"""What routes get through Depends: the context, the signed-in member's session, the CSRF check,
and the page renderer."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, cast

from fastapi import Depends, Form, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from backoffice.context import Context
from backoffice.domain import (
    Action,
    Session,
    SessionState,
    csrf_matches,
    from_another_site,
    may,
    wording,
)
from backoffice.usecases import sessions

COOKIE = "jg_console_session"
TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent.parent / "templates"))
# Every value is escaped: the templates are *.html.j2, which Jinja's default autoescape
# selection (by extension: .html, .htm, .xml) would leave raw, and customers write claim
# messages, names and subjects that staff pages show.
TEMPLATES.env.autoescape = True
TEMPLATES.env.filters["euros"] = wording.euros
TEMPLATES.env.filters["date"] = wording.french_date
TEMPLATES.env.filters["paris"] = lambda v: wording.paris_time(
    v if not isinstance(v, str) else wording.parse_time(v)
)
TEMPLATES.env.globals["label"] = wording.label
TEMPLATES.env.globals["wording"] = wording
TEMPLATES.env.globals["Action"] = Action
TEMPLATES.env.globals["may"] = may


class NeedSignInError(Exception):
    """No usable session: the page sends the member to the sign-in form (``reason``: a code of
    ``REASONS``)."""

    def __init__(self, reason: str | None, next_path: str) -> None:
        super().__init__(reason or "")
        self.reason = reason
        self.next_path = next_path


class CsrfError(Exception):
    """A POST without the session's CSRF token."""


class CrossSiteError(Exception):
    """A sign-in form posted from another site (see :func:`backoffice.domain.from_another_site`)."""


def context(request: Request) -> Context:
    """The service's context, wired once by ``create_app`` (``app.state.context``)."""
    return cast(Context, request.app.state.context)


Ctx = Annotated[Context, Depends(context)]

# Why the sign-in page is shown: a code in its URL, a sentence on the page (no free text in a
# link, which anyone could send to a member).
REASONS = {
    "expiree": "Votre session est terminée. Merci de vous reconnecter.",
    "jeton": "Par sécurité, votre connexion a expiré. Merci de vous reconnecter pour continuer.",
    "deconnexion": "Vous êtes déconnecté. À bientôt\u00a0!",
}
STATE_REASONS = {SessionState.EXPIRED: "expiree", SessionState.TOKEN_EXPIRED: "jeton"}


async def signed_in(request: Request, ctx: Ctx) -> Session:
    """The member's session; without one, the sign-in page (then back here)."""
    found = await sessions.current(ctx, request.cookies.get(COOKIE))
    next_path = request.url.path if request.method == "GET" else "/"
    if found.session is None or found.state is not SessionState.ACTIVE:
        reason = STATE_REASONS.get(found.state) if found.state else None
        raise NeedSignInError(reason, next_path)
    return found.session


Member = Annotated[Session, Depends(signed_in)]


async def checked(session: Member, csrf_token: Annotated[str, Form()] = "") -> Session:
    """A POST's session, once its form carried the session's CSRF token."""
    if not csrf_matches(session.csrf_token, csrf_token):
        raise CsrfError
    return session


Checked = Annotated[Session, Depends(checked)]


async def same_site(request: Request) -> None:
    """The sign-in form, only as posted from the console's own pages (no login CSRF)."""
    headers = request.headers
    if from_another_site(headers.get("origin"), headers.get("sec-fetch-site"), headers.get("host")):
        raise CrossSiteError


async def page(
    request: Request,
    ctx: Context,
    session: Session | None,
    template: str,
    status_code: int = 200,
    **values: Any,
) -> HTMLResponse:
    """Render a page of the console, with the member, the CSRF token and the flash message."""
    message = await sessions.take_flash(ctx, session) if session else None
    return TEMPLATES.TemplateResponse(
        request,
        template,
        {
            "session": session,
            "member": session.member if session else None,
            "csrf": session.csrf_token if session else "",
            "flash": message,
            **values,
        },
        status_code=status_code,
    )

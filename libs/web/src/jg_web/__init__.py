"""HTTP plumbing shared by every JapanGoodz service (FastAPI and pydantic only).

- :mod:`jg_web.text`: the characters no text field accepts (NUL, lone surrogates, control
  characters; line breaks only in multi-line fields), as pure checks and pydantic types
  (:data:`SafeText`, :data:`SafeMultilineText`, the :data:`SingleLine` / :data:`MultiLine`
  markers for constrained fields, :data:`SafeUpload` for uploaded file names).
- :mod:`jg_web.countries`: ISO 3166-1 alpha-2 codes (:data:`CountryCode`) and the countries the
  shop delivers to (:data:`DEFAULT_COUNTRIES`, :func:`delivery_problem`).
- :mod:`jg_web.guard`: :func:`input_guard`, the application-wide dependency that applies the
  text rule to path and query parameters and to the headers a service keeps as data.
- :mod:`jg_web.limits`: :class:`BodyLimit`, the ASGI middleware that caps request bodies on
  the bytes actually read (413), per route class, with :class:`UploadSlots` for uploads.
- :mod:`jg_web.errors`: the JSON error envelope (``{"code", "message", ...}``).
- :mod:`jg_web.http`: the error answers of a service, once (:class:`~jg_web.http.ApiError`,
  :class:`~jg_web.http.Problem`, :func:`~jg_web.http.install_error_handlers` with the French
  wording of pydantic errors, :class:`~jg_web.http.JsonBodies`, the 415 guard). Imported from
  its module (it needs jg_auth).
- :mod:`jg_web.business_days`: the French business-day calendar (``is_business_day``,
  ``add_business_days``, the public holidays including the three after Easter).

In a service's ``create_app``::

    app = FastAPI(..., dependencies=[Depends(input_guard(data_headers=("Idempotency-Key",)))])
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
"""

from jg_web.countries import (
    COUNTRY_NOT_DELIVERED,
    DEFAULT_COUNTRIES,
    EU_MEMBER_STATES,
    INVALID_COUNTRY_CODE,
    ISO_3166_ALPHA2,
    CountryCode,
    delivery_problem,
    parse_countries,
)
from jg_web.errors import Envelope, error_body, validation_error_handler
from jg_web.guard import input_guard
from jg_web.limits import BodyLimit, RouteLimit, UploadSlots
from jg_web.text import (
    INVALID_CHARACTERS,
    MultiLine,
    NoLoneSurrogates,
    SafeMultilineText,
    SafeText,
    SafeUpload,
    SingleLine,
    TextProblem,
    text_problem,
)

__all__ = [
    "COUNTRY_NOT_DELIVERED",
    "DEFAULT_COUNTRIES",
    "EU_MEMBER_STATES",
    "INVALID_CHARACTERS",
    "INVALID_COUNTRY_CODE",
    "ISO_3166_ALPHA2",
    "BodyLimit",
    "CountryCode",
    "Envelope",
    "MultiLine",
    "NoLoneSurrogates",
    "RouteLimit",
    "SafeMultilineText",
    "SafeText",
    "SafeUpload",
    "SingleLine",
    "TextProblem",
    "UploadSlots",
    "delivery_problem",
    "error_body",
    "input_guard",
    "parse_countries",
    "text_problem",
    "validation_error_handler",
]

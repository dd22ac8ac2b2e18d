"""JapanGoodz customer authentication: verify the access tokens accounts issues.

Accounts signs short-lived (15 min) ES256/RS256 JWTs on login and publishes its public keys at
``/.well-known/jwks.json``. Any service verifies them offline with :class:`TokenVerifier`
(the JWK Set is fetched once and cached; an unknown ``kid`` triggers a bounded refetch).

In a service::

    from fastapi import Depends, FastAPI, HTTPException
    from jg_auth import (
        AuthError, AuthSettings, Customer, Principal, Storefront,
        auth_error_handler, bearer_principal,
    )

    verifier = AuthSettings().verifier()    # JG_AUTH_ISSUER / JG_AUTH_AUDIENCE / JG_AUTH_JWKS_URL
    principal = bearer_principal(verifier, settings.storefront_token)  # SecretStr

    app = FastAPI()
    app.add_exception_handler(AuthError, auth_error_handler)   # 401 {"code", "message"}

    @app.get("/orders/{order_id}")
    async def read_order(order_id: UUID, who: Principal = Depends(principal)) -> ...:
        order = ...
        match who:
            case Storefront():            # the storefront backend acts for anyone
                pass
            case Customer(claims=claims) if claims.customer_id != order.customer_id:
                raise HTTPException(404)  # never reveal another customer's order

``bearer_customer(verifier)`` accepts customers' tokens only. Errors carry a machine code
(:class:`TokenErrorReason`: ``token_expired``, ``token_wrong_issuer``, ...).

In tests (no accounts service, nothing served)::

    from jg_devstack.tokens import authorization, mint_token, verifier_for_tests

    verifier = verifier_for_tests()          # trusts jg_devstack.tokens.TEST_JWKS
    headers = authorization(customer_id)   # {"Authorization": "Bearer <token>"}

Operator endpoints accept the shop's team (staff tokens, audience ``<audience>/staff``,
issued by accounts' ``POST /staff/login``) or the static operator token::

    install_staff_gate(app, verifier, settings.operator_token)
    router = APIRouter(dependencies=[Depends(staff_or_operator("agent"))])
    who: Operator = Depends(staff_or_operator("manager"))   # 403 for an agent; who.actor

Verification is stateless: a token whose session accounts has ended (password change,
erasure) keeps working until it expires; call accounts' ``GET /sessions/validate`` if an
action needs the session to be alive right now.
"""

from jg_auth.dependencies import (
    AuthError,
    Customer,
    Principal,
    Storefront,
    auth_error_handler,
    bearer_customer,
    bearer_principal,
    shared_token_matches,
)
from jg_auth.keys import ACCESS_TOKEN_TYPE, SUPPORTED_ALGORITHMS, SigningKey, staff_audience
from jg_auth.settings import DEFAULT_AUDIENCE, DEFAULT_ISSUER, DEFAULT_JWKS_URL, AuthSettings
from jg_auth.staff import (
    OPERATOR_TOKEN_ACTOR,
    Operator,
    OperatorToken,
    Staff,
    StaffGate,
    install_staff_gate,
    staff_or_operator,
)
from jg_auth.verifier import (
    CustomerClaims,
    StaffClaims,
    StaffRole,
    TokenError,
    TokenErrorReason,
    TokenVerifier,
)

__all__ = [
    "ACCESS_TOKEN_TYPE",
    "DEFAULT_AUDIENCE",
    "DEFAULT_ISSUER",
    "DEFAULT_JWKS_URL",
    "OPERATOR_TOKEN_ACTOR",
    "SUPPORTED_ALGORITHMS",
    "AuthError",
    "AuthSettings",
    "Customer",
    "CustomerClaims",
    "Operator",
    "OperatorToken",
    "Principal",
    "SigningKey",
    "Staff",
    "StaffClaims",
    "StaffGate",
    "StaffRole",
    "Storefront",
    "TokenError",
    "TokenErrorReason",
    "TokenVerifier",
    "auth_error_handler",
    "bearer_customer",
    "bearer_principal",
    "install_staff_gate",
    "shared_token_matches",
    "staff_audience",
    "staff_or_operator",
]

"""HTTP routes, by audience: module-level routers whose functions parse the request, call one
use case (:mod:`accounts.usecases`) and shape the answer (:mod:`accounts.routes.views`).

- :mod:`~accounts.routes.sessions`: authentication (keys, sign-up, login, sessions, forgotten
  password), no login needed;
- :mod:`~accounts.routes.customer`: the logged-in customer's account (profile, email,
  password, erasure) and the links mailed to them;
- :mod:`~accounts.routes.orders`: "Mes commandes et factures";
- :mod:`~accounts.routes.operator`: customer service.
- :mod:`~accounts.routes.staff`: the shop's team (console sign-in, members).
"""

from __future__ import annotations

from fastapi import APIRouter

from accounts.routes import customer, operator, orders, sessions, staff

ROUTERS: tuple[APIRouter, ...] = (
    sessions.router,
    customer.router,
    operator.router,
    orders.router,
    staff.router,
)

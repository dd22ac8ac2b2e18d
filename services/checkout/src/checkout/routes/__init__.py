"""HTTP routes by audience: ``catalogue`` (public) and ``orders`` (the storefront and customers).

Each route parses the request, calls one use case and shapes the answer (``views``);
``dependencies`` gives the context, the caller and the ``Idempotency-Key`` through ``Depends``.
"""

from checkout.routes import catalogue, orders

__all__ = ["catalogue", "orders"]

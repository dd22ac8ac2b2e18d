"""HTTP routes by audience: ``catalogue`` (public), ``orders`` (the storefront and customers)
and ``operator`` (customer service: staff tokens).

Each route parses the request, calls one use case and shapes the answer (``views``);
``dependencies`` gives the context, the caller and the ``Idempotency-Key`` through ``Depends``.
"""

from checkout.routes import catalogue, operator, orders

__all__ = ["catalogue", "operator", "orders"]

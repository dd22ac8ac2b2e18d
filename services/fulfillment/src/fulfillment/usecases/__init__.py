"""Fulfillment's use cases: one function per command or event reaction, called by the routes
and the handlers alike. This is where the transaction, the repository calls and the domain's
decision meet. A refused command raises :class:`CommandError` (its failure kind gives the
HTTP status); a refused logistics report is recorded, never raised.

- `stock`: ``release_order`` (OrderReleased), ``replenish_stock`` (StockReplenished),
  ``count_stock``, ``adjust_stock``; the hand-off and backorder steps they share.
- `shipping`: ``record_pick_up`` (ParcelPickedUp), ``record_delivery`` (ParcelDelivered).
- `returns`: ``request_return``, ``receive_return`` (ReturnReceived).
- `claims`: ``open_claim``, ``resolve_claim``.
- `erasure`: ``erase_customer`` (CustomerErasureRequested).
- `queries`: what customers and operators read.
"""

from fulfillment.usecases.errors import CommandError, Failure

__all__ = ["CommandError", "Failure"]

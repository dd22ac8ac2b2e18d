"""Checkout's use cases: one function per command or event reaction, called by the routes, the
handlers and the release scheduler alike. This is where the transaction, the repository calls
and the domain's decision meet. A refused command raises :class:`jg_web.http.ApiError` (or the
domain's :class:`~checkout.domain.OrderRejectedError` / :class:`~checkout.domain.ConflictError`,
422 and 409); its transaction rolls back.

- `ordering`: ``place_order``, ``read_order``.
- `window`: ``modify_order``, ``cancel_order`` (before the release).
- `payments`: ``record_authorization`` (PaymentAuthorized), ``request_authentication``
  (PaymentActionRequired), ``expire_authentication`` (PaymentAuthenticationExpired),
  ``record_refusal`` (PaymentRefused), ``record_capture`` (PaymentCaptured),
  ``record_cancelled_payment`` (PaymentCancelled).
- `progress`: ``record_processing`` (OrderProcessing), ``record_backorder`` (Backordered),
  ``record_shipment`` (Shipped), ``record_delivery`` (Delivered).
- `erasure`: ``erase_customer`` (CustomerErasureRequested).
- `release`: ``release_one``, ``release_due_orders`` (the scheduler's poll).
- `catalogue`: ``list_products``, ``list_shipping_methods``.
- `common`: ``save`` (an outcome in the unit of work), ``apply`` (an event to its order once).
"""

"""HTTP API, one module per audience: ``customer`` (returns, claims, an order's fulfillment)
and ``operator`` (stock, backorders, refused reports, claims' resolution). Each route parses
the request, calls one use case and shapes the answer; ``errors`` holds the JSON error
envelope (``{"code", "message", "details"?}``), ``dependencies`` the dependencies (context, caller,
operator) and ``views`` the response models."""

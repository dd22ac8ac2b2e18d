"""Payment's HTTP routes by audience: Stripe's ``webhooks``, the ``invoices`` of customers
and internal callers, and ``operator`` (customer service, staff tokens); ``dependencies``
(context, caller) and ``errors`` (jg_web.http in payment's shape) serve them all."""

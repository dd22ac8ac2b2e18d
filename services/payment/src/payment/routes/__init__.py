"""Payment's HTTP routes by audience: Stripe's ``webhooks`` and the ``invoices`` of customers
and internal callers; ``dependencies`` (context, caller) and ``errors`` (jg_web.http in payment's
shape) serve both."""

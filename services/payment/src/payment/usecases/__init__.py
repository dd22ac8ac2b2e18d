"""Payment's use cases: one function per command or event reaction, where the transaction, the
repository calls, the domain decision and the Stripe calls meet.

``orders`` (placed, modified, cancelled, released), ``attempts`` (driving a PaymentIntent),
``outcomes`` (applying Stripe's answer), ``refunds``, ``invoices`` (and credit notes),
``webhooks``, ``reauthorisation`` (3-D Secure left waiting), ``resume`` (the synchronisation
pass), ``erasure``.
"""

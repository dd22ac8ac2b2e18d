"""JapanGoodz notifications: French customer emails from events, exactly once, over SMTP.

Events in (one consumer group on the customer-facing topics), send intents recorded with the
inbox record, delivery by :mod:`notifications.dispatcher`, templates in ``templates/``.
"""

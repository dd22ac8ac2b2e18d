"""The console's pages, by audience: auth, orders, queues, admin (the manager's)."""

from backoffice.routes import admin, auth, orders, queues

__all__ = ["admin", "auth", "orders", "queues"]

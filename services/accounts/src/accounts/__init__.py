"""JapanGoodz accounts service (see accounts.app.create_app and docs/services/accounts.md)."""

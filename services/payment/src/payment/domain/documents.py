"""Who may read an invoice or a credit note."""

from __future__ import annotations

from uuid import UUID


def may_read_document(owner_id: UUID | None, *, internal: bool, customer_id: UUID | None) -> bool:
    """Internal callers read every document; a customer only those of their own orders (a
    guest order's documents belong to no account: internal callers only)."""
    if internal:
        return True
    return owner_id is not None and customer_id is not None and owner_id == customer_id

"""The erasure list: every erasure request applied, kept to apply it again after a restore."""

from __future__ import annotations

from datetime import datetime

from jg_events import CustomerErasureRequested, Envelope

from accounts.repository.base import Conn

# --- the erasure list ------------------------------------------------------------------------

# The erasure list keeps a proven address as long as a database backup may hold data found by
# it: 30 days of backups (deploy/k8s/overlays/prod/backup-targets.yaml), plus the base backup
# that starts the oldest of those days, plus a margin.
ERASURE_ADDRESS_KEPT_DAYS = 35


async def record_erasure_request(
    conn: Conn, envelope: Envelope[CustomerErasureRequested], topic: str
) -> bool:
    """Put a request on the erasure list; False when it is already there (applied before, or
    imported after a restore of this database)."""
    request = envelope.payload
    recorded = await conn.fetchval(
        """INSERT INTO erasure_requests (customer_id, customer_number, event_id, occurred_at,
               correlation_id, topic, requested_at, requested_by, email_verified, email)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
           ON CONFLICT DO NOTHING RETURNING true""",
        request.customer_id,
        request.customer_number,
        envelope.event_id,
        envelope.occurred_at,
        envelope.correlation_id,
        topic,
        request.requested_at,
        request.requested_by.value,
        request.email_verified,
        request.email if request.email_verified else None,
    )
    return bool(recorded)


async def forget_erasure_addresses(conn: Conn, before: datetime) -> int:
    """Housekeeping: forget the addresses of the requests made before ``before``."""
    status = await conn.execute(
        """UPDATE erasure_requests SET email = NULL, email_forgotten_at = now()
           WHERE email IS NOT NULL AND requested_at < $1""",
        before,
    )
    return int(status.split()[-1])

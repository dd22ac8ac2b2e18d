"""The console's pure rules: roles and sessions, the audit trail, the merged timeline, dead
letters, French wording. No I/O."""

from backoffice.domain import timeline, wording
from backoffice.domain.audit import ACTION_LABELS, OUTCOME_LABELS, AuditEntry, Outcome
from backoffice.domain.deadletters import DeadLetter, replay_headers, service_of
from backoffice.domain.staff import (
    Action,
    Member,
    Role,
    Session,
    SessionState,
    csrf_matches,
    from_another_site,
    may,
    new_session,
    safe_next,
)

__all__ = [
    "ACTION_LABELS",
    "OUTCOME_LABELS",
    "Action",
    "AuditEntry",
    "DeadLetter",
    "Member",
    "Outcome",
    "Role",
    "Session",
    "SessionState",
    "csrf_matches",
    "from_another_site",
    "may",
    "new_session",
    "replay_headers",
    "safe_next",
    "service_of",
    "timeline",
    "wording",
]

"""One module per audience of the console: sessions, orders, queues, dead letters, audit."""

from backoffice.usecases import audit, deadletters, orders, queues, sessions
from backoffice.usecases.common import Block, NotAllowedError

__all__ = ["Block", "NotAllowedError", "audit", "deadletters", "orders", "queues", "sessions"]

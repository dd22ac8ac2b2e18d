"""The real local stack of the JapanGoodz platform, for developers and tests.

Kafka (KRaft), PostgreSQL, localstripe, stripe-mock and Mailpit on 127.0.0.1, started by
``jg-stack up`` (``make up``) and stopped by ``jg-stack down`` (``make down``).
"""

from jg_devstack.components import StackError
from jg_devstack.databases import (
    create_database,
    create_database_async,
    drop_database,
    drop_database_async,
    unique_database_name,
)
from jg_devstack.stack import (
    ComponentStatus,
    Endpoints,
    down,
    ensure_up,
    stack_pids,
    stack_urls,
    status,
    up_async,
)

__all__ = [
    "ComponentStatus",
    "Endpoints",
    "StackError",
    "create_database",
    "create_database_async",
    "down",
    "drop_database",
    "drop_database_async",
    "ensure_up",
    "stack_pids",
    "stack_urls",
    "status",
    "unique_database_name",
    "up_async",
]

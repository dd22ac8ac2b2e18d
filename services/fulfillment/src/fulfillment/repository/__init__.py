"""Fulfillment's database access: asyncpg, plain SQL. Every function takes a connection and
returns typed rows (frozen dataclasses), never asyncpg records.

Locking rule (no deadlocks between concurrent hand-offs, replenishments and reports): a
transaction locks product rows first, in sku order, then order rows, in queue order.

One module per aggregate (`stock`, `orders`, `returns`, `claims`, `reports`, `erasure`); every
name is re-exported here: ``repository.get_order``...
"""

from fulfillment.repository.claims import *  # noqa: F403
from fulfillment.repository.erasure import *  # noqa: F403
from fulfillment.repository.orders import *  # noqa: F403
from fulfillment.repository.reports import *  # noqa: F403
from fulfillment.repository.returns import *  # noqa: F403
from fulfillment.repository.stock import *  # noqa: F403

"""Fulfillment's rules: pure, synchronous, no I/O (unit tested).

- **Stock** (`stock`): an order's demand against the stock available; what is reserved and
  what is missing; backorders served oldest first; stock counts and adjustments; order statuses.
- **Calendar** (`calendar`): French business days (weekends and French public holidays
  excluded), delivery estimates, the withdrawal deadline (L221-18, L221-19).
- **Tracking links** (`tracking`): one public tracking page per carrier.
- **Logistics reports** (`reports`): whether a pick-up or delivery report may be applied, or
  why it is refused.
- **Returns (withdrawal)** (`returns`): the decision on a request, the instructions, the refund
  once the items are received (L221-23, L221-24).
- **Claims** (`claims`): the rules of a claim (items, tracking number, photos checked by
  content), its resolution, refund amounts.

Customer-facing text is French; everything else English. Every name is re-exported here:
``domain.allocate``, ``domain.decide_return``...
"""

from fulfillment.domain.calendar import *  # noqa: F403
from fulfillment.domain.claims import *  # noqa: F403
from fulfillment.domain.reports import *  # noqa: F403
from fulfillment.domain.returns import *  # noqa: F403
from fulfillment.domain.stock import *  # noqa: F403
from fulfillment.domain.text import *  # noqa: F403
from fulfillment.domain.tracking import *  # noqa: F403

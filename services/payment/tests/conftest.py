"""Payment's tests import their Stripe helpers (``payment_webhooks``) from ``support/``, kept
out of the production package; tests/e2e and tests/fuzz add the same folder."""

import sys
from pathlib import Path

SUPPORT = str(Path(__file__).parent / "support")
if SUPPORT not in sys.path:
    sys.path.insert(0, SUPPORT)

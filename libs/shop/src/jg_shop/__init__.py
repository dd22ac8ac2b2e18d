"""What the platform says about the shop to people, defined once for every service.

- :mod:`jg_shop.seller`: :class:`SellerIdentity`, the seller's legal identity (legal name and
  form, address, telephone, email, SIREN, RCS, VAT number, consumer mediator, terms and
  conditions), read from ``JG_SELLER_*``; printed on invoices and in every email. Sample values
  let development and tests run; elsewhere :func:`require_real_seller` refuses a missing or
  sample value, naming the variables.
- :mod:`jg_shop.dates`: :func:`french_date`, a date as French writes it for a person
  (``1er avril 2026``, ``mercredi 1er avril 2026``).
"""

from jg_shop.dates import french_date
from jg_shop.seller import SAMPLE_SELLER, SellerIdentity, require_real_seller

__all__ = ["SAMPLE_SELLER", "SellerIdentity", "french_date", "require_real_seller"]

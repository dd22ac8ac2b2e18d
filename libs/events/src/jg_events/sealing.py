"""Links that only their recipient service can read: single-use account links, sealed.

A password-reset, email-change or email-verification link holds a secret token: whoever has the
link can take over the account or prove an address. The events that carry such a link travel on
``jg.accounts.customers``, which checkout, payment and fulfillment may read too, and stay in
Kafka and in accounts' outbox for days. So the link is never written there in clear: accounts
*seals* it (AES-256-GCM) under a key that only accounts and notifications hold
(``ACCOUNTS_LINK_SEALING_KEY`` = ``NOTIFICATIONS_LINK_SEALING_KEY``), and notifications *opens*
it when it writes the email.

Format of a sealed link (the ``SealedLink`` string of the contracts)::

    jgs1.<base64url(key id (4 bytes) || nonce (12 bytes) || ciphertext and tag)>

- the key is derived from the configured secret with HKDF-SHA256 (any string of enough entropy:
  the deployment tools generate 32 random bytes in hex);
- the key id (the first 4 bytes of SHA-256 of the derived key) tells a link sealed under another
  key apart from a corrupt one;
- the associated data binds the link to what it is for, whose it is and where it may be sent:
  ``jg-link/v1/<purpose>/<customer id>/<recipient address, lower-cased>``. A sealed link moved
  into another event (another customer, another recipient, another purpose) does not open.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated
from uuid import UUID

from pydantic import StringConstraints

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

# cryptography (~7 MB resident once loaded) is imported by LinkSealer's first seal or open:
# every service reads these contracts, only accounts and notifications seal or open a link.

__all__ = [
    "LINK_KEY_HOLDERS",
    "SEALED_LINK_PREFIX",
    "LinkPurpose",
    "LinkSealer",
    "SealedLink",
    "SealedLinkError",
]

SEALED_LINK_PREFIX = "jgs1."
LINK_KEY_HOLDERS = frozenset({"accounts", "notifications"})
"""The only services that may hold the link sealing key: accounts seals, notifications opens
(``make deploy-check`` fails when a deployment gives it to any other workload)."""
_KEY_ID_BYTES = 4
_NONCE_BYTES = 12
_TAG_BYTES = 16
_MIN_SECRET_LENGTH = 16

SealedLink = Annotated[
    str,
    StringConstraints(min_length=48, max_length=4096, pattern=r"^jgs1\.[A-Za-z0-9_-]+$"),
]
"""A link sealed for its recipient service (see this module): ``jgs1.`` then base64url."""


class LinkPurpose(StrEnum):
    """What a sealed link is for (part of the associated data: it cannot be used for another)."""

    PASSWORD_RESET = "password_reset"  # noqa: S105 - a purpose, not a secret
    EMAIL_CHANGE = "email_change"
    EMAIL_VERIFICATION = "email_verification"


class SealedLinkError(ValueError):
    """The sealed link cannot be opened: another key, another context, or corrupt."""


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class LinkSealer:
    """Seals and opens account links with one secret (accounts seals, notifications opens)."""

    def __init__(self, secret: str) -> None:
        if len(secret) < _MIN_SECRET_LENGTH:
            raise ValueError(f"a link sealing key has at least {_MIN_SECRET_LENGTH} characters")
        self._secret = secret.encode("utf-8")
        self._derived: tuple[bytes, AESGCM] | None = None

    def _keys(self) -> tuple[bytes, AESGCM]:
        """The key id and the cipher, derived on first use (it loads cryptography)."""
        if self._derived is None:
            from cryptography.hazmat.primitives import hashes
            from cryptography.hazmat.primitives.ciphers.aead import AESGCM
            from cryptography.hazmat.primitives.kdf.hkdf import HKDF

            key = HKDF(
                algorithm=hashes.SHA256(),
                length=32,
                salt=None,
                info=b"japangoodz account links v1",
            ).derive(self._secret)
            self._derived = (hashlib.sha256(key).digest()[:_KEY_ID_BYTES], AESGCM(key))
        return self._derived

    @property
    def key_id(self) -> bytes:
        """The first bytes of SHA-256 of the derived key: tells another key from corruption."""
        return self._keys()[0]

    @staticmethod
    def associated_data(purpose: LinkPurpose, customer_id: UUID, recipient: str) -> bytes:
        """What the link is bound to: its purpose, its customer and the address it goes to."""
        address = recipient.strip().lower()
        return f"jg-link/v1/{LinkPurpose(purpose).value}/{customer_id}/{address}".encode()

    def seal(
        self,
        link: str,
        *,
        purpose: LinkPurpose,
        customer_id: UUID,
        recipient: str,
        nonce: bytes | None = None,
    ) -> str:
        """``link`` sealed for ``recipient`` (``nonce``: only for deterministic examples)."""
        nonce = nonce if nonce is not None else os.urandom(_NONCE_BYTES)
        if len(nonce) != _NONCE_BYTES:
            raise ValueError(f"the nonce has {_NONCE_BYTES} bytes")
        data = self.associated_data(purpose, customer_id, recipient)
        sealed = self._keys()[1].encrypt(nonce, link.encode("utf-8"), data)
        body = base64.urlsafe_b64encode(self.key_id + nonce + sealed).rstrip(b"=").decode()
        return SEALED_LINK_PREFIX + body

    def open(self, sealed: str, *, purpose: LinkPurpose, customer_id: UUID, recipient: str) -> str:
        """The link in clear; :class:`SealedLinkError` if this key and context cannot open it."""
        if not sealed.startswith(SEALED_LINK_PREFIX):
            raise SealedLinkError("not a sealed link")
        try:
            raw = _b64decode(sealed[len(SEALED_LINK_PREFIX) :])
        except (binascii.Error, ValueError) as error:
            raise SealedLinkError("a sealed link is base64url") from error
        if len(raw) < _KEY_ID_BYTES + _NONCE_BYTES + _TAG_BYTES:
            raise SealedLinkError("the sealed link is truncated")
        key_id, rest = raw[:_KEY_ID_BYTES], raw[_KEY_ID_BYTES:]
        if key_id != self.key_id:
            raise SealedLinkError(
                "the link was sealed under another key (LINK_SEALING_KEY differs between "
                "accounts and notifications, or was rotated)"
            )
        nonce, ciphertext = rest[:_NONCE_BYTES], rest[_NONCE_BYTES:]
        data = self.associated_data(purpose, customer_id, recipient)
        from cryptography.exceptions import InvalidTag

        try:
            return self._keys()[1].decrypt(nonce, ciphertext, data).decode("utf-8")
        except InvalidTag as error:
            raise SealedLinkError(
                "the sealed link does not open for this purpose, customer and recipient"
            ) from error

"""What handlers, routes and use cases share: the runtime, the settings, the renderer, the keys."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from jg_events import LinkSealer
from jg_messaging import ServiceRuntime

from notifications import domain
from notifications.rendering import Renderer, Shop
from notifications.settings import NotificationsSettings

__all__ = ["SERVICE", "Context", "renderer_for"]

SERVICE = "notifications"


def renderer_for(settings: NotificationsSettings) -> Renderer:
    """The email renderer with the shop's identity and time zone from ``settings``."""
    shop = Shop(
        shop_url=settings.shop_url,
        customer_space_url=settings.customer_space_url,
        contact_email=settings.reply_to_address.addr_spec,
        seller=settings.seller,
        return_costs_borne_by_customer=settings.return_costs_borne_by_customer,
    )
    return Renderer(shop, timezone=settings.timezone)


def _nothing() -> None:
    return None


@dataclass(frozen=True)
class Context:
    """The service's runtime (pool, messaging), settings and renderer.

    ``wake``: called after a commit that recorded emails to send (the dispatcher's ``wake``).
    """

    runtime: ServiceRuntime
    settings: NotificationsSettings
    renderer: Renderer
    wake: Callable[[], None] = _nothing
    links: LinkSealer = field(init=False)
    _hash_key: bytes = field(init=False, repr=False)

    def __post_init__(self) -> None:
        links = LinkSealer(self.settings.link_sealing_key.get_secret_value())
        object.__setattr__(self, "links", links)
        key = self.settings.recipient_hash_key.get_secret_value().encode()
        object.__setattr__(self, "_hash_key", key)

    @property
    def sender_domain(self) -> str:
        """The domain of the Message-IDs: the sender address's."""
        return self.settings.sender_address.domain

    def hash(self, address: str) -> str:
        """The keyed hash of an address (the suppression list keeps only these)."""
        return domain.recipient_hash(address, self._hash_key)

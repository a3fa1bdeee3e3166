"""What a platform plugin provides: one :class:`Platform` object per platform it serves.

The core looks a store's platform up by name (the store config's ``platform``) and calls
its methods; nothing else in the core knows which platforms exist. A plugin registers its
platform objects through the ``backorder_platforms`` hook (see :mod:`backorder.hookspecs`).

Subclass :class:`BasePlatform` and override what your platform supports; the defaults
describe a platform with no remote API (no catalog, no pushes, no webhooks). Every method
that takes a ``store`` is only ever called with stores of this platform.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, runtime_checkable

from backorder.errors import NotFound, WebhookRejected
from backorder.models import CatalogItem, ItemInput, ItemView, OrderIn, StockLevel
from backorder.rules.ordering import BACKORDER_NOTICE

if TYPE_CHECKING:
    import click

    from backorder.config import StoreConfig
    from backorder.dialects import CsvDialect
    from backorder.webhooks import WebhookEvent

__all__ = ["PLUGIN_API", "BasePlatform", "Platform"]

PLUGIN_API = 2
"""The version of the plugin API this core speaks.

1: one hook per platform operation, each plugin checking ``store.platform`` itself.
2: platforms are registered objects (this module); hooks remain for notifiers, document
renderers and CLI commands. A platform says which version it was written for in
``api_version``; the plugin manager refuses one written for another version.
"""


@runtime_checkable
class Platform(Protocol):
    """A platform's operations, as the core calls them."""

    @property
    def name(self) -> str:
        """The ``platform`` a store's config names, e.g. ``"bigcommerce"``."""
        ...

    @property
    def api_version(self) -> int:
        """The :data:`PLUGIN_API` this platform was written for."""
        ...

    @property
    def pushes(self) -> bool:
        """Whether :meth:`apply_items` sends anything: when False the core queues no pushes."""
        ...

    @property
    def backorder_notice(self) -> str:
        """The platform's own wording of the notice a ``notify`` order line with units on
        backorder carries, with ``{token}`` placeholders from
        :data:`backorder.rules.ordering.NOTICE_TOKENS` (``{name}``, ``{sku}``, ``{qty}``,
        ``{in_stock}``, ``{backordered}``). A store's ``storefront.backorder_notice``
        overrides it. :class:`BasePlatform` gives
        :data:`backorder.rules.ordering.BACKORDER_NOTICE`."""
        ...

    def translate_item(self, fields: Mapping[str, Any]) -> ItemInput:
        """An item described in the platform's own words as the core's :class:`ItemInput`.

        :param fields: the platform's fields (a scenario's or a CSV's); core fields may be
            mixed in.
        :raises ValueError: the fields are contradictory; the message names the field.
        """
        ...

    def translate_store_item(self, store: StoreConfig, fields: Mapping[str, Any]) -> ItemInput:
        """:meth:`translate_item` for one store, whose ``connection`` may hold shop-wide
        platform settings that decide what the fields leave unsaid (a shop default).

        :param store: the store the item belongs to (a simulation's scenario builds one
            from its ``connection`` table).
        :param fields: as for :meth:`translate_item`.
        :raises ValueError: the fields are contradictory; the message names the field.
        """
        ...

    def fetch_catalog(self, store: StoreConfig) -> Sequence[CatalogItem]:
        """Every product and variant of the store's catalog, one per SKU.

        :param store: the store to read.
        """
        ...

    def fetch_levels(self, store: StoreConfig, skus: Sequence[str]) -> Sequence[StockLevel]:
        """The platform's current stock for some SKUs (one-way sync into our ledger).

        ``source_ref`` and ``as_of`` are part of the ledger's idempotency key (README:
        "source_ref and as_of"): give each reading its own ``source_ref`` (a run id per
        call plus the variant, a version, a delivery id), never a constant per SKU: the
        ledger books a ref once, so a fixed ref makes every later sync a silent no-op,
        and a ref seen before with another figure is refused as a
        :class:`~backorder.errors.Conflict`. ``as_of`` (the platform's ``updatedAt``) lets
        a late, older figure be skipped. ``basis`` says whether the figure is net of the
        platform's own sales (see :class:`~backorder.models.StockLevel`).

        :param store: the store to read.
        :param skus: the SKUs wanted; empty means every tracked SKU.
        """
        ...

    def fetch_order(self, store: StoreConfig, order_id: str) -> OrderIn:
        """One order with its lines.

        :param store: the store to read.
        :param order_id: the platform's order id.
        :raises backorder.errors.NotFound: the platform has no such order.
        """
        ...

    def apply_items(self, store: StoreConfig, items: Sequence[ItemView], reason: str) -> None:
        """Push our decisions back: tracking, purchasability, limits, messages.

        Called after a change commits (through the push outbox) with the items' state now.

        :param store: the store to update.
        :param items: the items' computed state.
        :param reason: what changed them: ``assign``, ``unassign``, ``unassign:track``,
            ``unassign:not_purchasable``, ``edit``, ``enable``, ``disable``, ``order``,
            ``stock``, ``tick``, ``catalog``, ``receipt``, ``import``.
        """
        ...

    def parse_webhook(
        self, store: StoreConfig, headers: Mapping[str, str], body: bytes
    ) -> Sequence[WebhookEvent]:
        """Authenticate and parse one webhook delivery.

        :param store: the store the delivery is addressed to.
        :param headers: the HTTP headers as received (case-insensitive mapping).
        :param body: the raw request body.
        :raises backorder.errors.WebhookRejected: authentication failed or the body is
            malformed; the message says which field.
        """
        ...

    def publish_storefront(
        self, store: StoreConfig, sku: str, messages: Mapping[str, str]
    ) -> None:
        """Publish one item's storefront messages (availability text, button, cart notes).

        :param store: the store to update.
        :param sku: the item.
        :param messages: message name to rendered text.
        """
        ...

    def csv_dialects(self) -> Sequence[CsvDialect]:
        """The platform's own product CSV dialects for import and export."""
        ...

    def commands(self) -> Sequence[click.Command]:
        """The platform's own CLI commands, added to ``backorder`` (``backorder magento ...``)."""
        ...

    def sandbox(self) -> click.Command | None:
        """The command that runs this platform's local sandbox (``backorder sandbox NAME``)."""
        ...


class BasePlatform:
    """Defaults for a platform with no remote API; override what yours supports."""

    name: ClassVar[str] = ""
    api_version: ClassVar[int] = PLUGIN_API
    backorder_notice: ClassVar[str] = BACKORDER_NOTICE

    @property
    def pushes(self) -> bool:
        """True when a subclass overrides :meth:`apply_items`."""
        return type(self).apply_items is not BasePlatform.apply_items

    def translate_item(self, fields: Mapping[str, Any]) -> ItemInput:
        return ItemInput.model_validate(dict(fields))

    def translate_store_item(self, store: StoreConfig, fields: Mapping[str, Any]) -> ItemInput:
        return self.translate_item(fields)  # no shop-wide settings: the store changes nothing

    def fetch_catalog(self, store: StoreConfig) -> Sequence[CatalogItem]:
        return []

    def fetch_levels(self, store: StoreConfig, skus: Sequence[str]) -> Sequence[StockLevel]:
        return []

    def fetch_order(self, store: StoreConfig, order_id: str) -> OrderIn:
        raise NotFound(f"platform {self.name!r} keeps no orders: no order {order_id!r}")

    def apply_items(self, store: StoreConfig, items: Sequence[ItemView], reason: str) -> None:
        return None

    @property
    def publishes(self) -> bool:
        """True when a subclass overrides :meth:`publish_storefront` (the core then hands it
        the messages of changed items, unless the store turns ``storefront.publish`` off)."""
        return type(self).publish_storefront is not BasePlatform.publish_storefront

    def parse_webhook(
        self, store: StoreConfig, headers: Mapping[str, str], body: bytes
    ) -> Sequence[WebhookEvent]:
        raise WebhookRejected(f"platform {self.name!r} takes no webhooks")

    def authenticate_headers(self, store: StoreConfig, headers: Mapping[str, str]) -> None:
        """Refuse a delivery its headers alone show to be unauthenticated, before the
        server reads its body (optional; the server calls it when a platform has it).

        A header secret is checked whole here; a body signature can only be checked by
        :meth:`parse_webhook`, but a delivery without the signature header, or to a store
        with no secret, is refused at once. The default refuses nothing (the platform
        takes no webhooks, which :meth:`parse_webhook` says).

        :raises backorder.errors.WebhookRejected: the credentials are missing or wrong.
        """
        return None

    def publish_storefront(
        self, store: StoreConfig, sku: str, messages: Mapping[str, str]
    ) -> None:
        return None

    def csv_dialects(self) -> Sequence[CsvDialect]:
        return []

    def commands(self) -> Sequence[click.Command]:
        return []

    def sandbox(self) -> click.Command | None:
        return None

    def __repr__(self) -> str:
        return f"<{type(self).__name__} platform {self.name!r}>"

"""The one schema, for SQLite and PostgreSQL alike. Changes go through an Alembic migration."""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

UTCDateTime = sa.DateTime(timezone=True)

items = sa.Table(
    "items",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("store", sa.String(64), nullable=False),
    sa.Column("sku", sa.String(255), nullable=False),
    sa.Column("product_id", sa.String(64)),
    sa.Column("variant_id", sa.String(64)),
    sa.Column("name", sa.String(500), nullable=False, server_default=""),
    sa.Column("assigned", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("tracked", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("on_hand", sa.Integer, nullable=False, server_default="0"),
    sa.Column("incoming_qty", sa.Integer, nullable=False, server_default="0"),
    sa.Column("back_in_stock_date", UTCDateTime),
    sa.Column("state", sa.String(16), nullable=False, server_default="idle"),
    sa.Column("disabled_reason", sa.String(32)),
    sa.Column("purchasing_disabled", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("overrides", sa.JSON, nullable=False),
    sa.Column("platform_level", sa.Integer),
    sa.Column("version", sa.Integer, nullable=False, server_default="0"),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.UniqueConstraint("store", "sku"),
    sa.Index(None, "store", "product_id"),
    sa.Index(None, "store", "back_in_stock_date"),
)

movements = sa.Table(
    "movements",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("store", sa.String(64), nullable=False),
    sa.Column("sku", sa.String(255), nullable=False),
    sa.Column("delta", sa.Integer, nullable=False),
    sa.Column("on_hand_after", sa.Integer, nullable=False),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("source", sa.String(255), nullable=False),
    sa.Column("idempotency_key", sa.String(255), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("as_of", UTCDateTime),  # when the platform's figure was true (sync movements)
    sa.UniqueConstraint("store", "idempotency_key"),
    sa.Index(None, "store", "sku"),
)

orders = sa.Table(
    "orders",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("store", sa.String(64), nullable=False),
    sa.Column("order_id", sa.String(64), nullable=False),
    sa.Column("placed_at", UTCDateTime, nullable=False),
    sa.Column("customer_email", sa.String(320)),
    sa.Column("accepted", sa.Boolean, nullable=False),
    sa.Column("errors", sa.JSON, nullable=False),
    sa.UniqueConstraint("store", "order_id"),
)

order_lines = sa.Table(
    "order_lines",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("order_pk", sa.ForeignKey("orders.id", ondelete="CASCADE"), nullable=False),
    sa.Column("line_no", sa.Integer, nullable=False),
    sa.Column("sku", sa.String(255), nullable=False),
    sa.Column("name", sa.String(500), nullable=False, server_default=""),
    sa.Column("requested", sa.Integer, nullable=False),
    sa.Column("in_stock", sa.Integer, nullable=False),
    sa.Column("backordered", sa.Integer, nullable=False),
    sa.Column("accepted", sa.Boolean, nullable=False),
    sa.Column("error", sa.Text),
    sa.Column("message", sa.Text),
    sa.Column("eta", UTCDateTime),
    sa.Column("eta_status", sa.String(16)),
    sa.UniqueConstraint("order_pk", "line_no"),
    sa.Index(None, "sku"),
)

events = sa.Table(
    "events",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("store", sa.String(64), nullable=False),
    sa.Column("type", sa.String(32), nullable=False),
    sa.Column("sku", sa.String(255)),
    sa.Column("reason", sa.String(32)),
    sa.Column("data", sa.JSON, nullable=False),
    sa.Column("at", UTCDateTime, nullable=False),
    sa.Column("dispatched_at", UTCDateTime),
    sa.Index(None, "store", "dispatched_at"),
)

# ---- operations (migration 0002): catalog details, webhook deliveries, push outbox, imports
items.append_column(sa.Column("category", sa.String(255)))
items.append_column(sa.Column("brand", sa.String(255)))


def _work_columns() -> list:
    """The columns of a table workers take rows from (see storage.work_queue)."""
    return [
        sa.Column("available_at", UTCDateTime, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("claimed_by", sa.String(64)),
        sa.Column("done_at", UTCDateTime),
        sa.Column("outcome", sa.Text),
        sa.Index(None, "store", "done_at", "available_at"),
    ]


webhook_deliveries = sa.Table(
    "webhook_deliveries",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("store", sa.String(64), nullable=False),
    sa.Column("delivery_id", sa.String(255), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("payload", sa.JSON, nullable=False),
    sa.Column("received_at", UTCDateTime, nullable=False),
    *_work_columns(),
    sa.UniqueConstraint("store", "delivery_id"),
)
"""Webhook deliveries as received: the dedupe key, then applied by a worker."""

push_outbox = sa.Table(
    "push_outbox",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("store", sa.String(64), nullable=False),
    sa.Column("reason", sa.String(64), nullable=False),
    sa.Column("skus", sa.JSON, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    *_work_columns(),
)
"""Platform pushes (backorder_apply_items) written with the change they report."""

storefront_items = sa.Table(
    "storefront_items",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("store", sa.String(64), nullable=False),
    sa.Column("sku", sa.String(255), nullable=False),
    sa.Column("product_id", sa.String(64)),
    sa.Column("variant_id", sa.String(64)),
    sa.Column("view", sa.JSON, nullable=False),
    sa.Column("basis", sa.String(16), nullable=False, server_default=""),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.UniqueConstraint("store", "sku"),
    sa.Index(None, "store", "product_id"),
    sa.Index(None, "store", "variant_id"),
)
"""The storefront read model: each item's computed view, rewritten in every change's
transaction (:mod:`backorder.storefront_api.readmodel`); the public storefront API reads
only this table. ``basis``: a digest of the store settings the view was computed with."""

import_runs = sa.Table(
    "import_runs",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("store", sa.String(64), nullable=False),
    sa.Column("import_id", sa.String(64), nullable=False),
    sa.Column("mode", sa.String(16), nullable=False),
    sa.Column("file_name", sa.String(500), nullable=False),
    sa.Column("rows", sa.Integer, nullable=False),
    sa.Column("summary", sa.JSON, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.UniqueConstraint("store", "import_id"),
)
"""Imports applied: the same file imported again is recognised and changes nothing."""


receipts = sa.Table(
    "receipts",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("store", sa.String(64), nullable=False),
    sa.Column("sku", sa.String(255), nullable=False),
    sa.Column("ref", sa.String(128), nullable=False),
    sa.Column("qty", sa.Integer, nullable=False),
    sa.Column("expected_at", UTCDateTime, nullable=False),
    sa.Column("status", sa.String(16), nullable=False, server_default="expected"),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.UniqueConstraint("store", "sku", "ref"),
)
"""Expected stock receipts (purchase orders): several per SKU, each with a qty and a date."""


# ---- notifications (migration 0006): each notifier hears each event once
events.append_column(sa.Column("available_at", UTCDateTime))  # NULL: due now
events.append_column(sa.Column("attempts", sa.Integer, nullable=False, server_default="0"))
events.append_column(sa.Column("claimed_by", sa.String(64)))

event_deliveries = sa.Table(
    "event_deliveries",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("event_id", sa.ForeignKey("events.id", ondelete="CASCADE"), nullable=False),
    sa.Column("notifier", sa.String(128), nullable=False),
    sa.Column("delivered_at", UTCDateTime, nullable=False),
    sa.UniqueConstraint("event_id", "notifier"),
)
"""Which notifier has received which event: a retry after one notifier failed never
sends the event again to those that took it."""


# ---- the web app's lists (migration 0007): facets, plan counts and the report by date
# (store, category): replaced by (store, category, brand, sku) in migration 0009
sa.Index(None, items.c.store, items.c.brand)
sa.Index(None, items.c.store, items.c.assigned, items.c.product_id, items.c.sku)
sa.Index(None, orders.c.store, orders.c.placed_at)

# ---- stores and people (migration 0007): stores installed at run time, the admin's users
stores = sa.Table(
    "stores",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(64), nullable=False),
    sa.Column("platform", sa.String(64), nullable=False),
    sa.Column("installed", sa.Boolean, nullable=False),
    sa.Column("external_id", sa.String(128)),
    sa.Column("sections", sa.JSON, nullable=False),
    sa.Column("secrets", sa.Text),
    sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("version", sa.Integer, nullable=False, server_default="0"),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.UniqueConstraint("name"),
    sa.UniqueConstraint("platform", "external_id"),
)
"""Stores kept in the database: installed through a platform's app flow (``installed``:
the whole store config in ``sections``, its secrets Fernet-encrypted in ``secrets``), or
a config-file store's settings as edited in the web app (``installed`` false: these
sections are laid over the file's)."""

admin_users = sa.Table(
    "admin_users",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("username", sa.String(255), nullable=False),
    sa.Column("password_hash", sa.Text),
    sa.Column("stores", sa.JSON, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.UniqueConstraint("username"),
)
"""People who may open the web app, with the stores each may open (``["*"]``: all).
A user without a password hash signs in only through a platform (BigCommerce's load
callback) or a trusted proxy."""


# ---- order lifecycle (migration 0008): each line's running totals, and each
# cancel / shipment / return once per idempotency key with its first answer
order_lines.append_column(sa.Column("cancelled", sa.Integer, nullable=False, server_default="0"))
order_lines.append_column(sa.Column("shipped", sa.Integer, nullable=False, server_default="0"))
order_lines.append_column(sa.Column("returned", sa.Integer, nullable=False, server_default="0"))

order_changes = sa.Table(
    "order_changes",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("store", sa.String(64), nullable=False),
    sa.Column("idempotency_key", sa.String(255), nullable=False),
    sa.Column("order_id", sa.String(64), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("result", sa.JSON, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.UniqueConstraint("store", "idempotency_key"),
)
"""Cancels, shipments and returns applied: a replay of a key returns the first answer."""


# ---- the stored status and search (migration 0009): the web app's counts, status filter
# and substring search read indexes. ``status`` is kept by triggers (storage.item_status);
# the search index is FTS5 (trigram) on SQLite, pg_trgm on PostgreSQL (storage.item_search).
items.append_column(sa.Column("status", sa.String(16)))
sa.Index(None, items.c.store, items.c.assigned, items.c.status, items.c.tracked, items.c.on_hand)
# category and brand together, in SKU order (replaces 0007's (store, category)); the
# dashboard's latest events
sa.Index(None, items.c.store, items.c.category, items.c.brand, items.c.sku)
sa.Index(None, events.c.store, events.c.id)
# order lines stored without a name (the report shows their item's): few, found at once
sa.Index("ix_order_lines_nameless_sku", order_lines.c.sku,
         sqlite_where=order_lines.c.name == "", postgresql_where=order_lines.c.name == "")

item_status_defaults = sa.Table(
    "item_status_defaults",
    metadata,
    sa.Column("store", sa.String(64), primary_key=True),
    sa.Column("mode", sa.String(16), nullable=False),
    sa.Column("threshold", sa.Integer),
    sa.Column("low_stock_level", sa.Integer, nullable=False),
    sa.Column("out_of_stock_threshold", sa.Integer, nullable=False),
)
"""The store defaults the stored statuses were computed with (one row per store; the
triggers read it; ``storage.item_status.ensure`` writes it from the settings in force)."""


# ---- row layouts: the columns the fast paths bind, in table order (after every table and
# appended column above; a column added since must be named here if a layout leaves it out)
def columns_of(table: sa.Table, *, leaving_out: Iterable[str] = ()) -> tuple[str, ...]:
    """A table's column names in the table's order, but those in ``leaving_out``."""
    skipped = set(leaving_out)
    return tuple(column.name for column in table.columns if column.name not in skipped)


ITEM_STATE_COLUMNS = columns_of(
    items, leaving_out=("id", "store", "version", "updated_at", "category", "brand", "status")
)
"""The columns an item's :class:`~backorder.models.ItemState` is stored in (its fields, in
their order)."""
ITEM_COLUMNS = ("id", "version", *ITEM_STATE_COLUMNS)
"""An item as the order paths read it: the row id and version a conditional write needs,
then its state."""
MOVEMENT_COLUMNS = columns_of(movements, leaving_out=("id", "as_of"))
"""A ledger row as orders, the tick and imports write it (``as_of`` is for sync movements)."""
EVENT_COLUMNS = columns_of(
    events, leaving_out=("id", "dispatched_at", "available_at", "attempts", "claimed_by")
)
"""An outbox row as it is written (its dispatch columns, see ``event_log``, come later)."""
ORDER_COLUMNS = columns_of(orders, leaving_out=("id",))
LINE_COLUMNS = columns_of(
    order_lines, leaving_out=("id", "eta", "eta_status", "cancelled", "shipped", "returned")
)
"""An order line as the order is placed (its promised date comes later, see ``eta``)."""

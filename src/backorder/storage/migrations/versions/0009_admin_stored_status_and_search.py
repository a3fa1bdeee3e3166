"""items.status kept by triggers, item_status_defaults, the status index and the
substring search index (FTS5 trigram on SQLite, pg_trgm on PostgreSQL) of items and order
lines; items by category and brand in SKU order, events by store and id; backfilled

Revision ID: 0009
Revises: 0008

The statuses are backfilled under the model's default policy (the migration cannot read
the config file); the first page the web app shows of a store whose defaults differ
recomputes its statuses (``storage.item_status.ensure``).
"""

import sqlalchemy as sa
from alembic import op

from backorder.models import BackorderPolicy
from backorder.storage import item_search, item_status

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    conn = op.get_bind()
    dialect = conn.dialect.name
    with op.batch_alter_table("items") as batch:
        batch.add_column(sa.Column("status", sa.String(length=16), nullable=True))
    op.create_index(
        op.f("ix_items_store_assigned_status_tracked_on_hand"), "items",
        ["store", "assigned", "status", "tracked", "on_hand"],
    )
    op.drop_index(op.f("ix_items_store_category"), table_name="items")
    op.create_index(
        op.f("ix_items_store_category_brand_sku"), "items", ["store", "category", "brand", "sku"]
    )
    op.create_index(op.f("ix_events_store_id"), "events", ["store", "id"])
    nameless = sa.text("name = ''")
    op.create_index("ix_order_lines_nameless_sku", "order_lines", ["sku"],
                    sqlite_where=nameless, postgresql_where=nameless)
    op.create_table(
        "item_status_defaults",
        sa.Column("store", sa.String(length=64), nullable=False),
        sa.Column("mode", sa.String(length=16), nullable=False),
        sa.Column("threshold", sa.Integer(), nullable=True),
        sa.Column("low_stock_level", sa.Integer(), nullable=False),
        sa.Column("out_of_stock_threshold", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("store", name=op.f("pk_item_status_defaults")),
    )
    defaults = item_status.defaults_of(BackorderPolicy())
    conn.execute(
        sa.text(
            "INSERT INTO item_status_defaults "
            "(store, mode, threshold, low_stock_level, out_of_stock_threshold) "
            "SELECT DISTINCT store, :mode, :threshold, :low_stock_level, "
            ":out_of_stock_threshold FROM items"
        ).bindparams(
            sa.bindparam("mode", defaults["mode"], type_=sa.String),
            sa.bindparam("threshold", defaults["threshold"], type_=sa.Integer),
            sa.bindparam("low_stock_level", defaults["low_stock_level"], type_=sa.Integer),
            sa.bindparam(
                "out_of_stock_threshold", defaults["out_of_stock_threshold"], type_=sa.Integer
            ),
        )
    )
    conn.execute(sa.text(item_status.backfill_sql(dialect)))
    for statement in item_status.trigger_ddl(dialect):
        conn.execute(sa.text(statement))
    item_search.create(conn)


def downgrade() -> None:
    conn = op.get_bind()
    item_search.drop(conn)
    for statement in item_status.drop_trigger_ddl(conn.dialect.name):
        conn.execute(sa.text(statement))
    op.drop_table("item_status_defaults")
    op.drop_index(op.f("ix_events_store_id"), table_name="events")
    op.drop_index("ix_order_lines_nameless_sku", table_name="order_lines")
    op.drop_index(op.f("ix_items_store_category_brand_sku"), table_name="items")
    op.create_index(op.f("ix_items_store_category"), "items", ["store", "category"])
    op.drop_index(op.f("ix_items_store_assigned_status_tracked_on_hand"), table_name="items")
    with op.batch_alter_table("items") as batch:
        batch.drop_column("status")

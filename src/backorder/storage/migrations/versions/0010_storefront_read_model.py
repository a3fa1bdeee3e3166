"""storefront_items: the storefront read model (each item's computed view), which the
public storefront API reads; filled by every change, and rebuilt by the worker when it is
empty or the store settings changed (``backorder storefront-rebuild`` by hand)

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "storefront_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("store", sa.String(length=64), nullable=False),
        sa.Column("sku", sa.String(length=255), nullable=False),
        sa.Column("product_id", sa.String(length=64), nullable=True),
        sa.Column("variant_id", sa.String(length=64), nullable=True),
        sa.Column("view", sa.JSON(), nullable=False),
        sa.Column("basis", sa.String(length=16), server_default="", nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_storefront_items")),
        sa.UniqueConstraint("store", "sku", name=op.f("uq_storefront_items_store_sku")),
    )
    op.create_index(
        op.f("ix_storefront_items_store_product_id"), "storefront_items", ["store", "product_id"]
    )
    op.create_index(
        op.f("ix_storefront_items_store_variant_id"), "storefront_items", ["store", "variant_id"]
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_storefront_items_store_variant_id"), table_name="storefront_items")
    op.drop_index(op.f("ix_storefront_items_store_product_id"), table_name="storefront_items")
    op.drop_table("storefront_items")

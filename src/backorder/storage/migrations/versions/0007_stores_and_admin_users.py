"""stores: stores installed at run time and web-edited settings; admin_users; indexes of
the web app's lists (facets, plan counts, the report by order date)

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(op.f("ix_items_store_category"), "items", ["store", "category"])
    op.create_index(op.f("ix_items_store_brand"), "items", ["store", "brand"])
    op.create_index(
        op.f("ix_items_store_assigned_product_id_sku"), "items",
        ["store", "assigned", "product_id", "sku"],
    )
    op.create_index(op.f("ix_orders_store_placed_at"), "orders", ["store", "placed_at"])
    op.create_table(
        "stores",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("platform", sa.String(length=64), nullable=False),
        sa.Column("installed", sa.Boolean(), nullable=False),
        sa.Column("external_id", sa.String(length=128), nullable=True),
        sa.Column("sections", sa.JSON(), nullable=False),
        sa.Column("secrets", sa.Text(), nullable=True),
        sa.Column("active", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("version", sa.Integer(), server_default="0", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stores")),
        sa.UniqueConstraint("name", name=op.f("uq_stores_name")),
        sa.UniqueConstraint(
            "platform", "external_id", name=op.f("uq_stores_platform_external_id")
        ),
    )
    op.create_table(
        "admin_users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=255), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=True),
        sa.Column("stores", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_admin_users")),
        sa.UniqueConstraint("username", name=op.f("uq_admin_users_username")),
    )


def downgrade() -> None:
    op.drop_table("admin_users")
    op.drop_table("stores")
    op.drop_index(op.f("ix_orders_store_placed_at"), table_name="orders")
    op.drop_index(op.f("ix_items_store_assigned_product_id_sku"), table_name="items")
    op.drop_index(op.f("ix_items_store_brand"), table_name="items")
    op.drop_index(op.f("ix_items_store_category"), table_name="items")

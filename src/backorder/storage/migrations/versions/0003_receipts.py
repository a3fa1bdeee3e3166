"""receipts: expected stock per SKU, and the promised date per backordered order line

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "receipts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("store", sa.String(length=64), nullable=False),
        sa.Column("sku", sa.String(length=255), nullable=False),
        sa.Column("ref", sa.String(length=128), nullable=False),
        sa.Column("qty", sa.Integer(), nullable=False),
        sa.Column("expected_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), server_default="expected", nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_receipts")),
        sa.UniqueConstraint("store", "sku", "ref", name=op.f("uq_receipts_store_sku_ref")),
    )
    with op.batch_alter_table("order_lines") as batch_op:
        batch_op.add_column(sa.Column("eta", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("eta_status", sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("order_lines") as batch_op:
        batch_op.drop_column("eta_status")
        batch_op.drop_column("eta")
    op.drop_table("receipts")

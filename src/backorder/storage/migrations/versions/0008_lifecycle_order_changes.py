"""order lifecycle: per-line cancelled / shipped / returned totals; order_changes keeps
each cancel, shipment and return once per idempotency key with its first answer

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("order_lines") as batch_op:
        for name in ("cancelled", "shipped", "returned"):
            batch_op.add_column(
                sa.Column(name, sa.Integer(), server_default="0", nullable=False)
            )
    op.create_table(
        "order_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("store", sa.String(length=64), nullable=False),
        sa.Column("idempotency_key", sa.String(length=255), nullable=False),
        sa.Column("order_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_order_changes")),
        sa.UniqueConstraint(
            "store", "idempotency_key", name=op.f("uq_order_changes_store_idempotency_key")
        ),
    )


def downgrade() -> None:
    op.drop_table("order_changes")
    with op.batch_alter_table("order_lines") as batch_op:
        for name in ("returned", "shipped", "cancelled"):
            batch_op.drop_column(name)

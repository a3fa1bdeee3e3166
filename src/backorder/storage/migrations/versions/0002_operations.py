"""operations: catalog details, webhook deliveries, push outbox, import runs

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_DT = sa.DateTime(timezone=True)


def _work_columns() -> list[sa.Column]:
    """Columns of a table a worker claims rows from (lease, retries, result)."""
    return [
        sa.Column("available_at", _DT, nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("claimed_by", sa.String(length=64), nullable=True),
        sa.Column("done_at", _DT, nullable=True),
        sa.Column("outcome", sa.Text(), nullable=True),
    ]


def upgrade() -> None:
    with op.batch_alter_table("items", schema=None) as batch_op:
        batch_op.add_column(sa.Column("category", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("brand", sa.String(length=255), nullable=True))

    op.create_table(
        "webhook_deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("store", sa.String(length=64), nullable=False),
        sa.Column("delivery_id", sa.String(length=255), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("received_at", _DT, nullable=False),
        *_work_columns(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_deliveries")),
        sa.UniqueConstraint(
            "store", "delivery_id", name=op.f("uq_webhook_deliveries_store_delivery_id")
        ),
    )
    op.create_index(
        op.f("ix_webhook_deliveries_store_done_at_available_at"),
        "webhook_deliveries",
        ["store", "done_at", "available_at"],
    )
    op.create_table(
        "push_outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("store", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.String(length=64), nullable=False),
        sa.Column("skus", sa.JSON(), nullable=False),
        sa.Column("created_at", _DT, nullable=False),
        *_work_columns(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_push_outbox")),
    )
    op.create_index(
        op.f("ix_push_outbox_store_done_at_available_at"),
        "push_outbox",
        ["store", "done_at", "available_at"],
    )
    op.create_table(
        "import_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("store", sa.String(length=64), nullable=False),
        sa.Column("import_id", sa.String(length=64), nullable=False),
        sa.Column("mode", sa.String(length=16), nullable=False),
        sa.Column("file_name", sa.String(length=500), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("summary", sa.JSON(), nullable=False),
        sa.Column("created_at", _DT, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_runs")),
        sa.UniqueConstraint("store", "import_id", name=op.f("uq_import_runs_store_import_id")),
    )


def downgrade() -> None:
    op.drop_table("import_runs")
    op.drop_index(op.f("ix_push_outbox_store_done_at_available_at"), table_name="push_outbox")
    op.drop_table("push_outbox")
    op.drop_index(
        op.f("ix_webhook_deliveries_store_done_at_available_at"), table_name="webhook_deliveries"
    )
    op.drop_table("webhook_deliveries")
    with op.batch_alter_table("items", schema=None) as batch_op:
        batch_op.drop_column("brand")
        batch_op.drop_column("category")

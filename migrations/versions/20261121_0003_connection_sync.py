"""connection syncs: a per-connection lease, and the remote channels a sync finds

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21 13:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import shared.models

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("connections", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("sync_lease_until", shared.models.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("sync_lease_owner", sa.String(length=40), nullable=True))
    op.create_table(
        "remote_channels",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("connection_id", sa.String(length=40), nullable=False),
        sa.Column("remote_id", sa.String(length=200), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("is_private", sa.Boolean(), nullable=False),
        sa.Column("member_count", sa.Integer(), nullable=True),
        sa.Column("sync_enabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", shared.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", shared.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["connections.id"],
            name=op.f("fk_remote_channels_connection_id_connections"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_remote_channels")),
        sa.UniqueConstraint(
            "connection_id", "remote_id", name=op.f("uq_remote_channels_connection_id_remote_id")
        ),
    )
    with op.batch_alter_table("remote_channels", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_remote_channels_connection_id"), ["connection_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("remote_channels", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_remote_channels_connection_id"))
    op.drop_table("remote_channels")
    with op.batch_alter_table("connections", schema=None) as batch_op:
        batch_op.drop_column("sync_lease_owner")
        batch_op.drop_column("sync_lease_until")

"""channels.last_alive_at, note_at: event times that make effects order-independent

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-21 16:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import shared.models

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Nullable, no default: PostgreSQL adds them without rewriting the table.
    with op.batch_alter_table("channels", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("last_alive_at", shared.models.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("note_at", shared.models.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("channels", schema=None) as batch_op:
        batch_op.drop_column("note_at")
        batch_op.drop_column("last_alive_at")

"""events.channel_id without a foreign key: deletions cascade to events themselves

The key's per-row check locked the channel's row for every webhook the receiver stored; see
shared.event_deletion for what replaces it.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-21 19:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_constraint("fk_events_channel_id_channels", type_="foreignkey")


def downgrade() -> None:
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.create_foreign_key(
            "fk_events_channel_id_channels", "channels", ["channel_id"], ["id"], ondelete="CASCADE"
        )

"""Due work: what the scheduler must do, and when (core/projections/due_work/).

Revision ID: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

Json = sa.JSON().with_variant(JSONB(), "postgresql")
Id = sa.String(200)


def _when() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "due_work_teams",
        sa.Column("team_id", Id, primary_key=True),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("check_lead_minutes", sa.Integer, nullable=False),
        sa.Column("reminder_minutes", Json, nullable=False),
        sa.Column("game_length_minutes", sa.Integer, nullable=False),
    )
    op.create_table(
        "due_work_games",
        sa.Column("game_id", Id, primary_key=True),
        sa.Column("team_id", Id, nullable=False),
        sa.Column("starts_at", _when(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("check_id", Id),
        sa.Column("check_opened_at", _when()),
    )
    op.create_index("due_work_games_team", "due_work_games", ["team_id"])
    op.create_index("due_work_games_check", "due_work_games", ["check_id"])
    op.create_table(
        "due_work",
        sa.Column("key", sa.String(300), primary_key=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("team_id", Id, nullable=False),
        sa.Column("game_id", Id, nullable=False),
        sa.Column("check_id", Id),
        sa.Column("reminder_key", sa.String(64)),
        sa.Column("due_at", _when(), nullable=False),
        sa.Column("expires_at", _when()),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("note", sa.Text),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("claimed_by", sa.String(200)),
        sa.Column("claimed_until", _when()),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("last_error", sa.Text),
    )
    op.create_index("due_work_status_due", "due_work", ["status", "due_at"])
    op.create_index("due_work_game", "due_work", ["game_id"])
    op.create_index("due_work_seq", "due_work", ["seq"])

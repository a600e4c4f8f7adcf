"""Season: the season read model's tables (core/projections/season), so a season's
attendance, late drop-outs included, and the players' calendar feeds come from the events.

The projection is new: its checkpoint starts at the beginning, so the next ``attend serve``
replays the log into these tables, exactly as a rebuild would.

Revision ID: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

Id = sa.String(200)


def _when() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "season_teams",
        sa.Column("team_id", Id, primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("game_length_minutes", sa.Integer, nullable=False),
        sa.Column("changed_at", _when(), nullable=False),
    )
    op.create_table(
        "season_games",
        sa.Column("game_id", Id, primary_key=True),
        sa.Column("team_id", Id, nullable=False),
        sa.Column("number", sa.Integer, nullable=False),
        sa.Column("starts_at", _when(), nullable=False),
        sa.Column("location", sa.Text),
        sa.Column("opponent", sa.Text),
        sa.Column("cancelled", sa.Boolean, nullable=False),
        sa.Column("check_id", Id),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("changed_at", _when(), nullable=False),
    )
    op.create_index("season_games_team", "season_games", ["team_id", "starts_at"])
    op.create_table(
        "season_lines",
        sa.Column("check_id", Id, primary_key=True),
        sa.Column("player_id", Id, primary_key=True),
        sa.Column("team_id", Id, nullable=False),
        sa.Column("game_id", Id, nullable=False),
        sa.Column("invited_seq", sa.BigInteger, nullable=False),
        sa.Column("answer", sa.String(10)),
        sa.Column("late_dropouts", sa.Integer, nullable=False),
        sa.Column("withdrawn", sa.Boolean, nullable=False),
        sa.Column("changed_at", _when(), nullable=False),
    )
    op.create_index("season_lines_game", "season_lines", ["game_id"])
    op.create_table(
        "season_totals",
        sa.Column("team_id", Id, primary_key=True),
        sa.Column("player_id", Id, primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("invited", sa.Integer, nullable=False),
        sa.Column("yes", sa.Integer, nullable=False),
        sa.Column("no", sa.Integer, nullable=False),
        sa.Column("maybe", sa.Integer, nullable=False),
        sa.Column("no_answer", sa.Integer, nullable=False),
        sa.Column("late_dropouts", sa.Integer, nullable=False),
    )

"""Series of games: each team's series and the games that belong to each
(core/projections/series.py). New tables, filled from the log by ``attend serve``.

Revision ID: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

Id = sa.String(200)


def upgrade() -> None:
    op.create_table(
        "series",
        sa.Column("series_id", Id, primary_key=True),
        sa.Column("team_id", Id, nullable=False),
        sa.Column("number", sa.Integer, nullable=False),
        sa.Column("weekday", sa.Integer, nullable=False),
        sa.Column("hour", sa.Integer, nullable=False),
        sa.Column("minute", sa.Integer, nullable=False),
        sa.Column("every_weeks", sa.Integer, nullable=False),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("location", sa.Text),
        sa.Column("opponent", sa.Text),
        sa.Column("cancelled", sa.Boolean, nullable=False),
        sa.Column("original_text", sa.Text),
        sa.UniqueConstraint("team_id", "number", name="series_team_number"),
    )
    op.create_table(
        "series_games",
        sa.Column("series_id", Id, primary_key=True),
        sa.Column("game_id", Id, primary_key=True),
        sa.Column("position", sa.Integer, nullable=False),
    )
    op.create_index("series_games_game", "series_games", ["game_id"])

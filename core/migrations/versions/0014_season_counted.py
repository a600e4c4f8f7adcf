"""Season: the table is counted from the lines when read, so an answer changes one row.

``season_totals`` goes; ``season_players`` keeps each player's name as their latest
invitation gave it, and ``season_lines`` gets an index by team. The season projection is
cleared and its checkpoint set back to the start, so the next ``attend serve`` replays the
log into the new tables, exactly as a rebuild would.

Revision ID: 0014
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

Id = sa.String(200)


def upgrade() -> None:
    op.drop_table("season_totals")
    op.create_table(
        "season_players",
        sa.Column("team_id", Id, primary_key=True),
        sa.Column("player_id", Id, primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
    )
    op.create_index("season_lines_team", "season_lines", ["team_id", "player_id"])
    for table in ("season_lines", "season_games", "season_teams"):
        op.execute(sa.text(f"DELETE FROM {table}"))
    op.execute(sa.text("UPDATE subscriptions SET position = 0 WHERE handler = 'season'"))

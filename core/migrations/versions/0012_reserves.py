"""Reserves: who on a roster is a reserve, when a team asks them, and their board lines.

New columns only, each with a value that is right for every row written before (nobody was
a reserve, no team asked reserves), so no read model needs a replay.

Revision ID: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    no = sa.false()
    op.add_column("roster_players", sa.Column("reserve", sa.Boolean(), nullable=False,
                                              server_default=no))
    op.add_column("roster_teams", sa.Column("reserve_minutes", sa.Integer()))
    op.add_column("due_work_teams", sa.Column("reserve_minutes", sa.Integer()))
    op.add_column("board_lines", sa.Column("reserve", sa.Boolean(), nullable=False,
                                           server_default=no))
    op.add_column("board_lines", sa.Column("released", sa.Boolean(), nullable=False,
                                           server_default=no))

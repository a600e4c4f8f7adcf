"""Due work: each team's minimum, so a game is checked for it before the start.

The due-work read model (core/projections/due_work/) now keeps ``min_players`` per
team. Rows written before this revision have no minimum, so the read model is emptied and
its checkpoint reset: the next ``attend serve`` replays the log into it, exactly as a rebuild
would (status comes from events only; claims start afresh, which at worst sends an
idempotent command again). Bumping the lease epoch fences out a process still running the
previous release.

Revision ID: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("due_work_teams", sa.Column("min_players", sa.Integer))
    for table in ("due_work", "due_work_games", "due_work_teams"):
        op.execute(sa.text(f"DELETE FROM {table}"))
    op.execute(sa.text(
        "UPDATE subscriptions SET position = 0, owner = NULL, lease_until = 0, "
        "epoch = epoch + 1 WHERE handler = 'due_work'"))

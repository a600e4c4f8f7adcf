"""Board: each check's answer deadline, so the captain and the players see when answers close.

The board read model (core/projections/board.py) now keeps ``deadline`` per check.
Rows written before this revision don't have it even where a captain set one, so the read
model is emptied and its checkpoint reset: the next ``attend serve`` replays the log into it,
exactly as a rebuild would. Bumping the lease epoch fences out a process still running the
previous release.

Revision ID: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("board_checks", sa.Column("deadline", sa.DateTime(timezone=True)))
    for table in ("board_history", "board_lines", "board_checks"):
        op.execute(sa.text(f"DELETE FROM {table}"))
    op.execute(sa.text(
        "UPDATE subscriptions SET position = 0, owner = NULL, lease_until = 0, "
        "epoch = epoch + 1 WHERE handler = 'board'"))

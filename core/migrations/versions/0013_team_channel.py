"""A team's channel and the messages Attend keeps up to date (issue 16.2, 16.3).

``roster_teams`` gains the team's chat channel and whether players also get DMs; teams
registered before have neither a channel nor a reason to stop DMs, which the defaults say.
``message_edits`` holds each message Attend edits as answers arrive: a check's board in the
team's channel, and each player's DM (see core/message_edits.py).

Revision ID: 0013
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("roster_teams", sa.Column("chat_platform", sa.String(20)))
    op.add_column("roster_teams", sa.Column("chat_channel", sa.String(200)))
    op.add_column("roster_teams", sa.Column("dms", sa.Boolean, nullable=False,
                                            server_default=sa.true()))
    # Mirrors core.message_edits.message_edits.
    op.create_table(
        "message_edits",
        sa.Column("target", sa.String(450), primary_key=True),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("team_id", sa.String(200), nullable=False),
        sa.Column("check_id", sa.String(200), nullable=False),
        sa.Column("player_id", sa.String(200)),
        sa.Column("platform", sa.String(20)),
        sa.Column("channel_id", sa.String(200)),
        sa.Column("reference", sa.String(200)),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("shown_version", sa.Integer, nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True)),
        sa.Column("not_before", sa.DateTime(timezone=True), nullable=False),
        sa.Column("owner", sa.String(200)),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("stopped", sa.Boolean, nullable=False),
        sa.Column("last_error", sa.Text),
        sa.Column("edits", sa.Integer, nullable=False),
    )
    op.create_index("message_edits_due", "message_edits", ["stopped", "not_before"])

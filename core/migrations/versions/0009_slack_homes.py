"""Slack App Home: who has a Home published, so answers refresh only those.

Revision ID: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Mirrors bot.slack.home.opened.slack_homes.
    op.create_table(
        "slack_homes",
        sa.Column("slack_user", sa.String(200), primary_key=True),  # "<workspace>:<user>"
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
    )

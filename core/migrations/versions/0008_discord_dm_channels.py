"""Discord: each player's DM channel with the bot, so a DM is one request, not three.

Without it every DM first fetched the user (``GET /users/{id}``) and opened the DM channel
(``POST /users/@me/channels``). The channel of a user and a bot stays the same, so the
Discord adapter (bot/discord/dm_channels.py) keeps it here, across restarts and processes.
Keyed by the bot too: another bot token (another application) has channels of its own.

Revision ID: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Mirrors bot.discord.dm_channels.dm_channels.
    op.create_table(
        "discord_dm_channels",
        sa.Column("bot_id", sa.String(30), primary_key=True),
        sa.Column("user_id", sa.String(30), primary_key=True),
        sa.Column("channel_id", sa.String(30), nullable=False),
    )

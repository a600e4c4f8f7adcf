"""Read models: roster, directory, schedule and board tables (core/projections).

Revision ID: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

Json = sa.JSON().with_variant(JSONB(), "postgresql")
Id = sa.String(200)


def _when() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "roster_teams",
        sa.Column("team_id", Id, primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("check_lead_minutes", sa.Integer, nullable=False),
        sa.Column("reminder_minutes", Json, nullable=False),
        sa.Column("min_players", sa.Integer),
        sa.Column("max_players", sa.Integer),
        sa.Column("game_length_minutes", sa.Integer, nullable=False),
        sa.Column("slack_workspace", sa.String(100)),
        sa.Column("discord_guild", sa.String(100)),
        sa.Column("channel", sa.String(200)),
        sa.Column("registered_at", _when(), nullable=False),
    )
    op.create_table(
        "roster_players",
        sa.Column("team_id", Id, primary_key=True),
        sa.Column("player_id", Id, primary_key=True),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("email", sa.String(320)),
        sa.Column("slack_user", sa.String(200)),
        sa.Column("discord_user", sa.String(100)),
        sa.Column("captain", sa.Boolean, nullable=False),
        sa.Column("email_unsubscribed", sa.Boolean, nullable=False),
        sa.Column("unreachable", Json, nullable=False),
        sa.Column("joined_at", _when(), nullable=False),
    )
    op.create_index("roster_players_team_seq", "roster_players", ["team_id", "seq"])

    op.create_table(
        "directory_teams",
        sa.Column("team_id", Id, primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
    )
    op.create_table(
        "directory_members",
        sa.Column("team_id", Id, primary_key=True),
        sa.Column("player_id", Id, primary_key=True),
        sa.Column("player_name", sa.Text, nullable=False),
        sa.Column("email", sa.String(320)),
        sa.Column("slack_user", sa.String(200)),
        sa.Column("discord_user", sa.String(100)),
        sa.Column("captain", sa.Boolean, nullable=False),
    )
    op.create_index("directory_members_email", "directory_members", ["email"])
    op.create_index("directory_members_slack", "directory_members", ["slack_user"])
    op.create_index("directory_members_discord", "directory_members", ["discord_user"])

    op.create_table(
        "schedule_games",
        sa.Column("game_id", Id, primary_key=True),
        sa.Column("team_id", Id, nullable=False),
        sa.Column("number", sa.Integer, nullable=False),
        sa.Column("starts_at", _when(), nullable=False),
        sa.Column("location", sa.Text),
        sa.Column("opponent", sa.Text),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("check_id", Id),
        sa.Column("cancel_reason", sa.Text),
        sa.Column("original_text", sa.Text),
        sa.UniqueConstraint("team_id", "number", name="schedule_games_team_number"),
    )
    op.create_index("schedule_games_team_starts", "schedule_games", ["team_id", "starts_at"])

    op.create_table(
        "board_checks",
        sa.Column("check_id", Id, primary_key=True),
        sa.Column("game_id", Id, nullable=False),
        sa.Column("team_id", Id, nullable=False),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("starts_at", _when(), nullable=False),
        sa.Column("is_open", sa.Boolean, nullable=False),
        sa.Column("min_players", sa.Integer),
        sa.Column("max_players", sa.Integer),
    )
    op.create_index("board_checks_game", "board_checks", ["game_id"])
    op.create_index("board_checks_team", "board_checks", ["team_id"])
    op.create_table(
        "board_lines",
        sa.Column("check_id", Id, primary_key=True),
        sa.Column("player_id", Id, primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("invited_seq", sa.BigInteger, nullable=False),
        sa.Column("invited_at", _when(), nullable=False),
        sa.Column("answer", sa.String(10)),
        sa.Column("note", sa.Text),
        sa.Column("source", sa.String(20)),
        sa.Column("answered_at", _when()),
        sa.Column("waitlist_position", sa.Integer),
    )
    op.create_index("board_lines_player", "board_lines", ["player_id"])
    op.create_table(
        "board_history",
        sa.Column("check_id", Id, primary_key=True),
        sa.Column("seq", sa.BigInteger, primary_key=True),
        sa.Column("player_id", Id, nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("answer", sa.String(10), nullable=False),
        sa.Column("previous", sa.String(10)),
        sa.Column("note", sa.Text),
        sa.Column("source", sa.String(20), nullable=False),
        sa.Column("at", _when(), nullable=False),
    )


def downgrade() -> None:
    for index, table in (
        ("board_lines_player", "board_lines"),
        ("board_checks_team", "board_checks"),
        ("board_checks_game", "board_checks"),
        ("schedule_games_team_starts", "schedule_games"),
        ("directory_members_discord", "directory_members"),
        ("directory_members_slack", "directory_members"),
        ("directory_members_email", "directory_members"),
        ("roster_players_team_seq", "roster_players"),
    ):
        op.drop_index(index, table_name=table)
    for table in ("board_history", "board_lines", "board_checks", "schedule_games",
                  "directory_members", "directory_teams", "roster_players", "roster_teams"):
        op.drop_table(table)

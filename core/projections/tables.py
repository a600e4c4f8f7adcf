"""The read models' tables (SQLAlchemy Core); migration 0002 creates them.

Each projection owns its tables and writes nothing else, so a rebuild can clear them. Order
columns (``seq``, ``invited_seq``) hold the global position of the event that made the row,
which is the same on every replay.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    true,
)

from core.eventstore.schema import Json
from core.projections.types import UtcDateTime

metadata = MetaData()
Id = String(200)

# -- roster ----------------------------------------------------------------------------------
roster_teams = Table(
    "roster_teams", metadata,
    Column("team_id", Id, primary_key=True),
    Column("name", Text, nullable=False),
    Column("timezone", String(64), nullable=False),
    Column("check_lead_minutes", Integer, nullable=False),
    Column("reminder_minutes", Json, nullable=False),  # list of ints, latest first
    Column("min_players", Integer),
    Column("max_players", Integer),
    Column("game_length_minutes", Integer, nullable=False),
    Column("slack_workspace", String(100)),
    Column("discord_guild", String(100)),
    Column("channel", String(200)),
    Column("registered_at", UtcDateTime, nullable=False),
    Column("reserve_minutes", Integer),  # None: reserves are never asked
    # The team's channel, where boards are posted, and whether DMs go too (issue 16.2).
    Column("chat_platform", String(20)),
    Column("chat_channel", String(200)),
    Column("dms", Boolean, nullable=False, server_default=true()),
)

roster_players = Table(
    "roster_players", metadata,
    Column("team_id", Id, primary_key=True),
    Column("player_id", Id, primary_key=True),
    Column("seq", BigInteger, nullable=False),  # joining order
    Column("name", Text, nullable=False),
    Column("email", String(320)),
    Column("slack_user", String(200)),
    Column("discord_user", String(100)),
    Column("captain", Boolean, nullable=False),
    Column("email_unsubscribed", Boolean, nullable=False),
    Column("unreachable", Json, nullable=False),  # list of channel names
    Column("joined_at", UtcDateTime, nullable=False),
    Column("reserve", Boolean, nullable=False, server_default=false()),
    Index("roster_players_team_seq", "team_id", "seq"),
)

# -- directory -------------------------------------------------------------------------------
directory_teams = Table(
    "directory_teams", metadata,
    Column("team_id", Id, primary_key=True),
    Column("name", Text, nullable=False),
)

directory_members = Table(
    "directory_members", metadata,
    Column("team_id", Id, primary_key=True),
    Column("player_id", Id, primary_key=True),
    Column("player_name", Text, nullable=False),
    Column("email", String(320)),  # casefolded
    Column("slack_user", String(200)),
    Column("discord_user", String(100)),
    Column("captain", Boolean, nullable=False),
    Index("directory_members_email", "email"),
    Index("directory_members_slack", "slack_user"),
    Index("directory_members_discord", "discord_user"),
)

# -- schedule --------------------------------------------------------------------------------
schedule_games = Table(
    "schedule_games", metadata,
    Column("game_id", Id, primary_key=True),
    Column("team_id", Id, nullable=False),
    Column("number", Integer, nullable=False),  # the handle is f"G{number}"
    Column("starts_at", UtcDateTime, nullable=False),
    Column("location", Text),
    Column("opponent", Text),
    Column("status", String(20), nullable=False),
    Column("check_id", Id),
    Column("cancel_reason", Text),
    Column("original_text", Text),
    UniqueConstraint("team_id", "number", name="schedule_games_team_number"),
    Index("schedule_games_team_starts", "team_id", "starts_at"),
)

# -- board -----------------------------------------------------------------------------------
board_checks = Table(
    "board_checks", metadata,
    Column("check_id", Id, primary_key=True),
    Column("game_id", Id, nullable=False),
    Column("team_id", Id, nullable=False),
    Column("seq", BigInteger, nullable=False),  # opening order
    Column("starts_at", UtcDateTime, nullable=False),
    Column("is_open", Boolean, nullable=False),
    Column("min_players", Integer),
    Column("max_players", Integer),
    Column("deadline", UtcDateTime),  # None: answers close at the start (migration 0006)
    Index("board_checks_game", "game_id"),
    Index("board_checks_team", "team_id"),
)

board_lines = Table(
    "board_lines", metadata,
    Column("check_id", Id, primary_key=True),
    Column("player_id", Id, primary_key=True),
    Column("name", Text, nullable=False),
    Column("invited_seq", BigInteger, nullable=False),  # invitation order
    Column("invited_at", UtcDateTime, nullable=False),
    Column("answer", String(10)),
    Column("note", Text),
    Column("source", String(20)),
    Column("answered_at", UtcDateTime),
    Column("waitlist_position", Integer),  # 1-based; None unless queued for a place
    Column("reserve", Boolean, nullable=False, server_default=false()),
    Column("released", Boolean, nullable=False, server_default=false()),  # reserve not needed
    Index("board_lines_player", "player_id"),
)

board_history = Table(
    "board_history", metadata,
    Column("check_id", Id, primary_key=True),
    Column("seq", BigInteger, primary_key=True),
    Column("player_id", Id, nullable=False),
    Column("name", Text, nullable=False),
    Column("answer", String(10), nullable=False),
    Column("previous", String(10)),
    Column("note", Text),
    Column("source", String(20), nullable=False),
    Column("at", UtcDateTime, nullable=False),
)

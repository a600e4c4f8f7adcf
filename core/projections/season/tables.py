"""The season read model's tables: the teams and games, one line per invitation, and the
players' names.

``changed_at`` is when the event that last changed a row was recorded: a calendar feed's
``Last-Modified``. A withdrawn invitation keeps its line (``withdrawn``), so the feed of the
player it was withdrawn from still moves on; the season's counts leave it out.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, Index, Integer, MetaData, String, Table, Text

from core.projections.types import UtcDateTime

metadata = MetaData()
Id = String(200)

# What of a team shows in its calendar feeds (name, zone, game length), and when it changed.
season_teams = Table(
    "season_teams", metadata,
    Column("team_id", Id, primary_key=True),
    Column("name", Text, nullable=False),
    Column("timezone", String(64), nullable=False),
    Column("game_length_minutes", Integer, nullable=False),
    Column("changed_at", UtcDateTime, nullable=False),
)

season_games = Table(
    "season_games", metadata,
    Column("game_id", Id, primary_key=True),
    Column("team_id", Id, nullable=False),
    Column("number", Integer, nullable=False),  # the handle is f"G{number}", as the schedule's
    Column("starts_at", UtcDateTime, nullable=False),
    Column("location", Text),
    Column("opponent", Text),
    Column("cancelled", Boolean, nullable=False),
    Column("check_id", Id),  # the latest check
    Column("revision", Integer, nullable=False),  # changes since scheduled: iCalendar SEQUENCE
    Column("changed_at", UtcDateTime, nullable=False),
    Index("season_games_team", "team_id", "starts_at"),
)

# Each player as their latest invitation names them: the season table's names, kept for
# players who have left the team since.
season_players = Table(
    "season_players", metadata,
    Column("team_id", Id, primary_key=True),
    Column("player_id", Id, primary_key=True),
    Column("name", Text, nullable=False),
)

season_lines = Table(
    "season_lines", metadata,
    Column("check_id", Id, primary_key=True),
    Column("player_id", Id, primary_key=True),
    Column("team_id", Id, nullable=False),
    Column("game_id", Id, nullable=False),
    Column("invited_seq", BigInteger, nullable=False),
    Column("answer", String(10)),
    Column("late_dropouts", Integer, nullable=False),
    Column("withdrawn", Boolean, nullable=False),
    Column("changed_at", UtcDateTime, nullable=False),
    Index("season_lines_game", "game_id"),
    Index("season_lines_team", "team_id", "player_id"),
)

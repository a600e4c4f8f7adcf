"""The due-work read model's tables: the teams' timing, the games, and one row per due item.

A due item's key is ``<game_id>:<kind>`` (``<game_id>:remind:<reminder_key>`` for a
reminder, ``<game_id>:minimum_check:<start>`` for a minimum check). ``seq`` is the position
of the event that last changed a row; the claim columns (``claimed_by``, ``claimed_until``,
``attempts``, ``last_error``) are the scheduler's lease on an item
(:mod:`core.projections.due_work.claims`).
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, Integer, MetaData, String, Table, Text

from core.eventstore.schema import Json
from core.projections.types import UtcDateTime

metadata = MetaData()
Id = String(200)

due_work_teams = Table(
    "due_work_teams", metadata,
    Column("team_id", Id, primary_key=True),
    Column("timezone", String(64), nullable=False),
    Column("check_lead_minutes", Integer, nullable=False),
    Column("reminder_minutes", Json, nullable=False),
    Column("game_length_minutes", Integer, nullable=False),
    Column("min_players", Integer),  # None: no minimum, so no minimum check
    Column("reserve_minutes", Integer),  # None: reserves are never asked
)

due_work_games = Table(
    "due_work_games", metadata,
    Column("game_id", Id, primary_key=True),
    Column("team_id", Id, nullable=False),
    Column("starts_at", UtcDateTime, nullable=False),
    Column("status", String(20), nullable=False),
    Column("check_id", Id),  # set when the check opened: reminders can go out from then on
    Column("check_opened_at", UtcDateTime),
    Index("due_work_games_team", "team_id"),
    Index("due_work_games_check", "check_id"),
)

due_work = Table(
    "due_work", metadata,
    Column("key", String(300), primary_key=True),
    Column("kind", String(20), nullable=False),
    Column("team_id", Id, nullable=False),
    Column("game_id", Id, nullable=False),
    Column("check_id", Id),
    Column("reminder_key", String(64)),
    Column("due_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime),
    Column("status", String(10), nullable=False),
    Column("note", Text),
    Column("seq", BigInteger, nullable=False),
    Column("claimed_by", String(200)),
    Column("claimed_until", UtcDateTime),
    Column("attempts", Integer, nullable=False, default=0),
    Column("last_error", Text),
    Index("due_work_status_due", "status", "due_at"),
    Index("due_work_game", "game_id"),
    Index("due_work_seq", "seq"),
)


"""Series: each team's series of games, with a short handle captains can type (``S1``), and
which games belong to which series; migration 0010 creates the tables.

Numbered per team in scheduling order and never reused, like games' handles. How many of a
series' games were played, cancelled or are still to come is read from the schedule's rows
when asked (a game's status lives there), so the two never disagree.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    Connection,
    Index,
    Integer,
    MetaData,
    Row,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
    insert,
    select,
    update,
)

from core.aggregates.game import GameStatus
from core.aggregates.series import SeriesCancelled, SeriesRescheduled, SeriesScheduled
from core.eventstore import HandlerTransaction, RecordedEvent
from core.projections.schedule import GameView, game_view
from core.projections.tables import Id, schedule_games

metadata = MetaData()

series_runs = Table(
    "series", metadata,
    Column("series_id", Id, primary_key=True),
    Column("team_id", Id, nullable=False),
    Column("number", Integer, nullable=False),  # the handle is f"S{number}"
    Column("weekday", Integer, nullable=False),  # 0 is Monday
    Column("hour", Integer, nullable=False),
    Column("minute", Integer, nullable=False),
    Column("every_weeks", Integer, nullable=False),
    Column("timezone", String(64), nullable=False),
    Column("location", Text),
    Column("opponent", Text),
    Column("cancelled", Boolean, nullable=False),
    Column("original_text", Text),
    UniqueConstraint("team_id", "number", name="series_team_number"),
)

series_games = Table(
    "series_games", metadata,
    Column("series_id", Id, primary_key=True),
    Column("game_id", Id, primary_key=True),
    Column("position", Integer, nullable=False),  # 1 for the first game
    Index("series_games_game", "game_id"),
)

_HANDLE = re.compile(r"\s*s(\d{1,9})\s*", re.IGNORECASE)
_PLAYED = (GameStatus.STARTED.value, GameStatus.ENDED.value)


@dataclass(frozen=True, kw_only=True, slots=True)
class SeriesView:
    series_id: str
    team_id: str
    handle: str
    weekday: int
    hour: int
    minute: int
    every_weeks: int
    timezone: str
    location: str | None
    opponent: str | None
    cancelled: bool
    games: int  # how many the series was scheduled with
    played: int  # started or ended
    called_off: int  # cancelled, alone or with the series
    to_play: int  # still scheduled
    first_game: str  # handles, like G7 and G18
    last_game: str


class SeriesProjection:
    name = "series"
    events: frozenset[type] = frozenset({SeriesScheduled, SeriesRescheduled, SeriesCancelled})
    tables: tuple[Table, ...] = (series_runs, series_games)

    def handle(self, tx: HandlerTransaction, recorded: RecordedEvent) -> None:
        conn: Connection = tx.connection
        s = series_runs.c
        match recorded.event:
            case SeriesScheduled(rule=rule) as e:
                number = conn.execute(select(func.coalesce(func.max(s.number), 0))
                                      .where(s.team_id == e.team_id)).scalar_one() + 1
                conn.execute(insert(series_runs).values(
                    series_id=e.series_id, team_id=e.team_id, number=number,
                    weekday=rule.weekday, hour=rule.hour, minute=rule.minute,
                    every_weeks=rule.every_weeks, timezone=rule.timezone,
                    location=e.location, opponent=e.opponent, cancelled=False,
                    original_text=e.original_text))
                conn.execute(insert(series_games), [
                    {"series_id": e.series_id, "game_id": g.game_id, "position": n}
                    for n, g in enumerate(e.games, start=1)])
            case SeriesRescheduled(series_id=series_id, rule=rule):
                conn.execute(update(series_runs).where(s.series_id == series_id).values(
                    weekday=rule.weekday, hour=rule.hour, minute=rule.minute))
            case SeriesCancelled(series_id=series_id):
                conn.execute(update(series_runs).where(s.series_id == series_id)
                             .values(cancelled=True))


def handle_of(number: int) -> str:
    return f"S{number}"


# -- queries ---------------------------------------------------------------------------------
def series_of_team(conn: Connection, team_id: str) -> list[SeriesView]:
    """The team's series, oldest first."""
    rows = conn.execute(select(series_runs).where(series_runs.c.team_id == team_id)
                        .order_by(series_runs.c.number)).all()
    return _views(conn, rows)


def series_by_handle(conn: Connection, team_id: str, handle: str) -> SeriesView | None:
    """The team's series named ``handle`` ("S1", "s1"); None for none or a bad handle."""
    match = _HANDLE.fullmatch(handle)
    if match is None:
        return None
    rows = conn.execute(select(series_runs).where(series_runs.c.team_id == team_id,
                                                  series_runs.c.number == int(match[1]))).all()
    found = _views(conn, rows)
    return found[0] if found else None


def games_of_series(conn: Connection, series_id: str) -> list[GameView]:
    """The series' games by start time (as the schedule has them now)."""
    g, sg = schedule_games.c, series_games.c
    rows = conn.execute(select(schedule_games)
                        .join_from(series_games, schedule_games, g.game_id == sg.game_id)
                        .where(sg.series_id == series_id).order_by(g.starts_at, g.number))
    return [game_view(row) for row in rows]


def _views(conn: Connection, rows: Sequence[Row[Any]]) -> list[SeriesView]:
    if not rows:
        return []
    g, sg = schedule_games.c, series_games.c
    games = conn.execute(
        select(sg.series_id, g.status, g.number)
        .join_from(series_games, schedule_games, g.game_id == sg.game_id)
        .where(sg.series_id.in_([r.series_id for r in rows]))).all()
    statuses: dict[str, Counter[str]] = {r.series_id: Counter() for r in rows}
    numbers: dict[str, list[int]] = {r.series_id: [] for r in rows}
    for game in games:
        statuses[game.series_id][game.status] += 1
        numbers[game.series_id].append(game.number)
    totals: dict[str, int] = {series_id: count for series_id, count in conn.execute(
        select(sg.series_id, func.count()).where(sg.series_id.in_([r.series_id for r in rows]))
        .group_by(sg.series_id))}
    views = []
    for r in rows:
        counted, found = statuses[r.series_id], numbers[r.series_id] or [0]
        views.append(SeriesView(
            series_id=r.series_id, team_id=r.team_id, handle=handle_of(r.number),
            weekday=r.weekday, hour=r.hour, minute=r.minute, every_weeks=r.every_weeks,
            timezone=r.timezone, location=r.location, opponent=r.opponent,
            cancelled=r.cancelled, games=totals.get(r.series_id, 0),
            played=sum(counted[s] for s in _PLAYED),
            called_off=counted[GameStatus.CANCELLED.value],
            to_play=counted[GameStatus.SCHEDULED.value],
            first_game=f"G{min(found)}", last_game=f"G{max(found)}"))
    return views

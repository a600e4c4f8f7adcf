"""Runs the series commands for :class:`bot.commands.CommandRunner`: reads the dates in the
team's zone, asks the service, and words the replies (and the ``games`` lines for series).

The first game's date and time go through :func:`bot.when.parse_when`, so a start in the past,
too far ahead, or on a wall time a daylight-saving change skips or repeats is refused in the
same words as a single game's; the core refuses such a time on any later game of the series.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import dateparser

from bot import grammar
from bot.text import game_line
from bot.when import WhenError, parse_when
from core.actors import Actor
from core.projections.roster import TeamView
from core.projections.series import SeriesView
from core.service import AttendService, SeriesStatusView

_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
DATE_EXAMPLES = "jan 9, March 27, 2027-01-09"


def series_line(series: SeriesView) -> str:
    """``S1 · every Sat 7:00 PM · 12 games, 3 played · G7–G18 vs TBD at Monarch Park``."""
    every = "every" if series.every_weeks == 1 else f"every {series.every_weeks} weeks on"
    counts = f"{series.games} games, {series.played} played"
    if series.called_off:
        counts += f", {series.called_off} cancelled"
    line = (f"{series.handle} · {every} {_DAYS[series.weekday]} "
            f"{_clock(series.hour, series.minute)} · {counts} · "
            f"{series.first_game}–{series.last_game}")
    if series.opponent:
        line += f" vs {series.opponent}"
    if series.location:
        line += f" at {series.location}"
    return line


class SeriesRunner:
    def __init__(self, service: AttendService, *, clock: Callable[[], datetime]) -> None:
        self._service = service
        self._clock = clock

    def schedule(self, actor: Actor, command: grammar.ScheduleSeries,
                 team_id: str | None) -> str:
        ctx = self._service.captain_context(actor, team_id, "schedule games")
        zone, now = ZoneInfo(ctx.team.timezone), self._clock()
        today = now.astimezone(zone).date()
        start = today if command.from_text is None else _read_day(command.from_text, zone,
                                                                  today)
        first_day = start + timedelta(days=(command.weekday - start.weekday()) % 7)
        first = parse_when(f"{first_day:%Y-%m-%d} {command.at:%H:%M}", zone=zone, now=now) \
            if command.from_text is not None or first_day > today else None
        if first is None:  # today is the day: tonight if the time is still ahead
            first = _tonight_or_next_week(first_day, command, zone, now)
            first_day = first.astimezone(zone).date()
        last_day = None
        if command.until_text is not None:
            last_day = _read_day(command.until_text, zone, first_day)
            if last_day < first_day:
                raise WhenError(f"The series would end on {_day(last_day)}, before its first "
                                f"game on {_day(first_day)}.")
        made = self._service.schedule_series(
            actor, weekday=command.weekday, at=command.at, first_day=first_day,
            last_day=last_day, games=command.games, every_weeks=command.every_weeks,
            location=command.location, opponent=command.opponent,
            original_text=None, team_id=ctx.team.team_id)
        lead = ctx.team.check_lead_minutes
        return (f"Scheduled {series_line(made.series)}.\n"
                + _first_and_last(made)
                + f"\nEach game's players are asked {_hours(lead)} before it. One game moves "
                f"or is cancelled alone (/attend cancel {made.series.first_game}); /attend "
                f"cancel series {made.series.handle} cancels all still to play.")

    def reschedule(self, actor: Actor, command: grammar.RescheduleSeries,
                   team_id: str | None) -> str:
        made = self._service.reschedule_series(actor, command.series, weekday=command.weekday,
                                               at=command.at, team_id=team_id)
        return (f"Moved the games of {made.series.handle} still to play: "
                f"{series_line(made.series)}.\n{_first_and_last(made, upcoming=True)}\n"
                "Answers are kept and the players already asked will be told.")

    def cancel(self, actor: Actor, command: grammar.CancelSeries, team_id: str | None) -> str:
        made = self._service.cancel_series(actor, command.series, command.reason, team_id)
        found = made.series
        return (f"Cancelled {found.handle}: {found.called_off} of its {found.games} games are "
                f"cancelled, {found.played} played. The players already asked will be told.")

    def lines(self, actor: Actor, team_id: str | None) -> list[str]:
        """The ``games`` lines for the team's series still running."""
        _team, found = self._service.series_list(actor, team_id)
        return [series_line(s) for s in found]


def _first_and_last(made: SeriesStatusView, *, upcoming: bool = False) -> str:
    games = [g for g in made.games if g.status == "scheduled"] if upcoming else made.games
    if not games:
        return ""
    team: TeamView = made.team
    if len(games) == 1:
        return f"Only game: {game_line(team, games[0])}"
    return f"First: {game_line(team, games[0])}\nLast: {game_line(team, games[-1])}"


def _tonight_or_next_week(day: date, command: grammar.ScheduleSeries, zone: ZoneInfo,
                          now: datetime) -> datetime:
    try:
        return parse_when(f"{day:%Y-%m-%d} {command.at:%H:%M}", zone=zone, now=now)
    except WhenError as error:
        if "in the past" not in str(error):
            raise
        return parse_when(f"{day + timedelta(days=7):%Y-%m-%d} {command.at:%H:%M}", zone=zone,
                          now=now)


def _read_day(text: str, zone: ZoneInfo, after: date) -> date:
    """The date ``text`` names, the first such on or after ``after``."""
    base = datetime.combine(after, datetime.min.time())
    found = dateparser.parse(text, languages=["en"], settings={
        "PREFER_DATES_FROM": "future", "RELATIVE_BASE": base})
    if found is None:
        raise WhenError(f"I couldn't read '{text}' as a date. Try: {DATE_EXAMPLES}.")
    day = found.date()
    if day < after:
        raise WhenError(f"{_day(day)}, {day.year} has passed. Pick a date still ahead.")
    return day


def _day(day: date) -> str:
    return f"{_DAYS[day.weekday()]} {_MONTHS[day.month - 1]} {day.day}"


def _clock(hour: int, minute: int) -> str:
    return f"{(hour - 1) % 12 + 1}:{minute:02d} {'AM' if hour < 12 else 'PM'}"


def _hours(minutes: int) -> str:
    return f"{minutes // 60}h" + (f"{minutes % 60}m" if minutes % 60 else "")

"""A series' rule expanded into its games' instants, with python-dateutil's ``rrule``.

The rule is read in the team's zone: each game is the same wall time (7 pm stays 7 pm across
a daylight-saving change), converted to UTC one by one. A wall time the zone skips or
repeats on one of the days is refused, naming the day: nobody should guess which 2:30 am.
Outside core/aggregates, which imports only the standard library.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from itertools import islice
from zoneinfo import ZoneInfo

from dateutil.rrule import WEEKLY, rrule

from core.aggregates.series import MAX_SERIES_GAMES, Recurrence
from core.errors import DomainError, Refusal

_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def game_times(rule: Recurrence) -> tuple[datetime, ...]:
    """The UTC start of every game of ``rule``, in order; refused when the rule has no end,
    makes no game or more than :data:`MAX_SERIES_GAMES`, or meets a skipped wall time."""
    if rule.last_day is None and rule.count is None:
        raise DomainError(Refusal.SERIES_NO_END, "A series needs an end: add 'until mar 27' "
                          "or 'for 10 weeks'.")
    if rule.count is not None and rule.count > MAX_SERIES_GAMES:
        raise DomainError(Refusal.SERIES_TOO_LONG, f"That makes {rule.count} games; a series "
                          f"holds at most {MAX_SERIES_GAMES}. End it sooner.")
    if rule.count is not None and rule.count < 1:
        raise DomainError(Refusal.INVALID_SERIES, "A series needs at least one game.")
    if not 1 <= rule.every_weeks <= MAX_SERIES_GAMES:
        raise DomainError(Refusal.INVALID_SERIES, "Say how many weeks apart the games are, "
                          "like every 2 weeks.")
    start = datetime.combine(rule.first_day, time(rule.hour, rule.minute))
    until = None if rule.last_day is None else datetime.combine(rule.last_day, time.max)
    walls = list(islice(rrule(WEEKLY, interval=rule.every_weeks, byweekday=rule.weekday,
                              dtstart=start, until=until, count=rule.count),
                        MAX_SERIES_GAMES + 1))
    if not walls:
        raise DomainError(Refusal.INVALID_SERIES, f"There's no {rule.day_name} between "
                          f"{_date(rule.first_day)} and {_date(rule.last_day or start)}.")
    if len(walls) > MAX_SERIES_GAMES:
        raise DomainError(Refusal.SERIES_TOO_LONG, f"That makes more than {MAX_SERIES_GAMES} "
                          f"games; a series holds at most {MAX_SERIES_GAMES}. End it sooner.")
    zone = ZoneInfo(rule.timezone)
    return tuple(at_wall_time(wall, zone) for wall in walls)


def moved(rule: Recurrence, starts: Sequence[datetime], *, weekday: int | None,
          at: time | None) -> tuple[Recurrence, tuple[datetime, ...]]:
    """The rule with a new day and/or time of day, and each of ``starts`` moved to it: to the
    nearest such weekday (at most three days either way), at the new time."""
    new_rule = replace(rule, weekday=rule.weekday if weekday is None else weekday,
                       hour=rule.hour if at is None else at.hour,
                       minute=rule.minute if at is None else at.minute)
    zone = ZoneInfo(rule.timezone)
    times = []
    for start in starts:
        day = start.astimezone(zone).date()
        shift = (new_rule.weekday - day.weekday()) % 7
        day += timedelta(days=shift - 7 if shift > 3 else shift)
        times.append(at_wall_time(datetime.combine(day, time(new_rule.hour, new_rule.minute)),
                                  zone))
    return new_rule, tuple(times)


def at_wall_time(wall: datetime, zone: ZoneInfo) -> datetime:
    """The UTC instant of the naive local ``wall`` in ``zone``; refused when the zone skips
    that wall time that day, or passes it twice."""
    first, second = wall.replace(tzinfo=zone), wall.replace(tzinfo=zone, fold=1)
    if first.utcoffset() != second.utcoffset():
        skipped = first.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != wall
        what = "doesn't exist" if skipped else "happens twice"
        raise DomainError(Refusal.SERIES_TIME_SKIPPED, (
            f"On {_date(wall)} the clocks change in {zone.key}, so {_clock(wall)} {what} that "
            "day. Pick another time for the series."))
    return first.astimezone(UTC)


def _date(day: date) -> str:
    return f"{_DAYS[day.weekday()]} {_MONTHS[day.month - 1]} {day.day}"


def _clock(wall: datetime) -> str:
    return f"{(wall.hour - 1) % 12 + 1}:{wall.minute:02d} {'AM' if wall.hour < 12 else 'PM'}"

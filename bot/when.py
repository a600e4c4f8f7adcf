"""Read the date and time a captain types ("sat 7pm", "2026-12-05 19:00") in the team's zone.

dateparser does the reading; this module fixes what it gets wrong for game times (a bare
weekday typed on that weekday skips today, a missing time silently becomes midnight) and
refuses wall times that a daylight-saving change makes impossible or ambiguous.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import dateparser

from core.errors import AttendError

EXAMPLES = "sat 7pm, tomorrow 18:30, next friday 7pm, Dec 5 7:30pm, 2026-12-05 19:00"
MAX_LENGTH = 80
# A game more than a year out is almost always a misread ("sat the 5th" -> next May).
HORIZON = timedelta(days=366)

_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
# dateparser reads "sat" and "tue" but not "thurs", "weds", or "next sat": spell days out.
_DAY_WORD = re.compile(r"\b(mon|tue|tues|wed|weds|thu|thur|thurs|fri|sat|sun)\b\.?")
_FULL_DAY = {d[:3]: d for d in _WEEKDAYS} | {"tues": "tuesday", "weds": "wednesday"}
_FULL_DAY |= {"thur": "thursday", "thurs": "thursday"}
_CLOCK = re.compile(
    r"(?<![\d:.])(?:\d{1,2}(?:[:.]\d{2})?\s*[ap]\.?m\.?|\d{1,2}:\d{2})(?![\w])|\b(?:noon|midnight)\b"
)
_FILLER = re.compile(r"\b(?:at|on)\b|[,.]")
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


class WhenError(AttendError, ValueError):
    """The text is not a usable game time; the message says why, fit to show a captain."""


def parse_when(text: str, *, zone: ZoneInfo, now: datetime) -> datetime:
    """The UTC instant meant by ``text`` typed in ``zone``, strictly after ``now``."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    said = " ".join(text.split())
    if not said:
        raise WhenError(f"Say when the game is, for example: {EXAMPLES}.")
    if len(said) > MAX_LENGTH:
        raise WhenError(f"That date is too long to read. Try something like: {EXAMPLES}.")
    plain = _DAY_WORD.sub(lambda m: _FULL_DAY[m.group(1)], said.lower())
    local_now = now.astimezone(zone)
    settings = {"PREFER_DATES_FROM": "future", "RELATIVE_BASE": local_now.replace(tzinfo=None)}
    found = dateparser.parse(plain, languages=["en"], settings=settings)
    if found is None:
        raise WhenError(f"I couldn't read '{said}' as a date and time. Try: {EXAMPLES}.")
    if not _CLOCK.search(plain):
        # dateparser quietly fills in midnight or the current time; a game needs a real one.
        bare_hour = re.search(r"\b\d{1,2}$", said)
        like = f"{said}pm' or '{said}am" if bare_hour else f"{said} 7pm' or '{said} 18:30"
        raise WhenError(f"'{said}' has no time of day, and a game needs one. Try '{like}'.")
    wall = found.replace(tzinfo=None)
    rest = _FILLER.sub(" ", _CLOCK.sub(" ", plain)).split()
    if found.tzinfo is not None and rest and rest[-1] == str(found.tzname()).lower():
        rest.pop()  # "sat 7pm est" is still a bare weekday
    if not rest and _at(wall, zone) <= now:
        wall += timedelta(days=1)  # "7pm" typed at 8pm means tomorrow
    named = [d for d in _WEEKDAYS if d in rest]
    if len(rest) == 1 and named:
        same_day_last_week = wall - timedelta(days=7)
        if same_day_last_week.date() == local_now.date() and _at(same_day_last_week, zone) > now:
            wall = same_day_last_week  # "sat 7pm" typed on Saturday morning means tonight
    if named and _WEEKDAYS[wall.weekday()] not in named:
        raise WhenError(
            f"You wrote {named[0].capitalize()}, but I read '{said}' as "
            f"{_day(wall)}, {wall.year}. Check the date."
        )
    _refuse_dst_edges(wall, zone)
    game = _at(wall, zone)
    if found.tzinfo is not None and found.utcoffset() != game.astimezone(zone).utcoffset():
        # "7pm EST" for a Toronto team in July: refuse rather than shift the game an hour.
        raise WhenError(
            f"Times are read in the team's zone, {zone.key}, which is on "
            f"{game.astimezone(zone).tzname()} that day. Leave the zone out of '{said}'."
        )
    if game <= now:
        raise WhenError(f"{describe(game, zone)} is in the past. Pick a time that is still ahead.")
    if game - now > HORIZON:
        raise WhenError(
            f"I read '{said}' as {_day(wall)}, {wall.year}, more than a year away. "
            "Check the date, or write it in full like 2026-12-05 19:00."
        )
    return game


def describe(dt_utc: datetime, zone: ZoneInfo) -> str:
    """The echo shown to the captain, e.g. ``Sat Dec 5, 7:00 PM EST``."""
    if dt_utc.tzinfo is None:
        raise ValueError("dt_utc must be timezone-aware")
    local = dt_utc.astimezone(zone)
    return f"{_day(local)}, {_clock(local)} {local.tzname()}"


def warm_up() -> None:
    """Parse once so the first captain does not wait for dateparser's lazy language load."""
    parse_when("sat 7pm", zone=ZoneInfo("UTC"), now=datetime(2000, 1, 1, tzinfo=UTC))


def _at(wall: datetime, zone: ZoneInfo) -> datetime:
    return wall.replace(tzinfo=zone).astimezone(UTC)


def _refuse_dst_edges(wall: datetime, zone: ZoneInfo) -> None:
    first, second = wall.replace(tzinfo=zone), wall.replace(tzinfo=zone, fold=1)
    before, after = first.utcoffset(), second.utcoffset()
    if before is None or after is None or before == after:
        return
    # For a skipped or repeated wall time, fold=0 carries the offset from before the change.
    change = _offset_change(wall - before, zone)
    old_wall, new_wall = change + before, change + after
    day = _day(old_wall)
    if after > before:
        raise WhenError(
            f"On {day} the clocks jump forward from {_clock(old_wall)} to {_clock(new_wall)} "
            f"in {zone.key}, so {_clock(wall)} does not exist that day. "
            f"Pick a time before {_clock(old_wall)} or from {_clock(new_wall)} on."
        )
    raise WhenError(
        f"On {day} the clocks fall back from {_clock(old_wall)} to {_clock(new_wall)} in "
        f"{zone.key}, so {_clock(wall)} happens twice ({first.tzname()}, then "
        f"{second.tzname()}). Pick a time before {_clock(new_wall)} or from "
        f"{_clock(old_wall)} on, so everyone shows up at the same time."
    )


def _offset_change(near_utc_wall: datetime, zone: ZoneInfo) -> datetime:
    """The naive UTC moment, within a day of ``near_utc_wall``, when the zone's offset changes."""
    lo, hi = near_utc_wall - timedelta(days=1), near_utc_wall + timedelta(days=1)

    def offset(naive_utc: datetime) -> timedelta | None:
        return naive_utc.replace(tzinfo=UTC).astimezone(zone).utcoffset()

    start = offset(lo)
    while hi - lo > timedelta(seconds=1):
        mid = lo + (hi - lo) / 2
        lo, hi = (mid, hi) if offset(mid) == start else (lo, mid)
    return hi.replace(microsecond=0)


def _day(local: datetime) -> str:
    # Fixed English names: strftime's %a and %b follow the process locale.
    return f"{_DAYS[local.weekday()]} {_MONTHS[local.month - 1]} {local.day}"


def _clock(local: datetime) -> str:
    return f"{(local.hour - 1) % 12 + 1}:{local.minute:02d} {'AM' if local.hour < 12 else 'PM'}"

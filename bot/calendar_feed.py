"""A player's iCalendar feed: the team's games, their own answer in each title.

Built with the ``icalendar`` library. Times carry the team's zone (``TZID``, with its
``VTIMEZONE``), so a 7 pm game stays 7 pm where it is played. A moved game keeps its ``UID``
and raises its ``SEQUENCE``; a cancelled one stays in the feed with ``STATUS:CANCELLED``, so
calendar apps strike it out instead of losing it. The output depends only on what it is
given, so the same games give the same bytes (and the same ``ETag``).
"""

from __future__ import annotations

from datetime import UTC, date, timedelta
from zoneinfo import ZoneInfo

import icalendar

from bot import words
from core.projections.season import CalendarGame
from core.service import CalendarView

PRODUCT = "-//Attend//Season calendar//EN"
REFRESH = timedelta(hours=1)  # how often we ask calendar apps to poll


def title(game: CalendarGame) -> str:
    """``✅ vs Hawks``: the player's answer, then the game; no mark before they answer."""
    what = f"vs {game.opponent}" if game.opponent else "Game"
    mark = "" if game.answer is None else f"{words.ANSWER[game.answer].mark} "
    return f"{mark}{what}" + (" (cancelled)" if game.cancelled else "")


def _description(view: CalendarView, game: CalendarGame) -> str:
    said = ("not asked yet or no answer" if game.answer is None
            else words.ANSWER[game.answer].state)
    return (f"{view.team.name} · {game.handle}. Your answer: {said}. Change it with "
            f"/attend answer {game.handle} yes|no|maybe.")


def calendar_bytes(view: CalendarView) -> bytes:
    team = view.team
    zone = ZoneInfo(team.timezone)
    length = timedelta(minutes=team.game_length_minutes)
    cal = icalendar.Calendar()
    cal.add("prodid", PRODUCT)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", f"{team.name} · {view.player.name}")
    cal.add("x-wr-timezone", team.timezone)
    cal.add("refresh-interval", REFRESH, parameters={"VALUE": "DURATION"})
    cal.add("x-published-ttl", icalendar.vDuration(REFRESH))
    for game in view.feed.games:
        event = icalendar.Event()
        starts = game.starts_at.astimezone(zone)
        event.add("uid", f"{game.game_id}@attend")
        event.add("dtstamp", game.changed_at.astimezone(UTC))
        event.add("last-modified", game.changed_at.astimezone(UTC))
        event.add("sequence", game.revision)
        event.add("dtstart", starts)
        event.add("dtend", starts + length)
        event.add("summary", title(game))
        if game.location:
            event.add("location", game.location)
        event.add("description", _description(view, game))
        event.add("status", "CANCELLED" if game.cancelled else "CONFIRMED")
        cal.add_component(event)
    if view.feed.games:
        first, last = view.feed.games[0].starts_at, view.feed.games[-1].starts_at
        cal.add_missing_timezones(first_date=date(first.year - 1, 1, 1),
                                  last_date=date(last.year + 2, 1, 1))
    return bytes(cal.to_ical())

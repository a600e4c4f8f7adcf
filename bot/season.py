"""Replies to ``/attend season`` and ``/attend calendar``, on every channel.

The season is a table per player; a captain also gets a private link to the season page
(with its CSV). The calendar reply is the asking player's own feed link.
"""

from __future__ import annotations

from datetime import datetime

from bot.links import SEASON_LINK_LIFETIME, BoardLinks, calendar_url, season_url
from core.actors import Actor
from core.projections.season import SeasonLine
from core.service import AttendService, SeasonView

LEGEND = "asked/in/out/maybe/no answer/late drop-outs"


def rate(line: SeasonLine) -> str:
    """The share of games asked that the player said Yes to, as a whole percentage."""
    return f"{round(line.rate * 100)}%"


def season_text(view: SeasonView) -> str:
    """A line per player, short enough for 40 of them in one Discord message (2,000
    characters): the rate, then the counts in the order the legend gives."""
    games = "1 game" if view.games_asked == 1 else f"{view.games_asked} games"
    lines = [f"{view.team.name} · season · {games} asked about"]
    if not view.lines:
        lines.append("Nobody has been asked about a game yet: /attend check asks the team.")
        return "\n".join(lines)
    lines.append(f"Rate, then {LEGEND}:")
    for s in view.lines:
        counts = "/".join(str(n) for n in (s.invited, s.yes, s.no, s.maybe, s.no_answer,
                                           s.late_dropouts))
        lines.append(f"• {s.name}: {rate(s)} · {counts}")
    return "\n".join(lines)


def season_reply(service: AttendService, actor: Actor, team_id: str | None,
                 boards: BoardLinks | None, now: datetime) -> str:
    """The table; for a captain, the page's link first, so a long table clipped by a
    platform never loses it."""
    view = service.season_table(actor, team_id)
    head, _, table = season_text(view).partition("\n")
    captain = service.context(actor, view.team.team_id).player
    if not captain.captain:
        return f"{head}\n{table}"
    if boards is None:
        return f"{head}\nThe season page is a page of attend serve, which isn't set up " \
            f"here.\n{table}"
    url = season_url(boards, view.team.team_id, captain.player_id, now)
    return (f"{head}\nSeason page with a CSV download, yours alone (don't share it), for "
            f"{SEASON_LINK_LIFETIME.days} days:\n{url}\n{table}")


def calendar_reply(service: AttendService, actor: Actor, team_id: str | None,
                   boards: BoardLinks | None) -> str:
    ctx = service.context(actor, team_id)
    if boards is None:
        return "The calendar feed is served by attend serve, which isn't set up here."
    url = calendar_url(boards, ctx.team.team_id, ctx.player.player_id)
    return (f"Your calendar of {ctx.team.name}'s games, with your answers (private: anyone "
            f"with this link sees them):\n{url}\nAdd it to your calendar app as a "
            "subscription (Google Calendar: Other calendars › From URL; Apple Calendar: "
            "File › New Calendar Subscription). It follows new times and cancellations.")

"""Usage lines and help text, and :class:`GrammarError`, the refusal that carries a usage line."""

from __future__ import annotations

import difflib
from typing import NoReturn

from core.errors import AttendError
from core.safe_text import EXCERPT, excerpt

USAGE: dict[str, str] = {
    "help": "/attend help [topic]",
    "team create": "/attend team create <team name> [tz <Area/City>]",
    "team add": "/attend team add <name> [<email>] [<@mention>] [reserve]",
    "team remove": "/attend team remove <name or email>",
    "team roster": "/attend team roster",
    "team captain": "/attend team captain [remove] <name or email>",
    "team reserve": "/attend team reserve [remove] <name or email>",
    "team settings": (
        "/attend team settings [tz <Area/City>] [lead 48h] [reminders 24h,3h]"
        " [min <n>|none] [max <n>|none] [length 2h] [reserves 24h|none] [dms on|off]"
    ),
    "schedule": "/attend schedule <when> [at <place>] [vs <opponent>]",
    "games": "/attend games",
    "check": "/attend check [G3|next]",
    "status": "/attend status [G3|next]",
    "board": "/attend board [G3|next]",
    "remind": "/attend remind [G3|next]",
    "deadline": "/attend deadline [G3|next] <when>|none",
    "cancel": "/attend cancel <G3|next> [reason]",
    "reschedule": "/attend reschedule <G3|next> <when>",
    "answer": "/attend answer [G3|next] yes|no|maybe [for <name or email>] [note]",
    "me": "/attend me",
    # series of games (bot/grammar/series.py)
    "schedule every": (
        "/attend schedule every [2 weeks on] <day> <time> [at <place>] [vs <opponent>]"
        " [from <date>] until <date>|for <n> weeks"
    ),
    "cancel series": "/attend cancel series <S1> [reason]",
    "reschedule series": "/attend reschedule series <S1> [<day>] [<time>]",
    # -- the season (issue 17) --
    "season": "/attend season",
    "calendar": "/attend calendar",
    "channel": "/attend channel here|none",
}

_WHAT = {
    "help": "Show this help, or the help for one command.",
    "team create": "Start a team; the zone is where its games are played.",
    "team add": "Add a player, with an email and/or a chat mention to reach them (for "
                "someone already on the team: the contacts they lack). A reserve is asked "
                "only when a game is short.",
    "team remove": "Take a player off the roster.",
    "team roster": "List the players and how each is reached.",
    "team captain": "Make a player a captain, or stop them being one.",
    "team reserve": "Move a player to the reserves (asked only when a game is short), or "
                    "back.",
    "team settings": "Show the settings, or change some of them (reserves: when to ask the "
                     "reserves if a game is still short of its min).",
    "schedule": "Add a game; it is echoed back in the team's time zone.",
    "games": "List the upcoming games.",
    "check": "Ask every player about a game now.",
    "status": "Who is in, out, maybe, or silent.",
    "board": "A private link to the game's live board, for captains.",
    "remind": "Nudge the players who have not answered.",
    "deadline": "Close answers at that time instead of when the game starts (none: at the start).",
    "cancel": "Cancel a game and tell the players.",
    "reschedule": "Move a game to another time.",
    "answer": "Answer for yourself (in/out work too); captains may answer for a player.",
    "me": "Your teams, your answers, and how Attend reaches you.",
    "schedule every": "A game every week (or every n weeks), each one a game of its own (G7, "
                      "G8, ...); at most 52.",
    "cancel series": "Cancel the series' games still to play.",
    "reschedule series": "Move the series' games still to play to another day and/or time.",
    # -- the season (issue 17) --
    "season": "Each player's season: asked, in, out, maybe, no answer, late drop-outs, rate "
              "(captains also get a private page with a CSV).",
    "calendar": "Your private calendar link: the team's games, with your answers, for your "
                "calendar app.",
    "channel": "Typed in a Slack or Discord channel: post each game's board there (none: "
               "stop).",
}


def help_text(topic: str | None = None) -> str:
    """The text of ``/attend help``: every command, or those under ``topic``."""
    keys = [k for k in USAGE if topic is None or k == topic or k.startswith(f"{topic} ")]
    lines = ["Attend asks your players who is coming to the next game.", ""]
    lines += [f"{USAGE[k]}\n    {_WHAT[k]}" for k in keys]
    lines += [
        "",
        "Games are G1, G2, ... or next. Times are read in the team's time zone, for example:",
        "sat 7pm, tomorrow 18:30, next friday 7pm, Dec 5 7:30pm, 2026-12-05 19:00.",
    ]
    return "\n".join(lines)


def usage_of(topic: str) -> str:
    """The usage line of a sub-command, or the lines of a group such as ``team``."""
    return USAGE.get(topic) or "\n".join(v for k, v in USAGE.items() if k.startswith(f"{topic} "))


class GrammarError(AttendError, ValueError):
    """Text the grammar does not understand: ``message`` says what, ``usage`` how to say it."""

    def __init__(self, message: str, usage: str) -> None:
        super().__init__(message)
        self.message = message
        self.usage = usage

    def __str__(self) -> str:
        return f"{self.message}\nUsage: {self.usage}"


def unknown(
    word: str,
    choices: dict[str, str],
    *,
    what: str = "command",
    usage: str | None = None,
    fallback: str = "help",
) -> NoReturn:
    """Refuse ``word``, suggesting the closest of ``choices`` (spelling -> canonical name)."""
    near = difflib.get_close_matches(word[:EXCERPT], list(choices), n=1)
    if near:
        meant = choices[near[0]]
        message = f"I don't know the {what} '{excerpt(word)}'. Did you mean '{meant}'?"
        raise GrammarError(message, usage or usage_of(meant))
    message = f"I don't know the {what} '{excerpt(word)}'. Try /attend help."
    raise GrammarError(message, usage or usage_of(fallback))


def fail(key: str, message: str) -> NoReturn:
    """Refuse with ``message`` and the usage of the sub-command ``key``."""
    raise GrammarError(message, USAGE[key])

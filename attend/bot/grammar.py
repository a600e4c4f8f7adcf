"""The ``/attend ...`` text grammar shared by Slack and the console: text in, one command out.

Pure: no I/O and no clock. Dates stay as the captain typed them (``when_text``); the caller
reads them with :func:`attend.bot.when.parse_when` in the team's zone. Anything not
understood raises :class:`GrammarError` carrying a short reason and the sub-command's usage.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal, NoReturn, TypeAlias
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from attend.core.errors import AttendError
from attend.core.limits import MAX_NAME, MAX_NOTE, MAX_PLACE, MAX_PLAYERS

NAME_LIMIT, PLACE_LIMIT, NOTE_LIMIT, PLAYER_LIMIT = MAX_NAME, MAX_PLACE, MAX_NOTE, MAX_PLAYERS
WHEN_LIMIT = 80

AnswerWord: TypeAlias = Literal["yes", "no", "maybe"]
Limit: TypeAlias = Literal["min_players", "max_players"]


# --- Commands -------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True, slots=True)
class Mention:
    """A chat user picked from the @ menu: Slack ``<@U123ABC>`` or Discord ``<@123456789>``."""

    platform: Literal["slack", "discord"]
    user_id: str

    def __str__(self) -> str:
        return f"<@{self.user_id}>"


@dataclass(frozen=True, kw_only=True, slots=True)
class Help:
    topic: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class CreateTeam:
    name: str
    timezone: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class AddPlayer:
    name: str
    email: str | None = None
    mention: Mention | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class RemovePlayer:
    who: str


@dataclass(frozen=True, kw_only=True, slots=True)
class Roster:
    pass


@dataclass(frozen=True, kw_only=True, slots=True)
class AppointCaptain:
    who: str


@dataclass(frozen=True, kw_only=True, slots=True)
class RelieveCaptain:
    who: str


@dataclass(frozen=True, kw_only=True, slots=True)
class SettingsChange:
    """Only the settings named in the command are set; ``None`` means "leave as is"."""

    timezone: str | None = None
    lead_minutes: int | None = None
    reminder_minutes: tuple[int, ...] | None = None  # () turns reminders off
    min_players: int | None = None
    max_players: int | None = None
    game_minutes: int | None = None
    cleared: frozenset[Limit] = field(default_factory=frozenset)  # "min none", "max none"


@dataclass(frozen=True, kw_only=True, slots=True)
class Settings:
    changes: SettingsChange | None = None  # None: show the settings


@dataclass(frozen=True, kw_only=True, slots=True)
class Schedule:
    when_text: str
    location: str | None = None
    opponent: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class Games:
    pass


@dataclass(frozen=True, kw_only=True, slots=True)
class Check:
    game: str = "next"


@dataclass(frozen=True, kw_only=True, slots=True)
class Status:
    game: str = "next"


@dataclass(frozen=True, kw_only=True, slots=True)
class Remind:
    game: str = "next"


@dataclass(frozen=True, kw_only=True, slots=True)
class Deadline:
    """Answers for ``game`` close at ``when_text`` rather than at the start."""

    game: str
    when_text: str


@dataclass(frozen=True, kw_only=True, slots=True)
class ClearDeadline:
    """Answers for ``game`` close at the start again (``/attend deadline G1 none``)."""

    game: str


@dataclass(frozen=True, kw_only=True, slots=True)
class Cancel:
    game: str
    reason: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class Reschedule:
    game: str
    when_text: str


@dataclass(frozen=True, kw_only=True, slots=True)
class Answer:
    game: str
    answer: AnswerWord
    note: str | None = None
    on_behalf_of: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class Me:
    pass


Command: TypeAlias = (
    Help
    | CreateTeam
    | AddPlayer
    | RemovePlayer
    | Roster
    | AppointCaptain
    | RelieveCaptain
    | Settings
    | Schedule
    | Games
    | Check
    | Status
    | Remind
    | Deadline
    | ClearDeadline
    | Cancel
    | Reschedule
    | Answer
    | Me
)


class GrammarError(AttendError, ValueError):
    """Text the grammar does not understand: ``message`` says what, ``usage`` how to say it."""

    def __init__(self, message: str, usage: str) -> None:
        super().__init__(message)
        self.message = message
        self.usage = usage

    def __str__(self) -> str:
        return f"{self.message}\nUsage: {self.usage}"


# --- Usage and help -------------------------------------------------------------------------

USAGE: dict[str, str] = {
    "help": "/attend help [topic]",
    "team create": "/attend team create <team name> [tz <Area/City>]",
    "team add": "/attend team add <name> [<email>] [<@mention>]",
    "team remove": "/attend team remove <name or email>",
    "team roster": "/attend team roster",
    "team captain": "/attend team captain [remove] <name or email>",
    "team settings": (
        "/attend team settings [tz <Area/City>] [lead 48h] [reminders 24h,3h]"
        " [min <n>|none] [max <n>|none] [length 2h]"
    ),
    "schedule": "/attend schedule <when> [at <place>] [vs <opponent>]",
    "games": "/attend games",
    "check": "/attend check [G3|next]",
    "status": "/attend status [G3|next]",
    "remind": "/attend remind [G3|next]",
    "deadline": "/attend deadline [G3|next] <when>|none",
    "cancel": "/attend cancel <G3|next> [reason]",
    "reschedule": "/attend reschedule <G3|next> <when>",
    "answer": "/attend answer [G3|next] yes|no|maybe [for <name or email>] [note]",
    "me": "/attend me",
}

_WHAT = {
    "help": "Show this help, or the help for one command.",
    "team create": "Start a team; the zone is where its games are played.",
    "team add": "Add a player, with an email and/or a chat mention to reach them.",
    "team remove": "Take a player off the roster.",
    "team roster": "List the players and how each is reached.",
    "team captain": "Make a player a captain, or stop them being one.",
    "team settings": "Show the settings, or change some of them.",
    "schedule": "Add a game; it is echoed back in the team's time zone.",
    "games": "List the upcoming games.",
    "check": "Ask every player about a game now.",
    "status": "Who is in, out, maybe, or silent.",
    "remind": "Nudge the players who have not answered.",
    "deadline": "Close answers at that time instead of when the game starts (none: at the start).",
    "cancel": "Cancel a game and tell the players.",
    "reschedule": "Move a game to another time.",
    "answer": "Answer for yourself (in/out work too); captains may answer for a player.",
    "me": "Your teams, your answers, and how Attend reaches you.",
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


# --- Parsing --------------------------------------------------------------------------------


def parse(text: str) -> Command:
    """Read what follows ``/attend`` (the ``/attend`` itself is optional)."""
    words = text.split()
    if words and words[0].lower() == "/attend":
        words = words[1:]
    if not words:
        return Help()
    head, rest = words[0].lower(), words[1:]
    if head == "team":
        return _team(rest)
    read = _COMMANDS.get(head)
    if read is None:
        _unknown(head, _TOPICS)
    return read(rest)


def usage_of(topic: str) -> str:
    """The usage line of a sub-command, or the lines of a group such as ``team``."""
    return USAGE.get(topic) or "\n".join(v for k, v in USAGE.items() if k.startswith(f"{topic} "))


# "roster" and "help roster" find "team roster"; "team" is the group of team commands.
_TOPICS = {k.split()[-1]: k for k in USAGE} | {k: k for k in USAGE} | {"team": "team"}


def _help(words: Sequence[str]) -> Help:
    if not words:
        return Help()
    topic = " ".join(words).lower().removeprefix("/attend ")
    if topic not in _TOPICS:
        _unknown(topic, _TOPICS, what="help topic", usage=USAGE["help"])
    return Help(topic=_TOPICS[topic])


def _team(words: Sequence[str]) -> Command:
    if not words:
        raise GrammarError(
            "team what? Say create, add, remove, roster, captain or settings.", usage_of("team")
        )
    sub, rest = words[0].lower(), words[1:]
    if sub == "create":
        return _create_team(rest)
    if sub == "add":
        return _add_player(rest)
    if sub == "remove":
        return RemovePlayer(who=_who(rest, "team remove"))
    if sub == "roster":
        _nothing_after(rest, "team roster")
        return Roster()
    if sub == "captain":
        if rest and rest[0].lower() == "remove":
            return RelieveCaptain(who=_who(rest[1:], "team captain"))
        return AppointCaptain(who=_who(rest, "team captain"))
    if sub == "settings":
        return _settings(rest)
    team_keys = {k: k for k in USAGE if k.startswith("team ")}
    _unknown(f"team {sub}", team_keys, fallback="team")


def _create_team(words: Sequence[str]) -> CreateTeam:
    key = "team create"
    zone = None
    if words and words[-1].lower() in _SETTING_NAMES["tz"]:
        _fail(key, "tz needs a zone after it, like America/Toronto.")
    if len(words) >= 2 and words[-2].lower() in _SETTING_NAMES["tz"]:
        zone, words = _zone(words[-1], key), words[:-2]
    return CreateTeam(name=_text(words, key, "the team's name", NAME_LIMIT), timezone=zone)


def _add_player(words: Sequence[str]) -> AddPlayer:
    key = "team add"
    email: str | None = None
    mention: Mention | None = None
    label: str | None = None
    name_words: list[str] = []
    for word in words:
        found = _mention(word)
        if found is not None:
            if mention is not None:
                _fail(key, "Give one mention per player.")
            mention, label = found
        elif "@" in word:
            if email is not None:
                _fail(key, "Give one email per player.")
            email = _email(word, key)
        else:
            name_words.append(word)
    if not name_words and label:
        name_words = [label]  # Slack's <@U123|alice> carries a name we can use
    name = _text(name_words, key, "the player's name", NAME_LIMIT)
    return AddPlayer(name=name, email=email, mention=mention)


_SETTING_NAMES = {
    "tz": {"tz", "timezone"},
    "lead": {"lead"},
    "reminders": {"reminders", "reminder"},
    "min": {"min"},
    "max": {"max"},
    "length": {"length"},
}
_SETTING_OF = {alias: name for name, aliases in _SETTING_NAMES.items() for alias in aliases}
_OFF = {"none", "off"}
# Longest accepted duration per setting, as typed in messages and in minutes.
_LONGEST = {
    "lead": ("30d", 30 * 24 * 60),
    "reminders": ("30d", 30 * 24 * 60),
    "length": ("24h", 24 * 60),
}


def _settings(words: Sequence[str]) -> Settings:
    key = "team settings"
    if not words:
        return Settings()
    tokens = [part for w in words for part in w.split("=", 1) if part]  # lead=48h works too
    values: dict[str, str] = {}
    i = 0
    while i < len(tokens):
        setting = _SETTING_OF.get(tokens[i].lower())
        if setting is None:
            _unknown(tokens[i].lower(), _SETTING_OF, what="setting", usage=USAGE[key])
        if setting in values:
            _fail(key, f"{setting} is given twice.")
        if i + 1 >= len(tokens):
            _fail(key, f"{setting} needs a value after it.")
        value, i = tokens[i + 1], i + 2
        while value.endswith(",") and i < len(tokens):  # "reminders 24h, 3h"
            value, i = value + tokens[i], i + 1
        values[setting] = value
    return Settings(changes=_settings_change(values, key))


def _settings_change(values: dict[str, str], key: str) -> SettingsChange:
    low, high = _players(values, "min", key), _players(values, "max", key)
    if low is not None and high is not None and low > high:
        _fail(key, f"min ({low}) is more than max ({high}).")
    lead = _minutes(values["lead"], "lead", key) if "lead" in values else None
    reminders = _reminders(values, key)
    if lead is not None and reminders and max(reminders) >= lead:
        _fail(key, "Reminders come after the check starts: make each one shorter than lead.")
    cleared: set[Limit] = set()
    if values.get("min", "").lower() in _OFF:
        cleared.add("min_players")
    if values.get("max", "").lower() in _OFF:
        cleared.add("max_players")
    return SettingsChange(
        timezone=_zone(values["tz"], key) if "tz" in values else None,
        lead_minutes=lead,
        reminder_minutes=reminders,
        min_players=low,
        max_players=high,
        game_minutes=_minutes(values["length"], "length", key) if "length" in values else None,
        cleared=frozenset(cleared),
    )


def _players(values: dict[str, str], setting: str, key: str) -> int | None:
    raw = values.get(setting)
    if raw is None or raw.lower() in _OFF:
        return None
    if not raw.isdigit() or not 1 <= int(raw) <= PLAYER_LIMIT:
        _fail(key, f"{setting} takes a number of players from 1 to {PLAYER_LIMIT}, or none.")
    return int(raw)


def _reminders(values: dict[str, str], key: str) -> tuple[int, ...] | None:
    raw = values.get("reminders")
    if raw is None or raw.lower() in _OFF:
        return None if raw is None else ()
    found = {_minutes(part, "reminders", key) for part in raw.split(",") if part}
    return tuple(sorted(found, reverse=True))


_DURATION = re.compile(r"(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m(?:in)?)?")


def _minutes(raw: str, setting: str, key: str) -> int:
    match = _DURATION.fullmatch(raw.lower())
    if match is None or not any(match.groups()):
        unit = " (add a unit)" if raw.isdigit() else ""
        _fail(key, f"{setting} takes a duration like 90m, 3h or 2d, not '{raw}'{unit}.")
    days, hours, mins = (int(g) if g else 0 for g in match.groups())
    total = days * 24 * 60 + hours * 60 + mins
    most, cap = _LONGEST[setting]
    if not 0 < total <= cap:
        _fail(key, f"{setting} must be more than 0 and at most {most}, not '{raw}'.")
    return total


_VERSUS = {"vs", "vs.", "versus"}
_CLOCK_WORD = re.compile(r"\d{1,2}(?:[:.]\d{2})?(?:[ap]\.?m\.?)?|noon|midnight")
_HAS_CLOCK = re.compile(r"\d:\d\d|\d\s*[ap]\.?m\b|\b(?:noon|midnight)\b")


def _schedule(words: Sequence[str]) -> Schedule:
    key = "schedule"
    parts: dict[str, list[str]] = {"when": []}
    current = "when"
    for i, word in enumerate(words):
        lower = word.lower()
        following = words[i + 1].lower() if i + 1 < len(words) else ""
        # "sat at 7pm": an "at" before the time (and none typed yet) belongs to the date.
        time_at = (
            current == "when"
            and _CLOCK_WORD.fullmatch(following) is not None
            and not _HAS_CLOCK.search(" ".join(parts["when"]).lower())
        )
        if lower == "at" and "at" not in parts and not time_at:
            current = "at"
        elif lower in _VERSUS and "vs" not in parts:
            current = "vs"
        else:
            parts[current].append(word)
            continue
        parts[current] = []
    if any(w.startswith("@") for words in parts.values() for w in words):
        _fail(key, "Use 'at' for the place, not '@' (that pings people in Slack).")
    return Schedule(
        when_text=_when(parts["when"], key),
        location=_given(parts.get("at"), key, "the place after 'at'", PLACE_LIMIT),
        opponent=_given(parts.get("vs"), key, "the team after 'vs'", NAME_LIMIT),
    )


def _game_or_next(words: Sequence[str], key: str) -> str:
    if not words:
        return "next"
    _nothing_after(words[1:], key)
    return _game(words[0], key)


def _deadline(words: Sequence[str]) -> Deadline | ClearDeadline:
    key = "deadline"
    rest = list(words)
    game = "next"
    # "next fri 6pm" reads the same either way: the next game, or a date starting "next".
    if rest and (_handle(rest[0]) is not None or _GAME.fullmatch(rest[0])):
        game = _game(rest.pop(0), key)
    if len(rest) == 1 and rest[0].lower() == "none":
        return ClearDeadline(game=game)
    missing = "Say when answers close, like fri 6pm or 2026-12-04 18:00."
    return Deadline(game=game, when_text=_text(rest, key, "the time", WHEN_LIMIT,
                                               missing=missing))


def _cancel(words: Sequence[str]) -> Cancel:
    if not words:
        _fail("cancel", "Which game? Say G3 or next.")
    reason = _given(words[1:] or None, "cancel", "the reason", NOTE_LIMIT)
    return Cancel(game=_game(words[0], "cancel"), reason=reason)


def _reschedule(words: Sequence[str]) -> Reschedule:
    if not words:
        _fail("reschedule", "Which game, and when? Say G3 sat 7pm.")
    game = _game(words[0], "reschedule")
    return Reschedule(game=game, when_text=_when(words[1:], "reschedule"))


# "in" and "out" are how players talk about coming; both are read as yes and no.
_ANSWERS: dict[str, AnswerWord] = {
    "yes": "yes",
    "no": "no",
    "maybe": "maybe",
    "in": "yes",
    "out": "no",
}
_SEPARATORS = {"--", "—", "–", ":"}


def _answer(words: Sequence[str]) -> Answer:
    key = "answer"
    rest = list(words)
    game = "next"
    if rest and _handle(rest[0]) is not None:
        game = _game(rest.pop(0), key)
    elif len(rest) > 1 and _word(rest[0]) not in _ANSWERS and _word(rest[1]) in _ANSWERS:
        _fail(key, f"'{rest[0]}' isn't a game. Say a game like G3, or next.")
    if not rest:
        _fail(key, "Say yes, no or maybe.")
    said = _word(rest.pop(0))
    answer = _ANSWERS.get(said)
    if answer is None:
        near = difflib.get_close_matches(said, list(_ANSWERS), n=1)
        hint = f" Did you mean '{near[0]}'?" if near else ""
        _fail(key, f"'{said}' isn't an answer. Say yes, no or maybe.{hint}")
    on_behalf_of = None
    if rest and rest[0].lower() == "for":
        whom, rest = _split_behalf(rest[1:])
        on_behalf_of = _who(whom, key)
    while rest and rest[0] in _SEPARATORS:
        rest.pop(0)
    note = _given(rest or None, key, "the note", NOTE_LIMIT)
    return Answer(game=game, answer=answer, note=note, on_behalf_of=on_behalf_of)


def _split_behalf(words: list[str]) -> tuple[list[str], list[str]]:
    """The player after ``for`` and the note after: one email or mention, else up to -- or :."""
    if words and "@" in words[0]:
        return words[:1], words[1:]
    for i, word in enumerate(words):
        if word in _SEPARATORS:
            return words[:i], words[i + 1 :]
        if word.endswith(":"):  # "for Alice McGee: hurt knee"
            return [*words[:i], word[:-1]], words[i + 1 :]
    return words, []


def _no_args(command: Command, key: str) -> Callable[[Sequence[str]], Command]:
    def read(words: Sequence[str]) -> Command:
        _nothing_after(words, key)
        return command

    return read


_COMMANDS: dict[str, Callable[[Sequence[str]], Command]] = {
    "help": _help,
    "schedule": _schedule,
    "games": _no_args(Games(), "games"),
    "check": lambda w: Check(game=_game_or_next(w, "check")),
    "status": lambda w: Status(game=_game_or_next(w, "status")),
    "remind": lambda w: Remind(game=_game_or_next(w, "remind")),
    "deadline": _deadline,
    "cancel": _cancel,
    "reschedule": _reschedule,
    "answer": _answer,
    "me": _no_args(Me(), "me"),
}


# --- Small readers --------------------------------------------------------------------------

_GAME = re.compile(r"#?g(\d{1,6})", re.IGNORECASE)
_EMAIL = re.compile(r"[^@\s<>()\[\],;:\"]+@[^@\s<>()\[\],;:\"]+\.[a-z]{2,}", re.IGNORECASE)
_MAILTO = re.compile(r"<mailto:([^|>]+)(?:\|[^>]*)?>", re.IGNORECASE)
_SLACK_USER = re.compile(r"<@([UW][A-Z0-9]+)(?:\|([^>]*))?>")
_DISCORD_USER = re.compile(r"<@!?(\d+)>")


def _handle(word: str) -> str | None:
    if word.lower() == "next":
        return "next"
    match = _GAME.fullmatch(word)
    return f"G{int(match.group(1))}" if match and int(match.group(1)) > 0 else None


def _game(word: str, key: str) -> str:
    handle = _handle(word)
    if handle is None:
        _fail(key, f"'{word}' isn't a game. Say a game like G3, or next.")
    return handle


def _mention(word: str) -> tuple[Mention, str | None] | None:
    if match := _SLACK_USER.fullmatch(word):
        return Mention(platform="slack", user_id=match.group(1)), match.group(2)
    if match := _DISCORD_USER.fullmatch(word):
        return Mention(platform="discord", user_id=match.group(1)), None
    return None


def _email(word: str, key: str) -> str:
    # Slack sends a typed address as <mailto:a@b.c|a@b.c> when it escapes links.
    if match := _MAILTO.fullmatch(word):
        word = match.group(1)
    if word.startswith("@"):
        _fail(key, f"'{word}' isn't a mention I can read. Pick the person from the @ menu.")
    if not _EMAIL.fullmatch(word):
        _fail(key, f"'{word}' doesn't look like an email address (like alice@example.com).")
    return word.lower()  # one spelling, so "team remove ALICE@example.com" finds her


def _who(words: Sequence[str], key: str) -> str:
    if len(words) == 1 and (found := _mention(words[0])) is not None:
        return str(found[0])
    if len(words) == 1 and "@" in words[0]:
        return _email(words[0], key)
    return _text(words, key, "the player's name or email", NAME_LIMIT)


def _zone(raw: str, key: str) -> str:
    # Legacy names like EST have no daylight saving, so a team on them would be an hour off.
    if "/" not in raw and raw.upper() != "UTC":
        _fail(key, f"Use a city zone like America/Toronto, not '{raw}'.")
    try:
        return ZoneInfo(raw).key
    except (ZoneInfoNotFoundError, ValueError):
        pass
    known = available_timezones()
    same = [z for z in known if z.lower() == raw.lower()]
    if same:
        return same[0]
    near = difflib.get_close_matches(raw, sorted(known), n=1)
    hint = f" Did you mean {near[0]}?" if near else ""
    _fail(key, f"'{raw}' isn't a time zone I know.{hint}")


def _when(words: Sequence[str], key: str) -> str:
    missing = "Say when the game is, like sat 7pm or 2026-12-05 19:00."
    return _text(words, key, "the time", WHEN_LIMIT, missing=missing)


def _text(
    words: Sequence[str], key: str, what: str, limit: int, *, missing: str | None = None
) -> str:
    text = " ".join(words)
    if len(text) >= 2 and text[0] in "\"'“‘" and text[-1] in "\"'”’":
        text = text[1:-1].strip()
    if not text:
        _fail(key, missing or f"Give {what}.")
    if len(text) > limit:
        _fail(key, f"{what.capitalize()} is {len(text)} characters long; keep it to {limit}.")
    return text


def _given(words: Sequence[str] | None, key: str, what: str, limit: int) -> str | None:
    return None if words is None else _text(words, key, what, limit)


def _word(word: str) -> str:
    return word.lower().strip(".,!?")


def _nothing_after(words: Sequence[str], key: str) -> None:
    if words:
        _fail(key, f"I didn't expect '{' '.join(words)}' after {key}.")


def _unknown(
    word: str,
    choices: dict[str, str],
    *,
    what: str = "command",
    usage: str | None = None,
    fallback: str = "help",
) -> NoReturn:
    """Refuse ``word``, suggesting the closest of ``choices`` (spelling -> canonical name)."""
    near = difflib.get_close_matches(word, list(choices), n=1)
    if near:
        meant = choices[near[0]]
        message = f"I don't know the {what} '{word}'. Did you mean '{meant}'?"
        raise GrammarError(message, usage or usage_of(meant))
    message = f"I don't know the {what} '{word}'. Try /attend help."
    raise GrammarError(message, usage or usage_of(fallback))


def _fail(key: str, message: str) -> NoReturn:
    raise GrammarError(message, USAGE[key])

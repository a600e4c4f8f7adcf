"""What the grammar reads text into: one frozen dataclass per command, and :data:`Command`."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import time
from typing import Literal, TypeAlias

from bot.grammar.season import Calendar, Season

AnswerWord: TypeAlias = Literal["yes", "no", "maybe"]
Limit: TypeAlias = Literal["min_players", "max_players", "reserve_minutes"]


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
    reserve: bool = False  # asked only when a game is short


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
class SetReserve:
    """``team reserve <who>``, or ``team reserve remove <who>`` (back among the players)."""

    who: str
    reserve: bool = True


@dataclass(frozen=True, kw_only=True, slots=True)
class SettingsChange:
    """Only the settings named in the command are set; ``None`` means "leave as is"."""

    timezone: str | None = None
    lead_minutes: int | None = None
    reminder_minutes: tuple[int, ...] | None = None  # () turns reminders off
    min_players: int | None = None
    max_players: int | None = None
    game_minutes: int | None = None
    reserve_minutes: int | None = None  # ask the reserves this long before a short game
    cleared: frozenset[Limit] = field(default_factory=frozenset)  # "min none", "max none"
    dms: bool | None = None  # "dms off": invitations in the team's channel only


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


@dataclass(frozen=True, kw_only=True, slots=True)
class Board:
    game: str = "next"


# -- series of games (bot/grammar/series.py reads them) ---------------------------------------
@dataclass(frozen=True, kw_only=True, slots=True)
class ScheduleSeries:
    """A game every ``every_weeks`` weeks on ``weekday`` (0 is Monday) at ``at``, from the
    first such day on or after ``from_text`` (as typed; None: the next one) until
    ``until_text`` or for ``games`` games."""

    weekday: int
    at: time
    every_weeks: int = 1
    from_text: str | None = None
    until_text: str | None = None
    games: int | None = None
    location: str | None = None
    opponent: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class CancelSeries:
    series: str
    reason: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class RescheduleSeries:
    """The series' games still to play move to ``weekday`` and/or ``at``."""

    series: str
    weekday: int | None = None
    at: time | None = None
# -- the team's channel (issue 16.2) ------------------------------------------------------------
@dataclass(frozen=True, kw_only=True, slots=True)
class TeamChannel:
    """``channel here`` (``bind``) or ``channel none``: the channel comes from the platform."""

    bind: bool


Command: TypeAlias = (
    Help
    | CreateTeam
    | AddPlayer
    | RemovePlayer
    | Roster
    | AppointCaptain
    | RelieveCaptain
    | SetReserve
    | Settings
    | Schedule
    | Games
    | Check
    | Status
    | Board
    | Remind
    | Deadline
    | ClearDeadline
    | Cancel
    | Reschedule
    | Answer
    | Me
    | ScheduleSeries
    | CancelSeries
    | RescheduleSeries
    | Season  # the season (issue 17): bot/grammar/season.py
    | Calendar
    | TeamChannel
)

"""The ``/attend ...`` text grammar shared by Slack and the console: text in, one command out.

Pure: no I/O and no clock. Dates stay as the captain typed them (``when_text``); the caller
reads them with :func:`bot.when.parse_when` in the team's zone. Anything not
understood raises :class:`GrammarError` carrying a short reason and the sub-command's usage.

Modules: ``commands`` (what text is read into), ``usage`` (usage lines, help, the error),
``parser`` (:func:`parse`), which hands each sub-command to ``team``, ``settings`` or
``games``; ``readers`` holds the small readers they share. ``typed`` makes the same commands
from a platform's typed options (Discord's), one value per field, with the same readers.
"""

from __future__ import annotations

from bot.grammar.commands import (
    AddPlayer,
    Answer,
    AnswerWord,
    AppointCaptain,
    Board,
    Cancel,
    CancelSeries,
    Check,
    ClearDeadline,
    Command,
    CreateTeam,
    Deadline,
    Games,
    Help,
    Limit,
    Me,
    Mention,
    RelieveCaptain,
    Remind,
    RemovePlayer,
    Reschedule,
    RescheduleSeries,
    Roster,
    Schedule,
    ScheduleSeries,
    SetReserve,
    Settings,
    SettingsChange,
    Status,
    TeamChannel,
)
from bot.grammar.parser import parse
from bot.grammar.readers import (
    NAME_LIMIT,
    NOTE_LIMIT,
    PLACE_LIMIT,
    PLAYER_LIMIT,
    WHEN_LIMIT,
)
from bot.grammar.season import Calendar, Season
from bot.grammar.usage import USAGE, GrammarError, help_text, usage_of

__all__ = [
    "NAME_LIMIT",
    "NOTE_LIMIT",
    "PLACE_LIMIT",
    "PLAYER_LIMIT",
    "USAGE",
    "WHEN_LIMIT",
    "AddPlayer",
    "Answer",
    "AnswerWord",
    "AppointCaptain",
    "Board",
    "Calendar",
    "Cancel",
    "CancelSeries",
    "Check",
    "ClearDeadline",
    "Command",
    "CreateTeam",
    "Deadline",
    "Games",
    "GrammarError",
    "Help",
    "Limit",
    "Me",
    "Mention",
    "RelieveCaptain",
    "Remind",
    "RemovePlayer",
    "Reschedule",
    "RescheduleSeries",
    "Roster",
    "Schedule",
    "ScheduleSeries",
    "Season",
    "SetReserve",
    "Settings",
    "SettingsChange",
    "Status",
    "TeamChannel",
    "help_text",
    "parse",
    "usage_of",
]

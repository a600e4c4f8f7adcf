"""Value types shared by the Team, Game and AttendanceCheck aggregates."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Answer(enum.StrEnum):
    YES = "yes"
    NO = "no"
    MAYBE = "maybe"


class AnswerSource(enum.StrEnum):
    """Where an answer came from; ``captain`` is a captain answering for a player."""

    SLACK = "slack"
    DISCORD = "discord"
    EMAIL = "email"
    CAPTAIN = "captain"
    CONSOLE = "console"


class Channel(enum.StrEnum):
    """Where a message to a player is delivered."""

    SLACK = "slack"
    DISCORD = "discord"
    EMAIL = "email"


@dataclass(frozen=True, kw_only=True, slots=True)
class PlayerProfile:
    """A player and the ways to reach them.

    ``slack_user`` is ``"<workspace id>:<user id>"``; ``discord_user`` is the Discord user id.
    """

    player_id: str
    name: str
    email: str | None = None
    slack_user: str | None = None
    discord_user: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class Invitee:
    """A player asked to answer one attendance check."""

    player_id: str
    name: str

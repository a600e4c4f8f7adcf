"""Who is asking: the identity an adapter hands the service with every call."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from core.aggregates.common import AnswerSource


class ActorKind(enum.StrEnum):
    CONSOLE = "console"  # the local `attend say --as EMAIL` channel: identified by email
    SLACK = "slack"  # "<workspace id>:<user id>"
    DISCORD = "discord"  # the Discord user id
    PLAYER = "player"  # the holder of a signed email link: "<team id>:<player id>"
    SYSTEM = "system"  # the scheduler and other internal callers


@dataclass(frozen=True, kw_only=True, slots=True)
class Actor:
    kind: ActorKind
    ref: str
    name: str | None = None  # a display name the platform gave us, if any

    @classmethod
    def console(cls, email: str, name: str | None = None) -> Actor:
        return cls(kind=ActorKind.CONSOLE, ref=email.strip().lower(), name=name)

    @classmethod
    def slack(cls, workspace: str, user: str, name: str | None = None) -> Actor:
        return cls(kind=ActorKind.SLACK, ref=f"{workspace}:{user}", name=name)

    @classmethod
    def discord(cls, user: str, name: str | None = None) -> Actor:
        return cls(kind=ActorKind.DISCORD, ref=user, name=name)

    @classmethod
    def player(cls, team_id: str, player_id: str) -> Actor:
        return cls(kind=ActorKind.PLAYER, ref=f"{team_id}:{player_id}")

    @classmethod
    def system(cls, name: str) -> Actor:
        return cls(kind=ActorKind.SYSTEM, ref=name)

    @property
    def key(self) -> str:
        """How the actor is written in event metadata."""
        return f"{self.kind}:{self.ref}"

    @property
    def answer_source(self) -> AnswerSource:
        return {
            ActorKind.CONSOLE: AnswerSource.CONSOLE,
            ActorKind.SLACK: AnswerSource.SLACK,
            ActorKind.DISCORD: AnswerSource.DISCORD,
            ActorKind.PLAYER: AnswerSource.EMAIL,
        }.get(self.kind, AnswerSource.CAPTAIN)

"""The commands an attendance check takes, and their union ``CheckCommand``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from core.aggregates.common import Answer, AnswerSource, Channel, Invitee


@dataclass(frozen=True, kw_only=True, slots=True)
class OpenCheck:
    check_id: str
    game_id: str
    team_id: str
    starts_at: datetime
    invitees: tuple[Invitee, ...]
    min_players: int | None = None
    max_players: int | None = None
    reserves: tuple[Invitee, ...] = ()  # listed, asked only if the check is short


@dataclass(frozen=True, kw_only=True, slots=True)
class InvitePlayer:
    check_id: str
    invitee: Invitee
    reserve: bool = False  # a reserve who joined the team: listed, or asked if short now


@dataclass(frozen=True, kw_only=True, slots=True)
class WithdrawInvitation:
    check_id: str
    player_id: str


@dataclass(frozen=True, kw_only=True, slots=True)
class RecordAnswer:
    check_id: str
    player_id: str
    answer: Answer
    source: AnswerSource
    note: str | None = None  # None: keep the note if the answer is unchanged


@dataclass(frozen=True, kw_only=True, slots=True)
class RemindNonResponders:
    check_id: str
    reminder_key: str  # e.g. "1440", minutes before the start; each key is used once


@dataclass(frozen=True, kw_only=True, slots=True)
class AlertIfBelowMinimum:
    check_id: str
    key: str  # the scheduler's due-work item key; each key is used once


@dataclass(frozen=True, kw_only=True, slots=True)
class AskReserves:
    """The scheduler's: ask the reserves if the check is still below its minimum."""

    check_id: str
    key: str  # the scheduler's due-work item key; each key is used once


@dataclass(frozen=True, kw_only=True, slots=True)
class MoveCheck:
    """Follow the game to a new start time (the late drop-out window moves with it)."""

    check_id: str
    starts_at: datetime


@dataclass(frozen=True, kw_only=True, slots=True)
class SetAnswerDeadline:
    """Answers close at ``deadline`` instead of at the start (the start still closes them)."""

    check_id: str
    deadline: datetime


@dataclass(frozen=True, kw_only=True, slots=True)
class ClearAnswerDeadline:
    """Answers close at the start again."""

    check_id: str


@dataclass(frozen=True, kw_only=True, slots=True)
class CloseAtDeadline:
    """The scheduler's close at ``deadline``: closes only if that is still the deadline,
    so a captain who cleared or moved it a moment earlier is not overruled."""

    check_id: str
    deadline: datetime


@dataclass(frozen=True, kw_only=True, slots=True)
class CloseCheck:
    check_id: str
    reason: str


@dataclass(frozen=True, kw_only=True, slots=True)
class RecordDelivery:
    check_id: str
    player_id: str
    message_key: str
    channel: Channel
    reference: str | None = None  # platform message id, to edit the DM later


@dataclass(frozen=True, kw_only=True, slots=True)
class RecordDeliveries:
    """Several deliveries of one check recorded at once: the delivery worker's round. One
    append however many, so two servers sending for one check don't each lose a race for
    its stream on every message."""

    check_id: str
    deliveries: tuple[RecordDelivery, ...]


@dataclass(frozen=True, kw_only=True, slots=True)
class RecordDeliveryFailure:
    check_id: str
    player_id: str
    message_key: str
    channel: Channel
    reason: str
    permanent: bool


CheckCommand = (
    OpenCheck
    | InvitePlayer
    | WithdrawInvitation
    | RecordAnswer
    | RemindNonResponders
    | AlertIfBelowMinimum
    | AskReserves
    | MoveCheck
    | SetAnswerDeadline
    | ClearAnswerDeadline
    | CloseAtDeadline
    | CloseCheck
    | RecordDelivery
    | RecordDeliveries
    | RecordDeliveryFailure
)

"""The events an attendance check records, and their union ``CheckEvent``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from core.aggregates.common import Answer, AnswerSource, Channel, Invitee


@dataclass(frozen=True, kw_only=True, slots=True)
class CheckOpened:
    check_id: str
    game_id: str
    team_id: str
    starts_at: datetime
    min_players: int | None
    max_players: int | None
    opened_at: datetime
    reserves: tuple[Invitee, ...] = ()  # listed, asked only if the check is short


@dataclass(frozen=True, kw_only=True, slots=True)
class PlayerInvited:
    check_id: str
    game_id: str
    team_id: str
    invitee: Invitee
    reserve: bool = False  # asked because the team is short


@dataclass(frozen=True, kw_only=True, slots=True)
class InvitationWithdrawn:
    check_id: str
    player_id: str


@dataclass(frozen=True, kw_only=True, slots=True)
class AnswerRecorded:
    check_id: str
    player_id: str
    answer: Answer
    previous: Answer | None
    note: str | None
    source: AnswerSource
    answered_at: datetime


@dataclass(frozen=True, kw_only=True, slots=True)
class PlayerWaitlisted:
    check_id: str
    player_id: str
    position: int  # 1-based place in the queue


@dataclass(frozen=True, kw_only=True, slots=True)
class PlayerPromoted:
    check_id: str
    player_id: str


@dataclass(frozen=True, kw_only=True, slots=True)
class CheckReachedMinimum:
    check_id: str
    yes_count: int
    min_players: int


@dataclass(frozen=True, kw_only=True, slots=True)
class CheckBelowMinimum:
    check_id: str
    yes_count: int
    min_players: int


@dataclass(frozen=True, kw_only=True, slots=True)
class LateDropOut:
    check_id: str
    player_id: str
    answer: Answer | None  # None: the invitation was withdrawn
    hours_before_start: float  # negative once the game has started


@dataclass(frozen=True, kw_only=True, slots=True)
class RemindersRequested:
    check_id: str
    reminder_key: str
    player_ids: tuple[str, ...]


@dataclass(frozen=True, kw_only=True, slots=True)
class MinimumChecked:
    """An ``AlertIfBelowMinimum`` was handled; ``CheckBelowMinimum`` follows if short."""

    check_id: str
    key: str
    yes_count: int
    min_players: int | None  # None: the check has no minimum (set after it opened)


@dataclass(frozen=True, kw_only=True, slots=True)
class ReserveListed:
    """A reserve who joined the team while the check is open, kept to ask if short."""

    check_id: str
    invitee: Invitee


@dataclass(frozen=True, kw_only=True, slots=True)
class ReservesAsked:
    """An ``AskReserves`` was handled; a ``PlayerInvited`` (reserve) follows for each of
    ``player_ids``, none when the check was not short."""

    check_id: str
    key: str
    yes_count: int
    min_players: int | None
    player_ids: tuple[str, ...]


@dataclass(frozen=True, kw_only=True, slots=True)
class ReserveSteppedIn:
    """A reserve's Yes took a place: news for the captain."""

    check_id: str
    player_id: str
    yes_count: int
    min_players: int | None


@dataclass(frozen=True, kw_only=True, slots=True)
class ReservesReleased:
    """The minimum was reached: the reserves asked who hadn't said Yes are not needed."""

    check_id: str
    player_ids: tuple[str, ...]


@dataclass(frozen=True, kw_only=True, slots=True)
class CheckMoved:
    check_id: str
    previous_starts_at: datetime
    starts_at: datetime


@dataclass(frozen=True, kw_only=True, slots=True)
class AnswerDeadlineSet:
    check_id: str
    deadline: datetime


@dataclass(frozen=True, kw_only=True, slots=True)
class AnswerDeadlineCleared:
    check_id: str


@dataclass(frozen=True, kw_only=True, slots=True)
class CheckClosed:
    check_id: str
    reason: str
    closed_at: datetime


@dataclass(frozen=True, kw_only=True, slots=True)
class MessageDelivered:
    check_id: str
    player_id: str
    message_key: str
    channel: Channel
    reference: str | None
    delivered_at: datetime


@dataclass(frozen=True, kw_only=True, slots=True)
class DeliveryFailed:
    check_id: str
    player_id: str
    message_key: str
    channel: Channel
    reason: str
    permanent: bool
    failed_at: datetime


CheckEvent = (
    CheckOpened
    | PlayerInvited
    | InvitationWithdrawn
    | AnswerRecorded
    | PlayerWaitlisted
    | PlayerPromoted
    | CheckReachedMinimum
    | CheckBelowMinimum
    | LateDropOut
    | RemindersRequested
    | MinimumChecked
    | CheckMoved
    | AnswerDeadlineSet
    | AnswerDeadlineCleared
    | CheckClosed
    | MessageDelivered
    | DeliveryFailed
    | ReserveListed
    | ReservesAsked
    | ReserveSteppedIn
    | ReservesReleased
)

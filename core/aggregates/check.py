"""AttendanceCheck: who is asked about one game, what they answered, and what they were sent.

Stream ``check-<check_id>``. Only invitees answer, nobody after close; the same answer twice
records nothing, a change records the change. With ``max_players`` set, a Yes beyond it joins
a first-come-first-served waitlist, and the first waitlisted player is promoted when a
confirmed Yes drops out.

Decisions the rules leave open:
- A note belongs to an answer. Repeating the same answer with no note (a button tap) keeps the
  note; changing the answer without a note drops it; a blank note clears it.
- ``CheckReachedMinimum`` / ``CheckBelowMinimum`` fire when the confirmed Yes count crosses
  ``min_players``; a check opens below its minimum without an event.
- Before the game the scheduler sends ``AlertIfBelowMinimum``: ``CheckBelowMinimum`` again if
  the check is still short. Like a reminder key, its key is used once even when the check is
  fine (``MinimumChecked`` is recorded either way), so the scheduler can resend it safely and
  the due-work read model sees it done. A closed check records nothing rather than refusing
  (the scheduler may run late, and a started or cancelled game needs no alert), except one
  closed at the captain's answer deadline before its start: a team short of players is still
  worth a warning while there is time to find more.
- A late drop-out is a confirmed Yes lost (to No, Maybe, or a withdrawn invitation) when the
  game starts in 24 hours or less, including after the start. ``answer`` is None when the
  invitation was withdrawn. Waitlisted players are not confirmed, so never late drop-outs.
- A reminder key is used once even when nobody needs reminding: ``RemindersRequested`` is
  recorded with no players, so the scheduler can resend it safely.
- Deliveries are recorded even after close and for anyone (a cancellation notice still goes
  out); they are only refused before the check opens.
- A captain may set an answer deadline: an instant after now and not after the start. Like
  the start, it refuses nothing by itself: at it the scheduler sends ``CloseCheck``, and the
  start closes the check anyway, whichever comes first. A ``MoveCheck`` keeps the deadline
  where the captain put it, even when the game moves before it (the start then closes
  answers) or far after it (answers still close at the deadline). Clearing it leaves answers
  open until the start; clearing when none is set records nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import assert_never

from core.aggregates import Aggregate
from core.aggregates.common import Answer, AnswerSource, Channel, Invitee
from core.errors import DomainError

LATE_DROP_OUT_WINDOW = timedelta(hours=24)
DEADLINE_REASON = "answer deadline"  # why a check closed at its captain's deadline

# Commands


@dataclass(frozen=True, kw_only=True, slots=True)
class OpenCheck:
    check_id: str
    game_id: str
    team_id: str
    starts_at: datetime
    invitees: tuple[Invitee, ...]
    min_players: int | None = None
    max_players: int | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class InvitePlayer:
    check_id: str
    invitee: Invitee


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
class RecordDeliveryFailure:
    check_id: str
    player_id: str
    message_key: str
    channel: Channel
    reason: str
    permanent: bool


# Events


@dataclass(frozen=True, kw_only=True, slots=True)
class CheckOpened:
    check_id: str
    game_id: str
    team_id: str
    starts_at: datetime
    min_players: int | None
    max_players: int | None
    opened_at: datetime


@dataclass(frozen=True, kw_only=True, slots=True)
class PlayerInvited:
    check_id: str
    game_id: str
    team_id: str
    invitee: Invitee


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


# State


@dataclass(frozen=True, kw_only=True, slots=True)
class InviteeAnswer:
    """One invitee's line on the board."""

    player_id: str
    name: str
    answer: Answer | None = None
    note: str | None = None
    source: AnswerSource | None = None
    answered_at: datetime | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class Delivery:
    player_id: str
    message_key: str
    channel: Channel
    delivered: bool
    at: datetime
    reference: str | None = None
    reason: str | None = None  # why it failed
    permanent: bool = False


@dataclass(frozen=True, kw_only=True, slots=True)
class CheckState:
    check_id: str | None = None  # None until opened
    game_id: str = ""
    team_id: str = ""
    starts_at: datetime | None = None
    min_players: int | None = None
    max_players: int | None = None
    opened_at: datetime | None = None
    invitees: tuple[InviteeAnswer, ...] = ()  # in invitation order
    confirmed: tuple[str, ...] = ()  # player ids holding a place, in order of their Yes
    waitlist: tuple[str, ...] = ()  # player ids queued for a place, first come first served
    reminders_sent: tuple[str, ...] = ()
    minimum_checks: tuple[str, ...] = ()  # keys of the AlertIfBelowMinimum handled
    deadline: datetime | None = None  # None: answers close at the start
    closed: bool = False
    closed_at: datetime | None = None
    close_reason: str | None = None
    deliveries: tuple[Delivery, ...] = ()

    def invitee(self, player_id: str) -> InviteeAnswer | None:
        return next((i for i in self.invitees if i.player_id == player_id), None)

    @property
    def awaiting_answer(self) -> tuple[str, ...]:
        """Who a reminder goes to: no answer yet, or Maybe."""
        return tuple(i.player_id for i in self.invitees if i.answer in (None, Answer.MAYBE))

    def delivered(self, player_id: str, message_key: str) -> bool:
        return any(
            d.delivered and d.player_id == player_id and d.message_key == message_key
            for d in self.deliveries
        )


CheckCommand = (
    OpenCheck
    | InvitePlayer
    | WithdrawInvitation
    | RecordAnswer
    | RemindNonResponders
    | AlertIfBelowMinimum
    | MoveCheck
    | SetAnswerDeadline
    | ClearAnswerDeadline
    | CloseAtDeadline
    | CloseCheck
    | RecordDelivery
    | RecordDeliveryFailure
)
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
)


def decide(state: CheckState, command: CheckCommand, *, now: datetime) -> list[CheckEvent]:
    match command:
        case OpenCheck():
            return [] if state.check_id is not None else _open(command, now)
        case CloseCheck(check_id=check_id, reason=reason):
            if state.check_id is None or state.closed:
                return []
            return [CheckClosed(check_id=check_id, reason=reason, closed_at=now)]
        case InvitePlayer(invitee=invitee):
            if _active(state).invitee(invitee.player_id) is not None:
                return []
            return [
                PlayerInvited(
                    check_id=command.check_id,
                    game_id=state.game_id,
                    team_id=state.team_id,
                    invitee=invitee,
                )
            ]
        case WithdrawInvitation(check_id=check_id, player_id=player_id):
            if _active(state).invitee(player_id) is None:
                return []
            withdrawn = InvitationWithdrawn(check_id=check_id, player_id=player_id)
            return [withdrawn, *_place_lost(state, check_id, player_id, None, now)]
        case RecordAnswer():
            return _answer(_active(state), command, now)
        case RemindNonResponders(check_id=check_id, reminder_key=key):
            if key in _active(state).reminders_sent:
                return []
            return [
                RemindersRequested(
                    check_id=check_id, reminder_key=key, player_ids=state.awaiting_answer
                )
            ]
        case AlertIfBelowMinimum(check_id=check_id, key=key):
            if not _still_counting(_opened(state), now) or key in state.minimum_checks:
                return []
            return _minimum_checked(state, check_id, key)
        case MoveCheck(check_id=check_id, starts_at=starts_at):
            previous = _opened(state).starts_at
            if previous is None or starts_at == previous:
                return []
            return [CheckMoved(check_id=check_id, previous_starts_at=previous, starts_at=starts_at)]
        case SetAnswerDeadline():
            return _deadline(_active(state), command, now)
        case ClearAnswerDeadline(check_id=check_id):
            if _active(state).deadline is None:
                return []
            return [AnswerDeadlineCleared(check_id=check_id)]
        case CloseAtDeadline(check_id=check_id, deadline=deadline):
            if state.check_id is None or state.closed or state.deadline != deadline:
                return []
            return [CheckClosed(check_id=check_id, reason=DEADLINE_REASON, closed_at=now)]
        case RecordDelivery():
            if _opened(state).delivered(command.player_id, command.message_key):
                return []
            return [
                MessageDelivered(
                    check_id=command.check_id,
                    player_id=command.player_id,
                    message_key=command.message_key,
                    channel=command.channel,
                    reference=command.reference,
                    delivered_at=now,
                )
            ]
        case RecordDeliveryFailure():
            if _known_failure(_opened(state), command):
                return []
            return [
                DeliveryFailed(
                    check_id=command.check_id,
                    player_id=command.player_id,
                    message_key=command.message_key,
                    channel=command.channel,
                    reason=command.reason,
                    permanent=command.permanent,
                    failed_at=now,
                )
            ]
        case _:
            assert_never(command)


def _opened(state: CheckState) -> CheckState:
    if state.check_id is None:
        raise DomainError("check_not_open", "Attendance for that game isn't being checked yet.")
    return state


def _active(state: CheckState) -> CheckState:
    if _opened(state).closed:
        raise DomainError("check_closed", "This attendance check is closed; answers are final.")
    return state


def _open(command: OpenCheck, now: datetime) -> list[CheckEvent]:
    opened = CheckOpened(
        check_id=command.check_id,
        game_id=command.game_id,
        team_id=command.team_id,
        starts_at=command.starts_at,
        min_players=command.min_players,
        max_players=command.max_players,
        opened_at=now,
    )
    first: dict[str, Invitee] = {}  # an invitee listed twice is invited once
    for invitee in command.invitees:
        first.setdefault(invitee.player_id, invitee)
    return [
        opened,
        *(
            PlayerInvited(
                check_id=command.check_id,
                game_id=command.game_id,
                team_id=command.team_id,
                invitee=invitee,
            )
            for invitee in first.values()
        ),
    ]


def _answer(state: CheckState, command: RecordAnswer, now: datetime) -> list[CheckEvent]:
    current = state.invitee(command.player_id)
    if current is None:
        raise DomainError("not_invited", "You weren't invited to answer for this game.")
    note = (command.note or "").strip() or None
    if command.answer == current.answer and (command.note is None or note == current.note):
        return []
    recorded = AnswerRecorded(
        check_id=command.check_id,
        player_id=command.player_id,
        answer=command.answer,
        previous=current.answer,
        note=note,
        source=command.source,
        answered_at=now,
    )
    if command.answer == current.answer:
        return [recorded]
    if command.answer is Answer.YES:
        return [recorded, *_place_taken(state, command.check_id, command.player_id)]
    return [recorded, *_place_lost(state, command.check_id, command.player_id, command.answer, now)]


def _place_taken(state: CheckState, check_id: str, player_id: str) -> list[CheckEvent]:
    """Events after a new Yes: a place, or the end of the waitlist."""
    yes_count = len(state.confirmed)
    if state.max_players is not None and yes_count >= state.max_players:
        return [
            PlayerWaitlisted(
                check_id=check_id, player_id=player_id, position=len(state.waitlist) + 1
            )
        ]
    if state.min_players is not None and yes_count + 1 == state.min_players:
        return [
            CheckReachedMinimum(
                check_id=check_id, yes_count=yes_count + 1, min_players=state.min_players
            )
        ]
    return []


def _place_lost(
    state: CheckState, check_id: str, player_id: str, answer: Answer | None, now: datetime
) -> list[CheckEvent]:
    """Events after a confirmed player's Yes is gone: late drop-out, promotion, or shortfall."""
    if player_id not in state.confirmed:
        return []
    events: list[CheckEvent] = []
    ahead = (state.starts_at or now) - now
    if ahead <= LATE_DROP_OUT_WINDOW:
        events.append(
            LateDropOut(
                check_id=check_id,
                player_id=player_id,
                answer=answer,
                hours_before_start=ahead / timedelta(hours=1),
            )
        )
    if state.waitlist:
        events.append(PlayerPromoted(check_id=check_id, player_id=state.waitlist[0]))
    elif state.min_players is not None and len(state.confirmed) == state.min_players:
        events.append(
            CheckBelowMinimum(
                check_id=check_id,
                yes_count=state.min_players - 1,
                min_players=state.min_players,
            )
        )
    return events


def _still_counting(state: CheckState, now: datetime) -> bool:
    """Whether the Yes count can still matter to the captain: the check is open, or closed
    only by the captain's answer deadline and the game is still ahead."""
    if not state.closed:
        return True
    return (state.close_reason == DEADLINE_REASON and state.starts_at is not None
            and now < state.starts_at)


def _minimum_checked(state: CheckState, check_id: str, key: str) -> list[CheckEvent]:
    yes_count, minimum = len(state.confirmed), state.min_players
    checked = MinimumChecked(check_id=check_id, key=key, yes_count=yes_count, min_players=minimum)
    if minimum is None or yes_count >= minimum:
        return [checked]
    return [checked, CheckBelowMinimum(check_id=check_id, yes_count=yes_count, min_players=minimum)]


def _deadline(state: CheckState, command: SetAnswerDeadline, now: datetime) -> list[CheckEvent]:
    deadline = command.deadline
    if deadline == state.deadline:
        return []
    if deadline <= now:
        raise DomainError("deadline_in_past", "That deadline has passed already; pick a time "
                          "still ahead.")
    if state.starts_at is not None and deadline > state.starts_at:
        raise DomainError("deadline_after_start", "Answers can't close after the game starts; "
                          "pick a time before it.")
    return [AnswerDeadlineSet(check_id=command.check_id, deadline=deadline)]


def _known_failure(state: CheckState, command: RecordDeliveryFailure) -> bool:
    """Already delivered, or this failure (or a permanent one on that channel) is recorded."""
    if state.delivered(command.player_id, command.message_key):
        return True
    return any(
        not d.delivered
        and (d.player_id, d.message_key, d.channel)
        == (command.player_id, command.message_key, command.channel)
        and (d.permanent or not command.permanent)
        for d in state.deliveries
    )


def evolve(state: CheckState, event: CheckEvent) -> CheckState:
    match event:
        case CheckOpened():
            return replace(
                state,
                check_id=event.check_id,
                game_id=event.game_id,
                team_id=event.team_id,
                starts_at=event.starts_at,
                min_players=event.min_players,
                max_players=event.max_players,
                opened_at=event.opened_at,
            )
        case PlayerInvited(invitee=invitee):
            line = InviteeAnswer(player_id=invitee.player_id, name=invitee.name)
            return replace(state, invitees=(*state.invitees, line))
        case InvitationWithdrawn(player_id=player_id):
            return replace(
                _without_place(state, player_id),
                invitees=tuple(i for i in state.invitees if i.player_id != player_id),
            )
        case AnswerRecorded(player_id=player_id, answer=answer, previous=previous):
            answered = tuple(
                replace(
                    i,
                    answer=answer,
                    note=event.note,
                    source=event.source,
                    answered_at=event.answered_at,
                )
                if i.player_id == player_id
                else i
                for i in state.invitees
            )
            state = replace(state, invitees=answered)
            if answer is not Answer.YES:
                return _without_place(state, player_id)
            if previous is not Answer.YES:  # a PlayerWaitlisted may follow and move them on
                return replace(state, confirmed=(*state.confirmed, player_id))
            return state
        case PlayerWaitlisted(player_id=player_id):
            state = _without_place(state, player_id)
            return replace(state, waitlist=(*state.waitlist, player_id))
        case PlayerPromoted(player_id=player_id):
            state = _without_place(state, player_id)
            return replace(state, confirmed=(*state.confirmed, player_id))
        case CheckReachedMinimum() | CheckBelowMinimum() | LateDropOut():
            return state  # news for the captain; the counts already moved
        case RemindersRequested(reminder_key=key):
            return replace(state, reminders_sent=(*state.reminders_sent, key))
        case MinimumChecked(key=key):
            return replace(state, minimum_checks=(*state.minimum_checks, key))
        case CheckMoved(starts_at=starts_at):
            return replace(state, starts_at=starts_at)
        case AnswerDeadlineSet(deadline=deadline):
            return replace(state, deadline=deadline)
        case AnswerDeadlineCleared():
            return replace(state, deadline=None)
        case CheckClosed(reason=reason, closed_at=closed_at):
            return replace(state, closed=True, closed_at=closed_at, close_reason=reason)
        case MessageDelivered():
            delivery = Delivery(
                player_id=event.player_id,
                message_key=event.message_key,
                channel=event.channel,
                delivered=True,
                at=event.delivered_at,
                reference=event.reference,
            )
            return replace(state, deliveries=(*state.deliveries, delivery))
        case DeliveryFailed():
            delivery = Delivery(
                player_id=event.player_id,
                message_key=event.message_key,
                channel=event.channel,
                delivered=False,
                at=event.failed_at,
                reason=event.reason,
                permanent=event.permanent,
            )
            return replace(state, deliveries=(*state.deliveries, delivery))
        case _:
            assert_never(event)


def _without_place(state: CheckState, player_id: str) -> CheckState:
    return replace(
        state,
        confirmed=tuple(p for p in state.confirmed if p != player_id),
        waitlist=tuple(p for p in state.waitlist if p != player_id),
    )


CHECK: Aggregate[CheckState] = Aggregate(
    name="check",
    initial=CheckState(),
    decide=decide,
    evolve=evolve,
    commands={
        OpenCheck: "check_id",
        InvitePlayer: "check_id",
        WithdrawInvitation: "check_id",
        RecordAnswer: "check_id",
        RemindNonResponders: "check_id",
        AlertIfBelowMinimum: "check_id",
        MoveCheck: "check_id",
        SetAnswerDeadline: "check_id",
        ClearAnswerDeadline: "check_id",
        CloseAtDeadline: "check_id",
        CloseCheck: "check_id",
        RecordDelivery: "check_id",
        RecordDeliveryFailure: "check_id",
    },
    events=(
        CheckOpened,
        PlayerInvited,
        InvitationWithdrawn,
        AnswerRecorded,
        PlayerWaitlisted,
        PlayerPromoted,
        CheckReachedMinimum,
        CheckBelowMinimum,
        LateDropOut,
        RemindersRequested,
        MinimumChecked,
        CheckMoved,
        AnswerDeadlineSet,
        AnswerDeadlineCleared,
        CheckClosed,
        MessageDelivered,
        DeliveryFailed,
    ),
    state_version=3,  # 2: minimum_checks; 3: deadline
)

"""``decide``: the attendance check's rules, from a command and the state to new events."""

from __future__ import annotations

from datetime import datetime
from typing import assert_never

from core.aggregates.check import reserves
from core.aggregates.check.answers import answer, place_lost
from core.aggregates.check.commands import (
    AlertIfBelowMinimum,
    AskReserves,
    CheckCommand,
    ClearAnswerDeadline,
    CloseAtDeadline,
    CloseCheck,
    InvitePlayer,
    MoveCheck,
    OpenCheck,
    RecordAnswer,
    RecordDeliveries,
    RecordDelivery,
    RecordDeliveryFailure,
    RemindNonResponders,
    SetAnswerDeadline,
    WithdrawInvitation,
)
from core.aggregates.check.events import (
    AnswerDeadlineCleared,
    AnswerDeadlineSet,
    CheckBelowMinimum,
    CheckClosed,
    CheckEvent,
    CheckMoved,
    CheckOpened,
    DeliveryFailed,
    InvitationWithdrawn,
    MessageDelivered,
    MinimumChecked,
    PlayerInvited,
    RemindersRequested,
)
from core.aggregates.check.state import CheckState
from core.aggregates.common import Invitee
from core.errors import DomainError, Refusal

DEADLINE_REASON = "answer deadline"  # why a check closed at its captain's deadline


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
            if command.reserve:
                return reserves.add(state, command)
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
                if any(r.player_id == player_id for r in state.reserves):
                    return [InvitationWithdrawn(check_id=check_id, player_id=player_id)]
                return []
            withdrawn = InvitationWithdrawn(check_id=check_id, player_id=player_id)
            return [withdrawn, *place_lost(state, check_id, player_id, None, now)]
        case RecordAnswer():
            return answer(_active(state), command, now)
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
        case AskReserves(key=key):
            if _opened(state).closed or key in state.reserve_asks:
                return []
            return reserves.ask(state, command)
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
            return _delivered(_opened(state), (command,), now)
        case RecordDeliveries(check_id=check_id, deliveries=deliveries):
            return _delivered(_opened(state), tuple(
                d for d in deliveries if d.check_id == check_id), now)
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
        raise DomainError(
            Refusal.CHECK_NOT_OPEN, "Attendance for that game isn't being checked yet.")
    return state


def _active(state: CheckState) -> CheckState:
    if _opened(state).closed:
        raise DomainError(
            Refusal.CHECK_CLOSED, "This attendance check is closed; answers are final.")
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
        reserves=command.reserves,
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
        raise DomainError(Refusal.DEADLINE_IN_PAST, "That deadline has passed already; pick a time "
                          "still ahead.")
    if state.starts_at is not None and deadline > state.starts_at:
        raise DomainError(
            Refusal.DEADLINE_AFTER_START, "Answers can't close after the game starts; "
            "pick an earlier time.")
    return [AnswerDeadlineSet(check_id=command.check_id, deadline=deadline)]


def _delivered(state: CheckState, deliveries: tuple[RecordDelivery, ...],
               now: datetime) -> list[CheckEvent]:
    """A delivery recorded once: those recorded before (a resend after a crash, a round
    repeated) or twice in one go record nothing."""
    events: list[CheckEvent] = []
    seen: set[tuple[str, str]] = set()
    for d in deliveries:
        key = (d.player_id, d.message_key)
        if key in seen or state.delivered(*key):
            continue
        seen.add(key)
        events.append(MessageDelivered(
            check_id=d.check_id, player_id=d.player_id, message_key=d.message_key,
            channel=d.channel, reference=d.reference, delivered_at=now))
    return events


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

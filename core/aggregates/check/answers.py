"""An answer and the places it moves: who holds a place, who waits, and when the captain
hears about it (the minimum reached or lost, a late drop-out)."""

from __future__ import annotations

from datetime import datetime, timedelta

from core.aggregates.check import reserves
from core.aggregates.check.commands import RecordAnswer
from core.aggregates.check.events import (
    AnswerRecorded,
    CheckBelowMinimum,
    CheckEvent,
    CheckReachedMinimum,
    LateDropOut,
    PlayerPromoted,
    PlayerWaitlisted,
)
from core.aggregates.check.state import CheckState
from core.aggregates.common import Answer
from core.errors import DomainError, Refusal

LATE_DROP_OUT_WINDOW = timedelta(hours=24)


def answer(state: CheckState, command: RecordAnswer, now: datetime) -> list[CheckEvent]:
    """An invitee's answer (``state`` is an open check), and what it does to the places."""
    current = state.invitee(command.player_id)
    if current is None:
        raise DomainError(Refusal.NOT_INVITED, "You weren't invited to answer for this game.")
    reserves.refuse_released(state, command.player_id)
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
        places = _place_taken(state, command.check_id, command.player_id)
        return [recorded, *places,
                *reserves.after_yes(state, command.check_id, command.player_id, places)]
    return [recorded, *place_lost(state, command.check_id, command.player_id, command.answer, now)]


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


def place_lost(
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

"""What an attendance check remembers, and ``evolve``: how each event changes it."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import assert_never

from core.aggregates.check.events import (
    AnswerDeadlineCleared,
    AnswerDeadlineSet,
    AnswerRecorded,
    CheckBelowMinimum,
    CheckClosed,
    CheckEvent,
    CheckMoved,
    CheckOpened,
    CheckReachedMinimum,
    DeliveryFailed,
    InvitationWithdrawn,
    LateDropOut,
    MessageDelivered,
    MinimumChecked,
    PlayerInvited,
    PlayerPromoted,
    PlayerWaitlisted,
    RemindersRequested,
    ReserveListed,
    ReservesAsked,
    ReservesReleased,
    ReserveSteppedIn,
)
from core.aggregates.common import Answer, AnswerSource, Channel, Invitee


@dataclass(frozen=True, kw_only=True, slots=True)
class InviteeAnswer:
    """One invitee's line on the board."""

    player_id: str
    name: str
    answer: Answer | None = None
    note: str | None = None
    source: AnswerSource | None = None
    answered_at: datetime | None = None
    reserve: bool = False  # asked because the team was short


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
    # The deliveries that went out, by :func:`delivery_key`: asked once per message recorded,
    # so a check of a thousand players does not scan them all each time.
    delivered_keys: frozenset[str] = frozenset()
    reserves: tuple[Invitee, ...] = ()  # listed reserves not asked (yet)
    reserve_asks: tuple[str, ...] = ()  # keys of the AskReserves handled
    asking_reserves: bool = False  # reserves were asked and the minimum not reached since
    released: tuple[str, ...] = ()  # reserves whose question closed: not needed after all

    def invitee(self, player_id: str) -> InviteeAnswer | None:
        return next((i for i in self.invitees if i.player_id == player_id), None)

    @property
    def awaiting_answer(self) -> tuple[str, ...]:
        """Who a reminder goes to: no answer yet, or Maybe."""
        return tuple(i.player_id for i in self.invitees if i.answer in (None, Answer.MAYBE)
                     and i.player_id not in self.released)

    def delivered(self, player_id: str, message_key: str) -> bool:
        return delivery_key(player_id, message_key) in self.delivered_keys


def delivery_key(player_id: str, message_key: str) -> str:
    """One string for a player's message (ids and keys never hold control characters)."""
    return f"{player_id}\x1f{message_key}"


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
                reserves=event.reserves,
            )
        case PlayerInvited(invitee=invitee, reserve=reserve):
            line = InviteeAnswer(player_id=invitee.player_id, name=invitee.name, reserve=reserve)
            return replace(state, invitees=(*state.invitees, line),
                           reserves=_unlisted(state.reserves, invitee.player_id))
        case InvitationWithdrawn(player_id=player_id):
            return replace(
                _without_place(state, player_id),
                invitees=tuple(i for i in state.invitees if i.player_id != player_id),
                reserves=_unlisted(state.reserves, player_id),
            )
        case ReserveListed(invitee=invitee):
            return replace(state, reserves=(*state.reserves, invitee))
        case ReservesAsked(key=key, player_ids=player_ids):
            return replace(state, reserve_asks=(*state.reserve_asks, key),
                           asking_reserves=state.asking_reserves or bool(player_ids))
        case ReserveSteppedIn():
            return state  # news for the captain; the Yes already took the place
        case ReservesReleased(player_ids=player_ids):
            return replace(state, asking_reserves=False,
                           released=(*state.released, *player_ids))
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
            return replace(state, deliveries=(*state.deliveries, delivery),
                           delivered_keys=state.delivered_keys | {
                               delivery_key(event.player_id, event.message_key)})
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


def _unlisted(reserves: tuple[Invitee, ...], player_id: str) -> tuple[Invitee, ...]:
    return tuple(r for r in reserves if r.player_id != player_id)


def _without_place(state: CheckState, player_id: str) -> CheckState:
    return replace(
        state,
        confirmed=tuple(p for p in state.confirmed if p != player_id),
        waitlist=tuple(p for p in state.waitlist if p != player_id),
    )

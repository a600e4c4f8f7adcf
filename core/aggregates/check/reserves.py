"""Reserves: asked when the check is short, thanked and released when it is not any more.

- A check keeps its team's reserves (from the roster snapshot, and ``ReserveListed`` for one
  who joins the team while it is open) without inviting them.
- ``AskReserves`` (the scheduler's, once per key, like ``AlertIfBelowMinimum``) records
  ``ReservesAsked`` whatever it finds; while the check is open and below its minimum, every
  listed reserve is then invited (``PlayerInvited`` with ``reserve``). A reserve who joins
  the team while reserves are being asked is invited at once.
- A reserve's Yes takes a place by the usual rules (a place, or the waitlist beyond the
  maximum); one that takes a place records ``ReserveSteppedIn`` for the captain.
- When the minimum is reached while reserves are being asked, the asked reserves who have
  not said Yes are released (``ReservesReleased``): their answers are refused from then on
  ("the team is full now"), reminders pass them by, and they are not asked again for this
  game.
"""

from __future__ import annotations

from core.aggregates.check.commands import AskReserves, InvitePlayer
from core.aggregates.check.events import (
    CheckEvent,
    CheckReachedMinimum,
    PlayerInvited,
    PlayerWaitlisted,
    ReserveListed,
    ReservesAsked,
    ReservesReleased,
    ReserveSteppedIn,
)
from core.aggregates.check.state import CheckState
from core.aggregates.common import Answer
from core.errors import DomainError, Refusal

NOT_NEEDED = "Thanks — the team is full now, so you're not needed for this game."


def short(state: CheckState) -> bool:
    return state.min_players is not None and len(state.confirmed) < state.min_players


def ask(state: CheckState, command: AskReserves) -> list[CheckEvent]:
    """``state`` is an open check that has not handled ``command.key``."""
    asked = tuple(state.reserves) if short(state) else ()
    return [
        ReservesAsked(check_id=command.check_id, key=command.key,
                      yes_count=len(state.confirmed), min_players=state.min_players,
                      player_ids=tuple(r.player_id for r in asked)),
        *(PlayerInvited(check_id=command.check_id, game_id=state.game_id,
                        team_id=state.team_id, invitee=r, reserve=True) for r in asked),
    ]


def add(state: CheckState, command: InvitePlayer) -> list[CheckEvent]:
    """A reserve who joined the team while the check is open (``state`` is open)."""
    player_id = command.invitee.player_id
    if any(r.player_id == player_id for r in state.reserves) or player_id in state.released:
        return []
    if state.asking_reserves and short(state):
        return [PlayerInvited(check_id=command.check_id, game_id=state.game_id,
                              team_id=state.team_id, invitee=command.invitee, reserve=True)]
    return [ReserveListed(check_id=command.check_id, invitee=command.invitee)]


def refuse_released(state: CheckState, player_id: str) -> None:
    if player_id in state.released:
        raise DomainError(Refusal.RESERVE_NOT_NEEDED, NOT_NEEDED)


def after_yes(state: CheckState, check_id: str, player_id: str,
              places: list[CheckEvent]) -> list[CheckEvent]:
    """What a new Yes means for the reserves, given the events it moved ``places`` with."""
    events: list[CheckEvent] = []
    invitee = state.invitee(player_id)
    took_place = not any(isinstance(e, PlayerWaitlisted) for e in places)
    if invitee is not None and invitee.reserve and took_place:
        events.append(ReserveSteppedIn(check_id=check_id, player_id=player_id,
                                       yes_count=len(state.confirmed) + 1,
                                       min_players=state.min_players))
    if state.asking_reserves and any(isinstance(e, CheckReachedMinimum) for e in places):
        waiting = tuple(i.player_id for i in state.invitees
                        if i.reserve and i.player_id != player_id and i.answer is not Answer.YES
                        and i.player_id not in state.released)
        events.append(ReservesReleased(check_id=check_id, player_ids=waiting))
    return events

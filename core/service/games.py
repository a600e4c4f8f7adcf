"""Requests about games and their checks: schedule, move, cancel, check, remind, deadlines."""

from __future__ import annotations

from datetime import datetime

from core.actors import Actor
from core.aggregates import check, game
from core.errors import DomainError
from core.limits import MAX_NAME, MAX_PLACE, MAX_REASON
from core.projections import board as boards
from core.projections import schedule
from core.router import DispatchResult, new_id
from core.service.base import ServiceBase
from core.service.refusals import clean_text, deadline_refused, no_check_yet
from core.service.views import GameStatusView

SCHEDULER = Actor.system("scheduler")  # who sends the commands that come due


class GameRequests(ServiceBase):
    """Game and check requests (captains), and the scheduler's own door."""

    def schedule_game(self, actor: Actor, starts_at: datetime, *, location: str | None = None,
                      opponent: str | None = None, original_text: str | None = None,
                      team_id: str | None = None) -> GameStatusView:
        ctx = self.captain_context(actor, team_id, "schedule games")
        game_id = new_id()
        result = self._dispatch(actor, game.ScheduleGame(
            game_id=game_id, team_id=ctx.team.team_id, starts_at=starts_at,
            location=clean_text(location, "location", MAX_PLACE) if location else None,
            opponent=clean_text(opponent, "opponent", MAX_NAME) if opponent else None,
            original_text=original_text))
        self._catch_up(result.position, ("schedule",))
        found = self._read(schedule.game, game_id)
        assert found is not None
        return GameStatusView(team=ctx.team, game=found, board=None)

    def reschedule_game(self, actor: Actor, ref: str, starts_at: datetime, *,
                        original_text: str | None = None,
                        team_id: str | None = None) -> GameStatusView:
        ctx = self.captain_context(actor, team_id, "reschedule games")
        found = self.game(ctx, ref)
        result = self._dispatch(actor, game.RescheduleGame(
            game_id=found.game_id, starts_at=starts_at, original_text=original_text))
        self._catch_up(result.position, ("schedule",))
        return self._status_of(ctx, found.game_id)

    def cancel_game(self, actor: Actor, ref: str, reason: str | None = None,
                    team_id: str | None = None) -> GameStatusView:
        ctx = self.captain_context(actor, team_id, "cancel games")
        found = self.game(ctx, ref)
        result = self._dispatch(actor, game.CancelGame(
            game_id=found.game_id, reason=clean_text(reason, "reason", MAX_REASON) if reason
            else None))
        self._catch_up(result.position, ("schedule",))
        return self._status_of(ctx, found.game_id)

    def start_check(self, actor: Actor, ref: str = "next",
                    team_id: str | None = None) -> GameStatusView:
        ctx = self.captain_context(actor, team_id, "start attendance checks")
        found = self.game(ctx, ref)
        self.start_check_for(actor, found.game_id, found.team_id)
        return self._status_of(ctx, found.game_id)

    def start_check_for(self, actor: Actor, game_id: str, team_id: str) -> DispatchResult:
        """Start a game's check (one per game, so its id is the game's): idempotent."""
        result = self._dispatch(actor, game.CheckAttendance(game_id=game_id, team_id=team_id,
                                                            check_id=game_id))
        self._catch_up(result.position, ("schedule",))
        # The process manager snapshots the roster and opens the check a moment later.
        self._wait_until(lambda: self._read(boards.board, game_id) is not None)
        return result

    def remind(self, actor: Actor, ref: str = "next", team_id: str | None = None,
               key: str | None = None) -> GameStatusView:
        ctx = self.captain_context(actor, team_id, "send reminders")
        found = self.game(ctx, ref)
        if found.check_id is None:
            raise no_check_yet(found)
        # A captain's reminder gets its own key: each press reminds once.
        result = self._dispatch(actor, check.RemindNonResponders(
            check_id=found.check_id, reminder_key=key or f"manual:{new_id()[:12]}"))
        self._catch_up(result.position, ("board",))
        return self._status_of(ctx, found.game_id)

    def set_deadline(self, actor: Actor, ref: str, deadline: datetime,
                     team_id: str | None = None) -> GameStatusView:
        """Close a game's answers at ``deadline`` rather than at its start (the start still
        closes them if it comes first)."""
        ctx = self.captain_context(actor, team_id, "set answer deadlines")
        found = self.game(ctx, ref)
        if found.check_id is None:
            raise no_check_yet(found)
        try:
            result = self._dispatch(actor, check.SetAnswerDeadline(check_id=found.check_id,
                                                                   deadline=deadline))
        except DomainError as error:
            raise deadline_refused(error, found) from None
        self._catch_up(result.position, ("board",))
        return self._status_of(ctx, found.game_id)

    def clear_deadline(self, actor: Actor, ref: str,
                       team_id: str | None = None) -> GameStatusView:
        """Answers for a game close at its start again."""
        ctx = self.captain_context(actor, team_id, "clear answer deadlines")
        found = self.game(ctx, ref)
        if found.check_id is None:
            raise no_check_yet(found)
        try:
            result = self._dispatch(actor, check.ClearAnswerDeadline(check_id=found.check_id))
        except DomainError as error:
            raise deadline_refused(error, found, "clear") from None
        self._catch_up(result.position, ("board",))
        return self._status_of(ctx, found.game_id)

    # The scheduler's door: the time came, no person asked. Each command is idempotent.
    def start_check_by_schedule(self, game_id: str, team_id: str) -> DispatchResult:
        return self.start_check_for(SCHEDULER, game_id, team_id)

    def start_game(self, game_id: str) -> DispatchResult:
        return self._dispatch(SCHEDULER, game.StartGame(game_id=game_id))

    def end_game(self, game_id: str) -> DispatchResult:
        return self._dispatch(SCHEDULER, game.EndGame(game_id=game_id))

    def remind_by_schedule(self, check_id: str, key: str) -> DispatchResult:
        return self._dispatch(SCHEDULER, check.RemindNonResponders(
            check_id=check_id, reminder_key=key))

    def alert_if_below_minimum(self, check_id: str, key: str) -> DispatchResult:
        """Tell the captains if fewer than the team's minimum said yes (once per ``key``)."""
        return self._dispatch(SCHEDULER, check.AlertIfBelowMinimum(check_id=check_id, key=key))

    def ask_reserves(self, check_id: str, key: str) -> DispatchResult:
        """Ask the team's reserves if the check is still below its minimum (once per
        ``key``)."""
        return self._dispatch(SCHEDULER, check.AskReserves(check_id=check_id, key=key))

    def close_at_deadline(self, check_id: str, deadline: datetime) -> DispatchResult:
        """Close a check's answers at the captain's deadline."""
        return self._dispatch(SCHEDULER, check.CloseAtDeadline(check_id=check_id,
                                                               deadline=deadline))

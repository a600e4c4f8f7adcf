"""Requests about series of games: schedule one, move or cancel the games it has left, list.

The rule is expanded here (core/recurrence.py), in the team's zone, and the series records
its games with their instants; the series manager then schedules, moves or cancels each game,
and a request waits until the schedule shows that before it answers."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, time

from core.actors import Actor
from core.aggregates.game import GameStatus
from core.aggregates.series import (
    SERIES,
    CancelSeries,
    Recurrence,
    RescheduleSeries,
    ScheduleSeries,
    SeriesGame,
    SeriesState,
)
from core.errors import DomainError, Refusal
from core.limits import MAX_NAME, MAX_PLACE, MAX_REASON
from core.projections import series as series_model
from core.projections.roster import TeamView
from core.projections.schedule import GameView
from core.projections.series import SeriesView
from core.recurrence import game_times, moved
from core.router import new_id
from core.service.base import ServiceBase
from core.service.refusals import clean_text
from core.service.views import Context


@dataclass(frozen=True, kw_only=True, slots=True)
class SeriesStatusView:
    team: TeamView
    series: SeriesView
    games: list[GameView]  # every game of the series, by start time


class SeriesRequests(ServiceBase):
    """Series requests: captains schedule, move and cancel; anyone on the team lists."""

    def schedule_series(self, actor: Actor, *, weekday: int, at: time, first_day: date,
                        last_day: date | None = None, games: int | None = None,
                        every_weeks: int = 1, location: str | None = None,
                        opponent: str | None = None, original_text: str | None = None,
                        team_id: str | None = None) -> SeriesStatusView:
        """A game every ``every_weeks`` weeks on ``weekday`` at ``at`` (the team's time),
        from the first such day on or after ``first_day`` until ``last_day`` or for
        ``games`` games."""
        ctx = self.captain_context(actor, team_id, "schedule games")
        rule = Recurrence(weekday=weekday, hour=at.hour, minute=at.minute,
                                 timezone=ctx.team.timezone, first_day=first_day,
                                 every_weeks=every_weeks, last_day=last_day, count=games)
        planned = tuple(SeriesGame(game_id=new_id(), starts_at=starts_at)
                        for starts_at in game_times(rule))
        series_id = new_id()
        self._dispatch(actor, ScheduleSeries(
            series_id=series_id, team_id=ctx.team.team_id, rule=rule, games=planned,
            location=clean_text(location, "location", MAX_PLACE) if location else None,
            opponent=clean_text(opponent, "opponent", MAX_NAME) if opponent else None,
            original_text=original_text))
        wanted = {g.game_id: g.starts_at for g in planned}
        return self._settled(ctx, series_id, lambda games: {
            g.game_id: g.starts_at for g in games} == wanted)

    def reschedule_series(self, actor: Actor, ref: str, *, weekday: int | None = None,
                          at: time | None = None, original_text: str | None = None,
                          team_id: str | None = None) -> SeriesStatusView:
        """Move the series' games still to play to another weekday and/or time of day."""
        ctx = self.captain_context(actor, team_id, "reschedule games")
        found = self.series(ctx, ref)
        rule = self._rule(found)
        left = self._to_play(found)
        new_rule, times = moved(rule, [g.starts_at for g in left], weekday=weekday, at=at)
        now = self._clock()
        for game_view, starts_at in zip(left, times, strict=True):
            if starts_at <= now:
                raise DomainError(Refusal.START_IN_PAST, (
                    f"{game_view.handle} would move to a time that has passed. Move or cancel "
                    f"{game_view.handle} alone first (/attend reschedule {game_view.handle} "
                    "...), then the series."))
        # Only the games whose time changes (one moved alone may be there already).
        moves = tuple(SeriesGame(game_id=g.game_id, starts_at=t)
                      for g, t in zip(left, times, strict=True) if t != g.starts_at)
        self._dispatch(actor, RescheduleSeries(series_id=found.series_id, rule=new_rule,
                                                      games=moves, original_text=original_text))
        wanted = {m.game_id: m.starts_at for m in moves}
        return self._settled(ctx, found.series_id, lambda games: all(
            wanted.get(g.game_id, g.starts_at) == g.starts_at for g in games))

    def cancel_series(self, actor: Actor, ref: str, reason: str | None = None,
                      team_id: str | None = None) -> SeriesStatusView:
        """Cancel the series' games still to play; those played stay as they were."""
        ctx = self.captain_context(actor, team_id, "cancel games")
        found = self.series(ctx, ref)
        if found.cancelled:
            raise DomainError(Refusal.SERIES_CANCELLED, f"{found.handle} was cancelled already.")
        left = [g.game_id for g in self._to_play(found)]
        self._dispatch(actor, CancelSeries(
            series_id=found.series_id, game_ids=tuple(left),
            reason=clean_text(reason, "reason", MAX_REASON) if reason else None))
        return self._settled(ctx, found.series_id, lambda games: all(
            g.status is GameStatus.CANCELLED for g in games if g.game_id in left))

    def series_list(self, actor: Actor, team_id: str | None = None) -> tuple[
            TeamView, list[SeriesView]]:
        """The team's series with games still to play."""
        ctx = self.context(actor, team_id)
        found = self._read(series_model.series_of_team, ctx.team.team_id)
        return ctx.team, [s for s in found if not s.cancelled and s.to_play]

    def series(self, ctx: Context, ref: str) -> SeriesView:
        """A series by handle (``S1``)."""
        found = self._read(series_model.series_by_handle, ctx.team.team_id, ref)
        if found is None:
            raise DomainError(Refusal.UNKNOWN_SERIES, f"There's no series {ref.strip().upper()}"
                              f" on {ctx.team.name}'s schedule. /attend games lists them.")
        return found

    def _to_play(self, found: SeriesView) -> list[GameView]:
        now = self._clock()
        left = [g for g in self._read(series_model.games_of_series, found.series_id)
                if g.status is GameStatus.SCHEDULED and g.starts_at > now]
        if not left:
            raise DomainError(Refusal.SERIES_OVER, f"Every game of {found.handle} has been "
                              "played or cancelled; there's none left to change.")
        return left

    def _rule(self, found: SeriesView) -> Recurrence:
        _version, state = self._router.state_of(SERIES, found.series_id)
        assert isinstance(state, SeriesState) and state.rule is not None
        return state.rule

    def _settled(self, ctx: Context, series_id: str,
                 done: Callable[[list[GameView]], bool]) -> SeriesStatusView:
        """Once the series manager's commands show in the schedule (``done``), the series."""
        def games() -> list[GameView]:
            return self._read(series_model.games_of_series, series_id)

        self._wait_until(lambda: bool(found := games()) and done(found))
        found = next(s for s in self._read(series_model.series_of_team, ctx.team.team_id)
                     if s.series_id == series_id)
        return SeriesStatusView(team=ctx.team, series=found, games=games())


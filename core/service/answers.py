"""Answering: in chat or the console, by an email link, or by a captain for a player."""

from __future__ import annotations

from collections.abc import Callable

from core.actors import Actor
from core.aggregates import check
from core.aggregates.common import Answer, AnswerSource
from core.errors import DomainError
from core.limits import MAX_NOTE
from core.projections import board as boards
from core.projections import schedule
from core.projections.roster import PlayerView, TeamView
from core.projections.schedule import GameView
from core.service.queries import Queries
from core.service.refusals import (
    clean_text,
    friendlier,
    no_check_yet,
    no_longer_invited,
    unknown_check,
)
from core.service.views import AnswerResult


class AnswerRequests(Queries):
    """A player answering for themself, in chat, the console or by an email link; a captain
    answering for a player."""

    def answer(self, actor: Actor, answer: Answer, *, ref: str = "next",
               note: str | None = None, on_behalf_of: str | None = None,
               team_id: str | None = None) -> AnswerResult:
        with self._one_connection():
            ctx = self.context(actor, team_id)
            found = self.game(ctx, ref)
        target, source = ctx.player, actor.answer_source
        if on_behalf_of is not None:
            self._refuse_unless_captain(ctx, "answer for someone else")
            target, source = self.find_player(ctx, on_behalf_of), AnswerSource.CAPTAIN
        if found.check_id is None:
            raise no_check_yet(found)
        return self._record(actor, ctx.team, found, target, answer, note, source)

    def answer_by_link(self, check_id: str, player_id: str, answer: Answer,
                       note: str | None = None) -> AnswerResult:
        invitation = self.invitation(check_id, player_id)
        if invitation.player is None:
            raise no_longer_invited()
        return self._record(Actor.player(invitation.team.team_id, player_id), invitation.team,
                            invitation.game, invitation.player, answer, note,
                            AnswerSource.EMAIL)

    def answer_in_check(self, actor: Actor, check_id: str, answer: Answer, *,
                        recorded: Callable[[], None] | None = None) -> AnswerResult:
        """A tap on a button in a DM. The button names the check; who answers is whoever
        the platform says tapped, never a value the button carries. ``recorded`` is called
        as soon as the answer is in the log, before the board is read to show it (a
        platform can be told the tap was received then)."""
        found_board = self._read(boards.board, check_id, with_history=False)
        if found_board is None:
            raise unknown_check("message")
        with self._one_connection():
            ctx = self.context(actor, found_board.team_id)
            found_game = self._read(schedule.game, found_board.game_id)
        assert found_game is not None
        return self._record(actor, ctx.team, found_game, ctx.player, answer, None,
                            actor.answer_source, recorded=recorded)

    def _record(self, actor: Actor, team_view: TeamView, found: GameView, target: PlayerView,
                answer: Answer, note: str | None, source: AnswerSource, *,
                recorded: Callable[[], None] | None = None) -> AnswerResult:
        assert found.check_id is not None
        note = clean_text(note, "note", MAX_NOTE) if note else None
        try:
            result = self._dispatch(actor, check.RecordAnswer(
                check_id=found.check_id, player_id=target.player_id, answer=answer, note=note,
                source=source))
        except DomainError as error:
            raise friendlier(error, found, self._clock()) from None
        if recorded is not None:
            recorded()
        self._catch_up(result.position, ("board",))
        found_board = self._read(boards.board, found.check_id, with_history=False)
        assert found_board is not None
        return AnswerResult(team=team_view, game=found, player=target, answer=answer,
                            changed=result.changed, board=found_board)

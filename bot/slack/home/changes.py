"""What changed that a Home shows, noted by a handler that follows the log.

A Home stays as Attend last published it, so it must be published again whenever something
it shows changes. :class:`HomeChanges` runs in the handler runtime like the read models, so
a change made anywhere (an email answer, the console, a captain, a tap, another ``attend
serve``) is seen; :func:`stale_homes` turns what it noted into the Homes to publish.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from sqlalchemy import Connection

from bot.slack.home.opened import HomeViews
from core.aggregates.check import (
    AnswerRecorded,
    CheckClosed,
    CheckMoved,
    CheckOpened,
    InvitationWithdrawn,
    PlayerInvited,
    PlayerPromoted,
    PlayerWaitlisted,
)
from core.aggregates.game import GameCancelled, GameEnded, GameRescheduled, GameScheduled
from core.aggregates.team import CaptainAppointed, CaptainRelieved, PlayerJoinedTeam
from core.eventstore import HandlerTransaction, RecordedEvent
from core.projections import board as boards
from core.projections import roster, schedule


@dataclass(frozen=True, slots=True)
class Touch:
    """Something a Home shows changed: on a team, a check or a game; for one player (and
    the captains, who see the counts) or, with no player, for everyone on the team."""

    team_id: str | None = None
    check_id: str | None = None
    game_id: str | None = None
    player_id: str | None = None


def _touch(event: object) -> Touch | None:
    match event:
        case AnswerRecorded() | InvitationWithdrawn() | PlayerWaitlisted() | PlayerPromoted():
            return Touch(check_id=event.check_id, player_id=event.player_id)
        case PlayerInvited(check_id=check_id, invitee=invitee):
            return Touch(check_id=check_id, player_id=invitee.player_id)
        case CheckOpened(team_id=team_id) | GameScheduled(team_id=team_id):
            return Touch(team_id=team_id)
        case CheckClosed(check_id=check_id) | CheckMoved(check_id=check_id):
            return Touch(check_id=check_id)
        case GameRescheduled(game_id=game_id) | GameCancelled(game_id=game_id) | \
                GameEnded(game_id=game_id):
            return Touch(game_id=game_id)
        case PlayerJoinedTeam(team_id=team_id, player=player):
            return Touch(team_id=team_id, player_id=player.player_id)
        case CaptainAppointed(team_id=team_id, player_id=player_id) | \
                CaptainRelieved(team_id=team_id, player_id=player_id):
            return Touch(team_id=team_id, player_id=player_id)
    return None


class HomeChanges:
    """A handler (see core.runtime) that notes what changed; it writes nothing, so a batch
    handled twice only notes the same things twice."""

    name = "slack_home"
    events: frozenset[type] = frozenset({
        AnswerRecorded, InvitationWithdrawn, PlayerWaitlisted, PlayerPromoted, PlayerInvited,
        CheckOpened, CheckClosed, CheckMoved, GameScheduled, GameRescheduled, GameCancelled,
        GameEnded, PlayerJoinedTeam, CaptainAppointed, CaptainRelieved})

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._touched: set[Touch] = set()
        self._position = 0
        self._listeners: list[Callable[[], None]] = []

    def listen(self, listener: Callable[[], None]) -> Callable[[], None]:
        """Call ``listener()`` (from a handler thread) whenever something is noted; returns
        the function that stops it."""
        self._listeners = [*self._listeners, listener]  # copy on write: handle() iterates

        def stop() -> None:
            self._listeners = [known for known in self._listeners if known is not listener]
        return stop

    def handle(self, tx: HandlerTransaction, recorded: RecordedEvent) -> None:
        touch = _touch(recorded.event)
        if touch is None:
            return
        with self._lock:
            self._touched.add(touch)
            self._position = max(self._position, recorded.position)
        for listener in self._listeners:
            listener()

    def take(self) -> tuple[set[Touch], int]:
        """What changed since the last take, and the position of the latest change."""
        with self._lock:
            touched, self._touched = self._touched, set()
            return touched, self._position


def stale_homes(conn: Connection, touched: Iterable[Touch]) -> set[str]:
    """The Slack users (``<workspace>:<user>``) with a Home that shows something touched."""
    if not HomeViews.any(conn):
        return set()  # nobody opened one (a first start reading the whole log, say)
    wanted: set[str] = set()
    teams: dict[str, list[roster.PlayerView]] = {}
    team_of: dict[str, str | None] = {}  # check or game -> its team; a burst shares them
    for touch in touched:
        team_id = touch.team_id
        if team_id is None and touch.check_id is not None:
            if touch.check_id not in team_of:
                found_board = boards.board(conn, touch.check_id, with_history=False)
                team_of[touch.check_id] = found_board.team_id if found_board else None
            team_id = team_of[touch.check_id]
        if team_id is None and touch.game_id is not None:
            if touch.game_id not in team_of:
                found_game = schedule.game(conn, touch.game_id)
                team_of[touch.game_id] = found_game.team_id if found_game else None
            team_id = team_of[touch.game_id]
        if team_id is None:
            continue
        if team_id not in teams:
            teams[team_id] = roster.roster(conn, team_id)
        wanted.update(p.slack_user for p in teams[team_id] if p.slack_user and (
            touch.player_id is None or p.player_id == touch.player_id or p.captain))
    return HomeViews.among(conn, wanted)

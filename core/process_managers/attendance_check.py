"""AttendanceCheckManager: fans one attendance check out to the team, then follows the game.

``AttendanceCheckStarted`` -> ``RequestTeamAttendance`` -> ``TeamAttendanceRequested`` (the
roster snapshot) -> ``OpenCheck``. From then on the check counts as open *to this manager*,
even before ``CheckOpened`` is recorded: the runtime sends a handler's commands in the order
they were enqueued, so an ``InvitePlayer`` for someone who joined after the snapshot always
reaches the check behind its ``OpenCheck``. The team's reserves go to the check listed,
not invited (the check asks them when it is short), and so does a reserve who joins. Joins
and leaves recorded before the snapshot are in it already, so they send nothing. A game that
starts, ends or is cancelled closes its check; one that does so before the roster arrives
never opens it. ``CheckClosed``, whoever asked for
it, ends the instance.

State, per handler key (JSON):
- ``check:<check_id>``: a :class:`CheckProcess` (game, team, start time, phase);
- ``team:<team_id>``: ``{"checks": [...]}``, the team's live checks, oldest first;
- ``game:<game_id>``: ``{"check_id": ...}``, the game's live check.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from core.aggregates import check, game, team
from core.aggregates.common import Invitee
from core.codec import decoder_for, encoder_for
from core.eventstore import HandlerTransaction, RecordedEvent
from core.runtime import derived_command_id


class Phase(enum.StrEnum):
    REQUESTING = "requesting"  # RequestTeamAttendance sent; waiting for the roster snapshot
    OPEN = "open"  # OpenCheck sent: every later command for the check queues behind it
    CLOSING = "closing"  # CloseCheck sent; waiting for CheckClosed


@dataclass(frozen=True, kw_only=True, slots=True)
class CheckProcess:
    check_id: str
    game_id: str
    team_id: str
    starts_at: datetime
    phase: Phase


_encode: Callable[[CheckProcess], dict[str, Any]] = encoder_for(CheckProcess)
_decode: Callable[[dict[str, Any]], CheckProcess] = decoder_for(CheckProcess)


class AttendanceCheckManager:
    name = "attendance_check_manager"
    sends_commands = True  # the runtime sends what it enqueues
    events: frozenset[type] = frozenset({
        game.AttendanceCheckStarted, game.GameRescheduled, game.GameStarted, game.GameEnded,
        game.GameCancelled, team.TeamAttendanceRequested, team.PlayerJoinedTeam,
        team.PlayerLeftTeam, check.CheckClosed,
    })

    def handle(self, tx: HandlerTransaction, recorded: RecordedEvent) -> None:
        run = _Instances(tx, recorded)
        match recorded.event:
            case game.AttendanceCheckStarted() as started:
                run.start(CheckProcess(check_id=started.check_id, game_id=started.game_id,
                                       team_id=started.team_id, starts_at=started.starts_at,
                                       phase=Phase.REQUESTING))
            case team.TeamAttendanceRequested() as roster:
                run.open(roster)
            case team.PlayerJoinedTeam(team_id=team_id, player=player, reserve=reserve):
                invitee = Invitee(player_id=player.player_id, name=player.name)
                for check_id in run.open_checks(team_id):
                    run.send(check.InvitePlayer(check_id=check_id, invitee=invitee,
                                                reserve=reserve))
            case team.PlayerLeftTeam(team_id=team_id, player_id=player_id):
                for check_id in run.open_checks(team_id):
                    run.send(check.WithdrawInvitation(check_id=check_id, player_id=player_id))
            case game.GameRescheduled(game_id=game_id, starts_at=starts_at):
                run.move(game_id, starts_at)
            case game.GameStarted(game_id=game_id):
                run.close(game_id, "game started")
            case game.GameEnded(game_id=game_id):
                run.close(game_id, "game ended")
            case game.GameCancelled(game_id=game_id, reason=reason):
                run.close(game_id, f"game cancelled: {reason}" if reason else "game cancelled")
            case check.CheckClosed(check_id=check_id):
                process = run.load(check_id)
                if process is not None:
                    run.finish(process)


class _Instances:
    """The manager's instances as seen while handling one event, and that event's outbox."""

    def __init__(self, tx: HandlerTransaction, recorded: RecordedEvent) -> None:
        self._tx = tx
        self._recorded = recorded
        self._sent = 0

    def send(self, command: Any) -> None:
        # The n-th command caused by an event has the same id on every replay: resends dedupe.
        meta = self._recorded.metadata
        self._tx.enqueue(command, command_id=derived_command_id(self._recorded, self._sent),
                         correlation_id=meta.correlation_id, causation_id=meta.event_id)
        self._sent += 1

    def start(self, process: CheckProcess) -> None:
        self._save(process)
        self._tx.save_state(f"game:{process.game_id}", {"check_id": process.check_id})
        checks = self._team_checks(process.team_id)
        if process.check_id not in checks:
            self._save_team_checks(process.team_id, [*checks, process.check_id])
        self.send(team.RequestTeamAttendance(team_id=process.team_id, check_id=process.check_id,
                                             game_id=process.game_id))

    def open(self, roster: team.TeamAttendanceRequested) -> None:
        process = self.load(roster.check_id)
        if process is None or process.phase is not Phase.REQUESTING:
            return  # the game went away before the roster came, or a replayed snapshot
        self._save(replace(process, phase=Phase.OPEN))
        self.send(check.OpenCheck(check_id=process.check_id, game_id=process.game_id,
                                  team_id=process.team_id, starts_at=process.starts_at,
                                  invitees=roster.invitees, min_players=roster.min_players,
                                  max_players=roster.max_players, reserves=roster.reserves))

    def move(self, game_id: str, starts_at: datetime) -> None:
        process = self._of_game(game_id)
        if process is None or process.phase is Phase.CLOSING:
            return
        self._save(replace(process, starts_at=starts_at))  # OpenCheck, if still to come, uses it
        if process.phase is Phase.OPEN:
            self.send(check.MoveCheck(check_id=process.check_id, starts_at=starts_at))

    def close(self, game_id: str, reason: str) -> None:
        process = self._of_game(game_id)
        if process is None or process.phase is Phase.CLOSING:
            return
        if process.phase is Phase.REQUESTING:
            self.finish(process)  # never opened, and now never will be
            return
        self._save(replace(process, phase=Phase.CLOSING))
        self.send(check.CloseCheck(check_id=process.check_id, reason=reason))

    def finish(self, process: CheckProcess) -> None:
        self._tx.save_state(f"check:{process.check_id}", None)
        self._tx.save_state(f"game:{process.game_id}", None)
        checks = self._team_checks(process.team_id)
        self._save_team_checks(process.team_id, [c for c in checks if c != process.check_id])

    def load(self, check_id: str) -> CheckProcess | None:
        state = self._tx.load_state(f"check:{check_id}")
        return None if state is None else _decode(state)

    def open_checks(self, team_id: str) -> list[str]:
        return [c for c in self._team_checks(team_id)
                if (p := self.load(c)) is not None and p.phase is Phase.OPEN]

    def _save(self, process: CheckProcess) -> None:
        self._tx.save_state(f"check:{process.check_id}", _encode(process))

    def _of_game(self, game_id: str) -> CheckProcess | None:
        index = self._tx.load_state(f"game:{game_id}")
        return None if index is None else self.load(index["check_id"])

    def _team_checks(self, team_id: str) -> list[str]:
        index = self._tx.load_state(f"team:{team_id}")
        return [] if index is None else list(index["checks"])

    def _save_team_checks(self, team_id: str, checks: list[str]) -> None:
        self._tx.save_state(f"team:{team_id}", {"checks": checks} if checks else None)

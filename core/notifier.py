"""The notifier: turns events into delivery jobs, one per recipient and message, exactly once.

It is a handler like a projection: the jobs it writes to ``deliveries`` (see
:mod:`core.deliveries`) commit with its checkpoint, and each job is unique on ``(scope,
recipient_id, message_key)``, so a replay or a rebuild inserts nothing new. Sending is the
delivery worker's business (``bot/delivery/``): it claims due jobs, sends them and records
the outcome on the job row and as check events.

Who is invited to a check and who captains a team are read from the notifier's own small
state (kept from events in ``handler_state``), never from the read models, which may be ahead
of or behind this handler: the jobs an event makes depend on the log up to that event only.

Events -> jobs (``scope`` is the check id):
- ``PlayerInvited`` -> invitation, key ``invite``;
- ``RemindersRequested`` -> reminder to each listed player, ``remind:<reminder key>``;
- ``GameCancelled`` / ``GameRescheduled`` -> cancellation / reschedule to every current
  invitee of the game's check, ``cancel`` / ``reschedule:<new start, ISO>``;
- ``PlayerPromoted`` / ``PlayerWaitlisted`` -> that player, ``promoted:<pos>`` /
  ``waitlisted:<pos>`` (``pos``: the event's global position, the same on every replay);
- ``CheckBelowMinimum`` / ``LateDropOut`` -> each captain, ``alert:below_minimum:<pos>`` /
  ``alert:late_dropout:<pos>``;
- reserves: ``PlayerInvited`` with ``reserve`` -> reserve invitation, ``invite``;
  ``ReservesReleased`` -> each released reserve, ``released``; ``ReserveSteppedIn`` -> each
  captain, ``alert:stepped_in:<pos>``;
- ``DeliveryFailed`` (recorded by the worker when a channel refused for good, or when it gave
  up retrying) -> the player joins the check's trouble report to each captain
  (:mod:`core.trouble`): one message about every player who could not be reached, once per
  player and check. The worker adds players that nothing reaches to the same report.
A captain is not alerted about themselves.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from core.aggregates import check, game, team
from core.deliveries import NewJob, add_jobs
from core.eventstore import HandlerTransaction, RecordedEvent
from core.notifications import NotificationKind as Kind
from core.trouble import Trouble, report_trouble

CHUNK = 64  # invitees per state row


class Notifier:
    name = "notifier"
    events: frozenset[type] = frozenset({
        check.CheckOpened, check.PlayerInvited, check.InvitationWithdrawn,
        check.RemindersRequested, check.PlayerPromoted, check.PlayerWaitlisted,
        check.CheckBelowMinimum, check.LateDropOut, check.DeliveryFailed,
        check.ReservesReleased, check.ReserveSteppedIn,
        game.GameCancelled, game.GameRescheduled,
        team.TeamRegistered, team.CaptainAppointed, team.CaptainRelieved,
        team.TeamChannelBound, team.TeamChannelUnbound, team.TeamSettingsChanged,
    })

    def __init__(self) -> None:
        self._tx: HandlerTransaction | None = None
        self._wrote_jobs = False  # in the current transaction
        self._on_jobs: list[Callable[[], None]] = []
        self._cache: dict[str, dict[str, Any] | None] = {}
        self._unsaved: set[str] = set()  # states changed in _cache, to write at the end

    def handle_all(self, tx: HandlerTransaction, batch: list[RecordedEvent]) -> None:
        """A batch, writing each state it changed once and every job in one statement: a
        check opening for the whole team is one write per chunk of invitees, not one per
        invitee."""
        self._begin(tx)
        rows: list[NewJob] = []
        for recorded in batch:
            rows += self._handle(tx, recorded)
        self._end(tx, rows)

    def handle(self, tx: HandlerTransaction, recorded: RecordedEvent) -> None:
        self._begin(tx)
        self._end(tx, self._handle(tx, recorded))

    def on_jobs(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` once jobs it wrote are committed: this process's delivery
        workers look at once, not at their next poll."""
        self._on_jobs.append(callback)

    def committed(self) -> None:
        if self._wrote_jobs:
            self._wrote_jobs = False
            for callback in self._on_jobs:
                callback()

    def _begin(self, tx: HandlerTransaction) -> None:
        if tx is not self._tx:  # states read in an earlier (maybe rolled back) transaction
            self._tx, self._cache, self._unsaved = tx, {}, set()
            self._wrote_jobs = False

    def _end(self, tx: HandlerTransaction, rows: list[NewJob]) -> None:
        for key in sorted(self._unsaved):
            tx.save_state(key, self._cache[key])
        self._unsaved.clear()
        add_jobs(tx.connection, rows)
        self._wrote_jobs = self._wrote_jobs or bool(rows)

    def _handle(self, tx: HandlerTransaction, recorded: RecordedEvent) -> list[NewJob]:
        jobs = _Jobs(recorded)
        match recorded.event:
            case check.CheckOpened() as e:
                self._save(f"check:{e.check_id}", {"game_id": e.game_id, "team_id": e.team_id,
                                                   "chunks": 0})
                self._save(f"game:{e.game_id}", {"check_id": e.check_id})
            case check.PlayerInvited(check_id=check_id, invitee=invitee) as e:
                self._add_invitee(check_id, invitee.player_id, invitee.name)
                if e.reserve or not self._channel_only(e.team_id):  # reserves: never by channel
                    jobs.add(Kind.RESERVE_INVITATION if e.reserve else Kind.INVITATION,
                             e.team_id, e.game_id, check_id, invitee.player_id, "invite", {})
            case check.InvitationWithdrawn(check_id=check_id, player_id=player_id):
                self._remove_invitee(check_id, player_id)
            case check.RemindersRequested(check_id=check_id, reminder_key=key, player_ids=ids):
                for_check = self._check(check_id)
                for player_id in ids:
                    jobs.to_player(Kind.REMINDER, for_check, player_id, f"remind:{key}")
            case check.PlayerPromoted(check_id=check_id, player_id=player_id):
                jobs.to_player(Kind.WAITLIST_PROMOTION, self._check(check_id), player_id,
                               f"promoted:{recorded.position}")
            case check.PlayerWaitlisted(check_id=check_id, player_id=player_id) as e:
                jobs.to_player(Kind.WAITLISTED, self._check(check_id), player_id,
                               f"waitlisted:{recorded.position}",
                               {"waitlist_position": e.position})
            case check.CheckBelowMinimum(check_id=check_id) as e:
                self._alert(jobs, Kind.CAPTAIN_BELOW_MINIMUM, check_id, None,
                            f"alert:below_minimum:{recorded.position}",
                            {"yes_count": e.yes_count, "min_players": e.min_players})
            case check.LateDropOut(check_id=check_id, player_id=player_id) as e:
                self._alert(jobs, Kind.CAPTAIN_LATE_DROPOUT, check_id, player_id,
                            f"alert:late_dropout:{recorded.position}",
                            {"answer": e.answer and e.answer.value,
                             "hours_before_start": e.hours_before_start})
            case check.DeliveryFailed(check_id=check_id, player_id=player_id) as e:
                for_check = self._check(check_id)
                if for_check.team_id:
                    report_trouble(tx.connection, Trouble(
                        check_id=check_id, team_id=for_check.team_id,
                        game_id=for_check.game_id, player_id=player_id,
                        player_name=self._invitees(check_id).get(player_id),
                        reason=e.reason, channel=e.channel.value, message_key=e.message_key,
                        position=recorded.position),
                        captains=self._captains(for_check.team_id),
                        now=recorded.metadata.recorded_at)
            case check.ReservesReleased(check_id=check_id, player_ids=ids):
                for_check = self._check(check_id)
                for player_id in ids:
                    jobs.to_player(Kind.RESERVE_RELEASED, for_check, player_id, "released")
                    self._remove_invitee(check_id, player_id)  # not told of later changes
            case check.ReserveSteppedIn(check_id=check_id, player_id=player_id) as e:
                self._alert(jobs, Kind.CAPTAIN_RESERVE_STEPPED_IN, check_id, player_id,
                            f"alert:stepped_in:{recorded.position}",
                            {"yes_count": e.yes_count, "min_players": e.min_players})
            case game.GameCancelled(game_id=game_id):
                self._to_invitees(jobs, Kind.CANCELLATION, game_id, "cancel", {})
            case game.GameRescheduled(game_id=game_id) as e if not self._game_channel_only(
                    game_id):
                self._to_invitees(jobs, Kind.RESCHEDULE, game_id,
                                  f"reschedule:{e.starts_at.isoformat()}",
                                  {"previous_starts_at": e.previous_starts_at.isoformat(),
                                   "starts_at": e.starts_at.isoformat()})
            case team.TeamRegistered(team_id=team_id):
                self._save(f"team:{team_id}", {"captains": []})
            case team.CaptainAppointed(team_id=team_id, player_id=player_id):
                captains = self._captains(team_id)
                self._save(f"team:{team_id}", {"captains": [*captains, player_id]})
            case team.CaptainRelieved(team_id=team_id, player_id=player_id):
                captains = [c for c in self._captains(team_id) if c != player_id]
                self._save(f"team:{team_id}", {"captains": captains})
            # A team with a channel and DMs off: invitations and new times are posted in the
            # channel only (reminders and the rest still go to each player).
            case team.TeamChannelBound(team_id=team_id) | team.TeamChannelUnbound(
                    team_id=team_id) as e:
                self._save_team(team_id, bound=isinstance(e, team.TeamChannelBound))
            case team.TeamSettingsChanged(team_id=team_id, settings=settings):
                self._save_team(team_id, dms=settings.dms)
        return jobs.rows

    # -- the notifier's state -------------------------------------------------------------------
    def _load(self, key: str) -> dict[str, Any] | None:
        if key not in self._cache:
            assert self._tx is not None
            self._cache[key] = self._tx.load_state(key)
        return self._cache[key]

    def _save(self, key: str, state: dict[str, Any] | None) -> None:
        self._cache[key] = state
        self._unsaved.add(key)

    def _check(self, check_id: str) -> _CheckInfo:
        state = self._load(f"check:{check_id}") or {}
        return _CheckInfo(check_id, state.get("team_id", ""), state.get("game_id"))

    # A check's invitees are kept in chunks of CHUNK [player id, name] pairs (pairs, as JSONB
    # does not keep the order of an object's keys): inviting one more rewrites one small row,
    # not the whole list, so a big team's fan-out stays linear.
    def _add_invitee(self, check_id: str, player_id: str, name: str) -> None:
        state = self._load(f"check:{check_id}")
        if state is None:
            return
        chunks = state["chunks"]
        last = self._load(f"check:{check_id}:{chunks - 1}") if chunks else None
        if last is None or len(last["invitees"]) >= CHUNK:
            self._save(f"check:{check_id}", {**state, "chunks": chunks + 1})
            self._save(f"check:{check_id}:{chunks}", {"invitees": [[player_id, name]]})
        else:
            self._save(f"check:{check_id}:{chunks - 1}",
                       {"invitees": [*last["invitees"], [player_id, name]]})

    def _remove_invitee(self, check_id: str, player_id: str) -> None:
        state = self._load(f"check:{check_id}")
        for i in range(state["chunks"] if state else 0):
            chunk = self._load(f"check:{check_id}:{i}") or {"invitees": []}
            kept = [pair for pair in chunk["invitees"] if pair[0] != player_id]
            if len(kept) != len(chunk["invitees"]):
                self._save(f"check:{check_id}:{i}", {"invitees": kept})
                return

    def _invitees(self, check_id: str) -> dict[str, str]:
        """Player id -> name, in invitation order."""
        state = self._load(f"check:{check_id}")
        return {player_id: name for i in range(state["chunks"] if state else 0)
                for player_id, name in (self._load(f"check:{check_id}:{i}") or {})["invitees"]}

    def _captains(self, team_id: str) -> list[str]:
        state = self._load(f"team:{team_id}")
        return [] if state is None else list(state["captains"])

    def _save_team(self, team_id: str, **changes: bool) -> None:
        state = self._load(f"team:{team_id}") or {"captains": []}
        self._save(f"team:{team_id}", {**state, **changes})

    def _channel_only(self, team_id: str) -> bool:
        state = self._load(f"team:{team_id}") or {}
        return bool(state.get("bound")) and state.get("dms") is False

    def _game_channel_only(self, game_id: str) -> bool:
        index = self._load(f"game:{game_id}")
        return index is not None and self._channel_only(self._check(index["check_id"]).team_id)

    def _to_invitees(self, jobs: _Jobs, kind: Kind, game_id: str, key: str,
                     details: dict[str, Any]) -> None:
        index = self._load(f"game:{game_id}")
        if index is None:
            return  # no check was opened: nobody was asked, nobody needs telling
        for_check = self._check(index["check_id"])
        for player_id in self._invitees(for_check.check_id):
            jobs.to_player(kind, for_check, player_id, key, details)

    def _alert(self, jobs: _Jobs, kind: Kind, check_id: str, about: str | None, key: str,
               details: dict[str, Any]) -> None:
        for_check = self._check(check_id)
        if about is not None:
            details = {"player_id": about,
                       "player_name": self._invitees(check_id).get(about), **details}
        for captain in self._captains(for_check.team_id):
            if captain != about:
                jobs.to_player(kind, for_check, captain, key, details)


@dataclass(frozen=True, slots=True)
class _CheckInfo:
    check_id: str
    team_id: str
    game_id: str | None


class _Jobs:
    """The jobs one event makes; due from the moment the event was recorded."""

    def __init__(self, recorded: RecordedEvent) -> None:
        self._at = recorded.metadata.recorded_at
        self._position = recorded.position
        self.rows: list[NewJob] = []

    def add(self, kind: Kind, team_id: str, game_id: str | None, check_id: str,
            recipient_id: str, key: str, details: Mapping[str, Any]) -> None:
        self.rows.append(NewJob(scope=check_id, recipient_id=recipient_id, message_key=key,
                                kind=kind, team_id=team_id, game_id=game_id,
                                check_id=check_id, details=details, not_before=self._at,
                                position=self._position))

    def to_player(self, kind: Kind, for_check: _CheckInfo, player_id: str, key: str,
                  details: Mapping[str, Any] | None = None) -> None:
        if for_check.team_id:  # an unknown check: its opening was never seen
            self.add(kind, for_check.team_id, for_check.game_id, for_check.check_id,
                     player_id, key, details or {})

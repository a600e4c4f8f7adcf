"""The notifier: turns events into delivery jobs, one per recipient and message, exactly once.

It is a handler like a projection: the jobs it writes to ``deliveries`` commit with its
checkpoint, and each job is unique on ``(scope, recipient_id, message_key)``, so a replay or a
rebuild inserts nothing new. Sending is the delivery worker's business (``bot/
delivery/``): it claims due jobs with :func:`claim_due`, sends them and records the outcome
with the ``mark_*`` functions (and, for player messages, as check events).

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
- ``DeliveryFailed`` (recorded by the worker when a channel refused for good, or when it gave
  up retrying) -> each captain, ``alert:reach:<player>``: once per player and check. The
  worker writes the same key, kind ``captain_unreachable``, when nothing reaches a player.
A captain is not alerted about themselves.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Connection,
    Index,
    Integer,
    MetaData,
    Row,
    String,
    Table,
    Text,
    UniqueConstraint,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import JSONB

from core.aggregates import check, game, team
from core.aggregates.common import Channel
from core.eventstore import HandlerTransaction, RecordedEvent
from core.notifications import NotificationKind as Kind
from core.projections.types import UtcDateTime

PENDING, DELIVERED, FAILED, SKIPPED = "pending", "delivered", "failed", "skipped"
CLAIM_LEASE = timedelta(minutes=5)  # a claim not resolved by then is taken up again
CHUNK = 64  # invitees per state row
_ID_NAMESPACE = uuid.UUID("0c6a3d1e-2f55-4a8e-b7a9-5d0f3c9e8b21")

metadata = MetaData()
deliveries = Table(
    "deliveries", metadata,
    Column("id", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True,
           autoincrement=True),
    Column("scope", String(200), nullable=False),  # the check id, or "team:<id>"
    Column("recipient_id", String(200), nullable=False),  # a player id
    Column("message_key", String(200), nullable=False),
    Column("kind", String(40), nullable=False),
    Column("team_id", String(200), nullable=False),
    Column("game_id", String(200)),
    Column("check_id", String(200)),
    Column("details", JSON().with_variant(JSONB(), "postgresql"), nullable=False),
    Column("position", BigInteger, nullable=False),  # of the event that asked for it
    Column("status", String(20), nullable=False),
    Column("attempts", Integer, nullable=False),  # failed sends so far
    Column("not_before", UtcDateTime, nullable=False),
    Column("owner", String(200)),  # the worker holding a claim; cleared when resolved
    Column("channel", String(20)),
    Column("last_error", Text),
    Column("reference", String(200)),  # the platform's message id
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    UniqueConstraint("scope", "recipient_id", "message_key", name="deliveries_message"),
    Index("deliveries_due", "status", "not_before"),
)


@dataclass(frozen=True, kw_only=True, slots=True)
class NewJob:
    scope: str
    recipient_id: str
    message_key: str
    kind: Kind
    team_id: str
    game_id: str | None
    check_id: str | None
    details: Mapping[str, Any]
    not_before: datetime
    position: int


@dataclass(frozen=True, kw_only=True, slots=True)
class Job:
    id: int
    scope: str
    recipient_id: str
    message_key: str
    kind: Kind
    team_id: str
    game_id: str | None
    check_id: str | None
    details: Mapping[str, Any]
    position: int
    status: str
    attempts: int
    not_before: datetime
    channel: Channel | None
    last_error: str | None
    reference: str | None
    created_at: datetime
    in_doubt: bool = False  # claimed before and never resolved: it may have been sent

    @property
    def delivery_id(self) -> str:
        """Stable across retries, restarts and rebuilds."""
        return delivery_id(self.scope, self.recipient_id, self.message_key)


def delivery_id(scope: str, recipient_id: str, message_key: str) -> str:
    return uuid.uuid5(_ID_NAMESPACE, f"{scope}\n{recipient_id}\n{message_key}").hex


class Notifier:
    name = "notifier"
    events: frozenset[type] = frozenset({
        check.CheckOpened, check.PlayerInvited, check.InvitationWithdrawn,
        check.RemindersRequested, check.PlayerPromoted, check.PlayerWaitlisted,
        check.CheckBelowMinimum, check.LateDropOut, check.DeliveryFailed,
        game.GameCancelled, game.GameRescheduled,
        team.TeamRegistered, team.CaptainAppointed, team.CaptainRelieved,
        team.TeamChannelBound, team.TeamChannelUnbound, team.TeamSettingsChanged,
    })

    def __init__(self) -> None:
        self._tx: HandlerTransaction | None = None
        self._cache: dict[str, dict[str, Any] | None] = {}

    def handle(self, tx: HandlerTransaction, recorded: RecordedEvent) -> None:
        if tx is not self._tx:  # states read in an earlier (maybe rolled back) transaction
            self._tx, self._cache = tx, {}
        jobs = _Jobs(recorded)
        match recorded.event:
            case check.CheckOpened() as e:
                self._save(f"check:{e.check_id}", {"game_id": e.game_id, "team_id": e.team_id,
                                                   "chunks": 0})
                self._save(f"game:{e.game_id}", {"check_id": e.check_id})
            case check.PlayerInvited(check_id=check_id, invitee=invitee) as e:
                self._add_invitee(check_id, invitee.player_id, invitee.name)
                if not self._channel_only(e.team_id):
                    jobs.add(Kind.INVITATION, e.team_id, e.game_id, check_id,
                             invitee.player_id, "invite", {})
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
                self._alert(jobs, Kind.CAPTAIN_DELIVERY_FAILED, check_id, player_id,
                            f"alert:reach:{player_id}",
                            {"channel": e.channel.value, "reason": e.reason,
                             "message_key": e.message_key})
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
        if jobs.rows:
            add_jobs(tx.connection, jobs.rows)

    # -- the notifier's state -------------------------------------------------------------------
    def _load(self, key: str) -> dict[str, Any] | None:
        if key not in self._cache:
            assert self._tx is not None
            self._cache[key] = self._tx.load_state(key)
        return self._cache[key]

    def _save(self, key: str, state: dict[str, Any] | None) -> None:
        assert self._tx is not None
        self._tx.save_state(key, state)
        self._cache[key] = state

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


# -- queries for the delivery worker -----------------------------------------------------------
def add_jobs(conn: Connection, jobs: Sequence[NewJob]) -> None:
    """Insert jobs; one already there (same scope, recipient and key) is left as it is."""
    if not jobs:
        return
    insert = sqlite.insert if conn.dialect.name == "sqlite" else postgresql.insert
    rows = [{
        "scope": j.scope, "recipient_id": j.recipient_id, "message_key": j.message_key,
        "kind": j.kind.value, "team_id": j.team_id, "game_id": j.game_id,
        "check_id": j.check_id, "details": dict(j.details), "position": j.position,
        "status": PENDING, "attempts": 0,
        "not_before": j.not_before, "created_at": j.not_before, "updated_at": j.not_before,
    } for j in jobs]
    conn.execute(insert(deliveries).on_conflict_do_nothing(
        index_elements=["scope", "recipient_id", "message_key"]), rows)


def claim_due(conn: Connection, *, now: datetime, limit: int, owner: str,
              lease: timedelta = CLAIM_LEASE) -> list[Job]:
    """Take up to ``limit`` pending jobs due at ``now`` for ``owner``, oldest first.

    A claim pushes ``not_before`` to ``now + lease``: if the owner never resolves the job
    (it crashed), it becomes due again then, marked ``in_doubt``. On PostgreSQL the rows are
    locked ``FOR UPDATE SKIP LOCKED``, so workers claiming at once never take the same job;
    SQLite has one writer at a time.
    """
    d = deliveries.c
    rows = conn.execute(
        select(deliveries).where(d.status == PENDING, d.not_before <= now)
        .order_by(d.not_before, d.id).limit(limit).with_for_update(skip_locked=True)).all()
    if rows:
        conn.execute(update(deliveries).where(d.id.in_([r.id for r in rows]))
                     .values(owner=owner, not_before=now + lease, updated_at=now))
    return [_job(row, in_doubt=row.owner is not None) for row in rows]


def mark_delivered(conn: Connection, job_id: int, *, channel: Channel, reference: str | None,
                   now: datetime) -> None:
    _resolve(conn, job_id, now, status=DELIVERED, channel=channel.value, reference=reference)


def mark_retry(conn: Connection, job_id: int, *, not_before: datetime, error: str | None,
               now: datetime, count_attempt: bool = True,
               channel: Channel | None = None) -> None:
    """Back to pending until ``not_before``; ``count_attempt=False`` for a re-queue that was
    not the message's fault (a rate limit, a full lane)."""
    values: dict[str, Any] = {"not_before": not_before}
    if count_attempt:
        values["attempts"] = deliveries.c.attempts + 1
    if error is not None:
        values["last_error"] = error
    if channel is not None:
        values["channel"] = channel.value
    _resolve(conn, job_id, now, status=PENDING, **values)


def mark_failed(conn: Connection, job_id: int, *, error: str, now: datetime,
                channel: Channel | None = None) -> None:
    _resolve(conn, job_id, now, status=FAILED, last_error=error,
             attempts=deliveries.c.attempts + 1, channel=channel and channel.value)


def mark_skipped(conn: Connection, job_id: int, *, reason: str, now: datetime) -> None:
    _resolve(conn, job_id, now, status=SKIPPED, last_error=reason)


def _resolve(conn: Connection, job_id: int, now: datetime, **values: Any) -> None:
    conn.execute(update(deliveries).where(deliveries.c.id == job_id)
                 .values(owner=None, updated_at=now, **values))


def find_job(conn: Connection, scope: str, recipient_id: str, message_key: str) -> Job | None:
    d = deliveries.c
    row = conn.execute(select(deliveries).where(
        d.scope == scope, d.recipient_id == recipient_id, d.message_key == message_key)).first()
    return None if row is None else _job(row)


def jobs(conn: Connection, *, scope: str | None = None,
         statuses: Iterable[str] | None = None) -> list[Job]:
    """Jobs in the order they were written (for the CLI, the board and tests)."""
    d = deliveries.c
    query = select(deliveries).order_by(d.id)
    if scope is not None:
        query = query.where(d.scope == scope)
    if statuses is not None:
        query = query.where(d.status.in_(list(statuses)))
    return [_job(row) for row in conn.execute(query)]


def _job(row: Row[Any], *, in_doubt: bool = False) -> Job:
    return Job(id=row.id, scope=row.scope, recipient_id=row.recipient_id,
               message_key=row.message_key, kind=Kind(row.kind), team_id=row.team_id,
               game_id=row.game_id, check_id=row.check_id, details=dict(row.details),
               position=row.position, status=row.status, attempts=row.attempts,
               not_before=row.not_before,
               channel=None if row.channel is None else Channel(row.channel),
               last_error=row.last_error, reference=row.reference,
               created_at=row.created_at, in_doubt=in_doubt)

"""The delivery-job table: one row per message to send, written by the notifier (and by the
delivery worker for captain reports), claimed and settled by the delivery worker.

A row is unique on ``(scope, recipient_id, message_key)``, so writing a job twice inserts
nothing. Claims belong to a live process: :func:`claim_due` takes a few due rows for an
``owner`` and holds them for a short ``lease``, which the owner renews with
:func:`renew_claims` while it works. A claim not renewed (the process died) lapses within
the lease and the row is taken up again, marked ``in_doubt``; a restarted process, which has
the same owner identity, gives its old claims back at once with :func:`release_claims`.
"""

from __future__ import annotations

import functools
import json
import uuid
from collections.abc import Collection, Iterable, Mapping, Sequence
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
    bindparam,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import JSONB

from core.aggregates.common import Channel
from core.eventstore.database import DriverSql, on_driver, upsert
from core.eventstore.pg_wakeups import JOBS
from core.notifications import NotificationKind as Kind
from core.projections.types import UtcDateTime, to_db_time

PENDING, DELIVERED, FAILED, SKIPPED = "pending", "delivered", "failed", "skipped"
CLAIM_LEASE = timedelta(seconds=20)  # a claim not renewed by then is taken up again
_ID_NAMESPACE = uuid.UUID("0c6a3d1e-2f55-4a8e-b7a9-5d0f3c9e8b21")
_NOTIFY_JOBS = text("SELECT pg_notify(:prefix || current_schema(), '')").bindparams(
    prefix=f"{JOBS}:")

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
    Column("not_before", UtcDateTime, nullable=False),  # while claimed: the claim's end
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


@functools.lru_cache(maxsize=4096)  # asked for several times per message sent
def delivery_id(scope: str, recipient_id: str, message_key: str) -> str:
    return uuid.uuid5(_ID_NAMESPACE, f"{scope}\n{recipient_id}\n{message_key}").hex


def add_jobs(conn: Connection, jobs: Sequence[NewJob]) -> None:
    """Insert jobs; one already there (same scope, recipient and key) is left as it is."""
    if not jobs:
        return
    if conn.dialect.name == "postgresql":
        for start in range(0, len(jobs), JOBS_AT_ONCE):
            page = jobs[start:start + JOBS_AT_ONCE]
            values: list[Any] = []
            for j in page:
                values += (j.scope, j.recipient_id, j.message_key, j.kind.value, j.team_id,
                           j.game_id, j.check_id, json.dumps(dict(j.details)), j.position,
                           to_db_time(j.not_before, "postgresql"))
            on_driver(conn, _insert_jobs_pg(len(page)), values, as_written=True)
        # Every server's delivery worker looks at once (the notice goes out at commit), so
        # they share the work rather than leave it to whichever polled first.
        conn.execute(_NOTIFY_JOBS)
        return
    rows = [{
        "scope": j.scope, "recipient_id": j.recipient_id, "message_key": j.message_key,
        "kind": j.kind.value, "team_id": j.team_id, "game_id": j.game_id,
        "check_id": j.check_id, "details": dict(j.details), "position": j.position,
        "status": PENDING, "attempts": 0,
        "not_before": j.not_before, "created_at": j.not_before, "updated_at": j.not_before,
    } for j in jobs]
    conn.execute(upsert(conn, deliveries).on_conflict_do_nothing(
        index_elements=["scope", "recipient_id", "message_key"]), rows)


JOBS_AT_ONCE = 100  # rows per INSERT on PostgreSQL (ten values each)


@functools.lru_cache(maxsize=JOBS_AT_ONCE)
def _insert_jobs_pg(n: int) -> str:
    """A multi-row INSERT of ``n`` jobs with PostgreSQL's own placeholders, sent as written:
    one statement for a page of a check's invitations, where psycopg's pipeline ran one
    each (and would parse a text this long again on every run)."""
    def row(first: int) -> str:
        p = [f"${k}" for k in range(first, first + 10)]
        return (f"({', '.join(p[:7])}, {p[7]}::jsonb, {p[8]}::bigint, '{PENDING}', 0, "
                f"{p[9]}::timestamptz, {p[9]}::timestamptz, {p[9]}::timestamptz)")

    rows = ", ".join(row(10 * i + 1) for i in range(n))
    return ("INSERT INTO deliveries (scope, recipient_id, message_key, kind, team_id, game_id, "
            "check_id, details, position, status, attempts, not_before, created_at, "
            f"updated_at) VALUES {rows} "
            "ON CONFLICT (scope, recipient_id, message_key) DO NOTHING")


def claim_due(conn: Connection, *, now: datetime, limit: int, owner: str,
              lease: timedelta = CLAIM_LEASE) -> list[Job]:
    """Take up to ``limit`` pending jobs due at ``now`` for ``owner``, oldest first.

    A claim pushes ``not_before`` to ``now + lease``: unless the owner renews it, the job
    becomes due again then, marked ``in_doubt``. On PostgreSQL the rows are locked ``FOR
    UPDATE SKIP LOCKED``, so workers claiming at once never take the same job; SQLite has
    one writer at a time. On PostgreSQL the claim is one statement, which can run on its
    own (``Database.write_one``): one round trip, not four.
    """
    params = {"now": now, "limit": limit, "owner": owner, "until": now + lease}
    rows: Sequence[Row[Any]]
    if conn.dialect.name == "postgresql":
        rows = sorted(conn.execute(_CLAIM_AT_ONCE, params).all(),
                      key=lambda r: (r.not_before, r.id))
    else:
        rows = conn.execute(_CLAIMABLE, params).all()
        if rows:
            conn.execute(_CLAIM, {**params, "ids": [r.id for r in rows]})
    return [_job(row, in_doubt=row.owner is not None) for row in rows]


# Built once: a worker claims several times a second during a fan-out.
_CLAIMABLE = (select(deliveries)
              .where(deliveries.c.status == PENDING, deliveries.c.not_before <= bindparam("now"))
              .order_by(deliveries.c.not_before, deliveries.c.id).limit(bindparam("limit"))
              .with_for_update(skip_locked=True))
_CLAIM = (update(deliveries).where(deliveries.c.id.in_(bindparam("ids", expanding=True)))
          .values(owner=bindparam("owner"), not_before=bindparam("until"),
                  updated_at=bindparam("now")))
# PostgreSQL: the same in one statement; the rows come back as they were before the claim
# (when they fell due, who held them), as _CLAIMABLE reads them.
_DUE = (select(deliveries.c.id, deliveries.c.not_before, deliveries.c.owner)
        .where(deliveries.c.status == PENDING, deliveries.c.not_before <= bindparam("now"))
        .order_by(deliveries.c.not_before, deliveries.c.id).limit(bindparam("limit"))
        .with_for_update(skip_locked=True).cte("due"))
_CLAIM_AT_ONCE = (
    update(deliveries).where(deliveries.c.id == _DUE.c.id)
    .values(owner=bindparam("owner"), not_before=bindparam("until"), updated_at=bindparam("now"))
    .returning(*(c for c in deliveries.c if c.name not in ("not_before", "owner")),
               _DUE.c.not_before, _DUE.c.owner))


def renew_claims(conn: Connection, job_ids: Collection[int], *, owner: str, now: datetime,
                 lease: timedelta = CLAIM_LEASE) -> set[int]:
    """Hold ``owner``'s claims on ``job_ids`` for another ``lease``; the ids still held (a
    claim that lapsed may have been taken by another worker meanwhile)."""
    if not job_ids:
        return set()
    d = deliveries.c
    renewed = conn.execute(
        update(deliveries).where(d.id.in_(list(job_ids)), d.owner == owner,
                                 d.status == PENDING)
        .values(not_before=now + lease).returning(d.id)).scalars().all()
    return set(renewed)


def release_claims(conn: Connection, *, owner: str, now: datetime) -> int:
    """Make ``owner``'s claims due now (a restarted process, whose claims died with it);
    they are taken up again in doubt. Returns how many."""
    d = deliveries.c
    released = conn.execute(update(deliveries).where(
        d.owner == owner, d.status == PENDING, d.not_before > now).values(not_before=now))
    return int(released.rowcount or 0)


def mark_delivered(conn: Connection, job_id: int, *, channel: Channel, reference: str | None,
                   now: datetime) -> None:
    mark_all_delivered(conn, [Delivered(job_id, channel, reference)], now=now)


@dataclass(frozen=True, slots=True)
class Delivered:
    """A job whose message the platform accepted, with its reference."""

    job_id: int
    channel: Channel
    reference: str | None


# On the driver: written for every message sent. PostgreSQL takes a round's rows as arrays,
# one statement (a statement each cost PostgreSQL and psycopg's pipeline more than the rows
# did); sqlite3 loops over them in C.
_DELIVERED = DriverSql(f"UPDATE deliveries SET status = '{DELIVERED}', owner = NULL, "
                       "updated_at = %s, channel = %s, reference = %s WHERE id = %s")
_DELIVERED_AT_ONCE = (
    f"UPDATE deliveries AS d SET status = '{DELIVERED}', owner = NULL, updated_at = %s, "
    "channel = v.channel, reference = v.reference "
    "FROM unnest(%s::bigint[], %s::text[], %s::text[]) AS v(id, channel, reference) "
    "WHERE d.id = v.id")


def mark_all_delivered(conn: Connection, delivered: Sequence[Delivered], *,
                       now: datetime) -> None:
    """Settle a round of sent messages in one call to the driver."""
    if not delivered:
        return
    at = to_db_time(now, conn.dialect.name)
    if conn.dialect.name == "postgresql":
        on_driver(conn, _DELIVERED_AT_ONCE, (at, [d.job_id for d in delivered],
                                             [d.channel.value for d in delivered],
                                             [d.reference for d in delivered]))
        return
    _DELIVERED.run_many(conn, [(at, d.channel.value, d.reference, d.job_id)
                               for d in delivered])


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


def has_due(conn: Connection, *, now: datetime) -> bool:
    """Whether any job is due at ``now`` (a cheap look before taking the write lock)."""
    return conn.execute(_ANY_DUE, {"now": now}).first() is not None


_ANY_DUE = (select(deliveries.c.id)
            .where(deliveries.c.status == PENDING, deliveries.c.not_before <= bindparam("now"))
            .limit(1))

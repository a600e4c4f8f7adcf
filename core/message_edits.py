"""Messages Attend keeps up to date: a check's board in the team's channel, and each player's
DM once their answer changes (issue 16.2, 16.3).

The :class:`EditPlanner` follows the log like the notifier and marks *targets* stale in
``message_edits``, in the same transaction as its checkpoint, so nothing is lost across
restarts. A target is one message:

- ``board:<check>``: the check's board in the team's channel (made when the check opens, if
  the team has a channel then), stale on every answer, invitation, withdrawal, waitlist
  move, new time, deadline and close;
- ``dm:<check>:<player>``: a player's chat DMs about the check (made when the first one is
  delivered, showing what it was sent with), stale on each answer of theirs and when another
  of their DMs is delivered (it may show an older answer). Players reached by email have
  none, so their answers cost nothing here.

An answer is one ``UPDATE`` of both targets by key, whether they exist or not (a batch of
them, one call to the driver). A DM
delivered just as the player answers another way shows the answer it was built with until
their next change (the window is one send).

Marking a target stale bumps ``version`` and keeps ``changed_at``, the first change not yet
shown. An edge worker (``bot/edits``) claims targets whose first unshown change is
``delay`` old, renders the *current* state and edits the message, then records the version
it showed: changes that arrive meanwhile leave the target stale for the next edit, so a burst
of answers becomes a few edits and the last one shows the final state. Re-running an edit
is harmless (it shows the current state again). The core stores platforms and channel ids as
the edge's plain strings.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    Connection,
    Index,
    Integer,
    MetaData,
    Row,
    String,
    Table,
    Text,
    case,
    func,
    select,
    update,
)

from core.aggregates import check, team
from core.aggregates.common import Channel
from core.eventstore import HandlerTransaction, RecordedEvent
from core.eventstore.database import DriverSql, upsert
from core.projections.types import UtcDateTime, to_db_time

BOARD, DM = "board", "dm"
# A change older than this when first seen is left alone: a worker that was away that long
# (or a planner catching up on an old log) would only edit messages nobody looks at now.
MAX_AGE = timedelta(days=1)

metadata = MetaData()
message_edits = Table(
    "message_edits", metadata,
    Column("target", String(450), primary_key=True),  # board:<check> or dm:<check>:<player>
    Column("kind", String(10), nullable=False),
    Column("team_id", String(200), nullable=False),
    Column("check_id", String(200), nullable=False),
    Column("player_id", String(200)),
    Column("platform", String(20)),  # a board's: where it is posted
    Column("channel_id", String(200)),
    Column("reference", String(200)),  # a board's message, once posted
    Column("version", Integer, nullable=False),  # bumped on every change
    Column("shown_version", Integer, nullable=False),  # the version the message shows
    Column("changed_at", UtcDateTime),  # the first change not shown yet
    Column("not_before", UtcDateTime, nullable=False),  # pacing, retries and claims
    Column("owner", String(200)),
    Column("attempts", Integer, nullable=False),  # failed tries since the last edit
    Column("stopped", Boolean, nullable=False),  # the message can't be edited any more
    Column("last_error", Text),
    Column("edits", Integer, nullable=False),  # messages posted or edited, for the figures
    Index("message_edits_due", "stopped", "not_before"),
)

_BOARD_EVENTS = (check.PlayerInvited, check.InvitationWithdrawn, check.AnswerRecorded,
                 check.PlayerWaitlisted, check.PlayerPromoted, check.CheckMoved,
                 check.AnswerDeadlineSet, check.AnswerDeadlineCleared, check.CheckClosed)
_DM_EVENTS = (check.AnswerRecorded, check.PlayerWaitlisted, check.PlayerPromoted)


def board_target(check_id: str) -> str:
    return f"{BOARD}:{check_id}"


def dm_target(check_id: str, player_id: str) -> str:
    return f"{DM}:{check_id}:{player_id}"


_CHATS = (Channel.SLACK, Channel.DISCORD)


class EditPlanner:
    """Marks messages stale as the log moves; see the module's docstring."""

    name = "message_edits"
    # Marking a message stale twice does no harm: a crash may lose the last commits, and a
    # burst of answers is one batch (the edits wait longer than this for more anyway).
    durable = False
    gather = 0.25
    events: frozenset[type] = frozenset({
        check.CheckOpened, check.MessageDelivered, *_BOARD_EVENTS,
        team.TeamChannelBound, team.TeamChannelUnbound})

    def handle_all(self, tx: HandlerTransaction, batch: list[RecordedEvent]) -> None:
        """Changes to kept messages in one call per run of them (see DriverSql.run_many),
        each target once with its first change; other events one by one, in order."""
        conn: Connection = tx.connection
        touched: dict[str, datetime] = {}
        for recorded in batch:
            if (targets := _touched(recorded.event)) and not isinstance(recorded.event,
                                                                        check.CheckClosed):
                for target in targets:
                    touched.setdefault(target, recorded.metadata.recorded_at)
                continue
            _touch_all(conn, touched)
            self.handle(tx, recorded)
        _touch_all(conn, touched)

    def handle(self, tx: HandlerTransaction, recorded: RecordedEvent) -> None:
        conn: Connection = tx.connection
        at = recorded.metadata.recorded_at
        event = recorded.event
        match event:
            case team.TeamChannelBound(team_id=team_id, platform=platform, channel_id=channel):
                tx.save_state(f"team:{team_id}", {"platform": platform, "channel_id": channel})
                # The checks open now get their board in the channel too.
                for check_id in (tx.load_state(f"open:{team_id}") or {}).get("checks", ()):
                    _post_board(conn, check_id, team_id, at, platform, channel)
            case team.TeamChannelUnbound(team_id=team_id):
                tx.save_state(f"team:{team_id}", None)
            case check.CheckOpened(check_id=check_id, team_id=team_id):
                tx.save_state(f"check:{check_id}", {"team_id": team_id})
                _open_checks(tx, team_id, add=check_id)
                bound = tx.load_state(f"team:{team_id}")
                if bound is not None:
                    _post_board(conn, check_id, team_id, at, bound["platform"],
                                bound["channel_id"])
            case check.CheckClosed(check_id=check_id):
                state = tx.load_state(f"check:{check_id}")
                if state is not None:
                    _open_checks(tx, state["team_id"], drop=check_id)
                _touch_all(conn, dict.fromkeys(_touched(event), at))
            case check.MessageDelivered(check_id=check_id, player_id=player_id,
                                        channel=channel) if channel in _CHATS:
                state = tx.load_state(f"check:{check_id}")
                _keep_dm(conn, check_id, state["team_id"] if state else "", player_id, at)
            case check.MessageDelivered():
                pass  # an email: nothing Attend can edit
            case _:
                _touch_all(conn, dict.fromkeys(_touched(event), at))


def _touched(event: object) -> tuple[str, ...]:
    """The messages a change makes stale (none: the event isn't a mere change)."""
    if isinstance(event, _DM_EVENTS):  # a player's own change makes their DMs stale too
        return board_target(event.check_id), dm_target(event.check_id, event.player_id)
    if isinstance(event, _BOARD_EVENTS):
        return (board_target(event.check_id),)
    return ()


# On every answer, so straight to the driver (see DriverSql): SQLAlchemy's statement
# machinery costs several times what it takes to run, and a batch is one call.
_TOUCH = DriverSql("UPDATE message_edits SET version = version + 1, "
                   "changed_at = COALESCE(changed_at, %s) WHERE target = %s")


def _touch_all(conn: Connection, first_change: dict[str, datetime]) -> None:
    """A change to each target, at the time given, for those that are messages Attend
    keeps; empties ``first_change``."""
    dialect = conn.dialect.name
    _TOUCH.run_many(conn, [(to_db_time(at, dialect), target)
                           for target, at in first_change.items()])
    first_change.clear()


def _open_checks(tx: HandlerTransaction, team_id: str, *, add: str | None = None,
                 drop: str | None = None) -> None:
    """Keep the team's open checks (a channel bound later gets their boards)."""
    key = f"open:{team_id}"
    checks = [c for c in (tx.load_state(key) or {}).get("checks", ()) if c != drop]
    if add is not None and add not in checks:
        checks.append(add)
    tx.save_state(key, {"checks": checks} if checks else None)


def _post_board(conn: Connection, check_id: str, team_id: str, at: datetime, platform: str,
                channel: str) -> None:
    """The check's board in ``channel``: posted there (version 0 shown), or, for a board
    kept already, edited where it is, or posted afresh when the team moved channels."""
    e = message_edits.c
    statement = upsert(conn, message_edits).values(
        target=board_target(check_id), kind=BOARD, team_id=team_id, check_id=check_id,
        player_id=None, platform=platform, channel_id=channel, version=1, shown_version=0,
        changed_at=at, not_before=at, attempts=0, stopped=False, edits=0)
    same = (e.platform == platform) & (e.channel_id == channel)
    conn.execute(statement.on_conflict_do_update(index_elements=["target"], set_={
        "version": e.version + 1,
        "changed_at": func.coalesce(e.changed_at, at),
        "shown_version": case((same, e.shown_version), else_=0),
        "reference": case((same, e.reference), else_=None),
        "stopped": case((same, e.stopped), else_=False),
        "attempts": case((same, e.attempts), else_=0),
        "not_before": case((same, e.not_before), else_=at),
        "platform": platform, "channel_id": channel}))


def _keep_dm(conn: Connection, check_id: str, team_id: str, player_id: str,
             at: datetime) -> None:
    """A DM to keep, showing what it was sent with. One kept already is stale instead (the
    new DM may show an older answer than the others)."""
    e = message_edits.c
    statement = upsert(conn, message_edits).values(
        target=dm_target(check_id, player_id), kind=DM, team_id=team_id, check_id=check_id,
        player_id=player_id, version=1, shown_version=1, changed_at=None, not_before=at,
        attempts=0, stopped=False, edits=0)
    conn.execute(statement.on_conflict_do_update(
        index_elements=["target"],
        set_={"version": e.version + 1, "changed_at": func.coalesce(e.changed_at, at)}))


# -- for the edge worker --------------------------------------------------------------------------
@dataclass(frozen=True, kw_only=True, slots=True)
class EditTarget:
    target: str
    kind: str
    team_id: str
    check_id: str
    player_id: str | None
    platform: str | None
    channel_id: str | None
    reference: str | None
    version: int  # the version an edit made now shows (at least)
    attempts: int
    edits: int


def _due(now: datetime, delay: timedelta) -> Any:
    e = message_edits.c
    return (e.stopped.is_(False), e.not_before <= now, e.version > e.shown_version,
            e.changed_at <= now - delay, e.changed_at > now - MAX_AGE)


def any_due(conn: Connection, *, now: datetime, delay: timedelta) -> bool:
    """Whether :func:`claim_due` would find something: a read, so a worker polling an idle
    table never takes SQLite's one write lock from a request."""
    e = message_edits.c
    return conn.execute(select(e.target).where(*_due(now, delay)).limit(1)).first() is not None


def claim_due(conn: Connection, *, now: datetime, delay: timedelta, owner: str, limit: int,
              lease: timedelta) -> list[EditTarget]:
    """Stale targets whose first unshown change is ``delay`` old, for ``owner`` until
    ``now + lease`` (a worker that dies leaves them to be claimed again then)."""
    e = message_edits.c
    rows = conn.execute(
        select(message_edits).where(*_due(now, delay))
        .order_by(e.changed_at).limit(limit).with_for_update(skip_locked=True)).all()
    if rows:
        conn.execute(update(message_edits).where(e.target.in_([r.target for r in rows]))
                     .values(owner=owner, not_before=now + lease))
    return [_target(row) for row in rows]


def mark_shown(conn: Connection, target: EditTarget, *, now: datetime,
               next_edit: datetime, reference: str | None = None, counted: bool = True) -> None:
    """``target`` now shows ``target.version``; a later change waits until ``next_edit``."""
    e = message_edits.c
    values: dict[str, Any] = {
        "shown_version": target.version, "owner": None, "attempts": 0, "last_error": None,
        "not_before": next_edit,
        "changed_at": case((e.version > target.version, now), else_=None),
        "edits": e.edits + (1 if counted else 0)}
    if reference is not None:
        values["reference"] = reference
    conn.execute(update(message_edits).where(e.target == target.target).values(**values))


def mark_retry(conn: Connection, target: EditTarget, *, not_before: datetime, error: str,
               count: bool = True) -> None:
    e = message_edits.c
    conn.execute(update(message_edits).where(e.target == target.target).values(
        owner=None, not_before=not_before, last_error=error,
        attempts=e.attempts + (1 if count else 0)))


def mark_stopped(conn: Connection, target: EditTarget, *, error: str) -> None:
    """The message can't be posted or edited (the bot left the channel, say): leave it."""
    e = message_edits.c
    conn.execute(update(message_edits).where(e.target == target.target).values(
        owner=None, stopped=True, last_error=error))


def add_alert_marker(conn: Connection, target: EditTarget, *, now: datetime) -> bool:
    """Whether this is the first time the captains hear that ``target``'s channel refuses the
    bot: a marker row, one per team and channel, is written the first time only."""
    marker = f"alert:{target.team_id}:{target.platform}:{target.channel_id}"
    result = conn.execute(upsert(conn, message_edits).values(
        target=marker, kind="alert", team_id=target.team_id, check_id=target.check_id,
        platform=target.platform, channel_id=target.channel_id, version=0, shown_version=0,
        not_before=now, attempts=0, stopped=True, edits=0,
    ).on_conflict_do_nothing(index_elements=["target"]).returning(message_edits.c.target))
    return result.first() is not None


def find(conn: Connection, target: str) -> EditTarget | None:
    row = conn.execute(select(message_edits).where(message_edits.c.target == target)).first()
    return None if row is None else _target(row)


def last_error(conn: Connection, target: str) -> str | None:
    e = message_edits.c
    value: str | None = conn.execute(select(e.last_error).where(e.target == target)).scalar()
    return value


def _target(row: Row[Any]) -> EditTarget:
    return EditTarget(target=row.target, kind=row.kind, team_id=row.team_id,
                      check_id=row.check_id, player_id=row.player_id, platform=row.platform,
                      channel_id=row.channel_id, reference=row.reference, version=row.version,
                      attempts=row.attempts, edits=row.edits)

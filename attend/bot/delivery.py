"""The delivery worker: sends the notifier's jobs through Slack, Discord and email.

It runs as asyncio tasks inside ``attend serve``'s event loop. A dispatcher claims due jobs
(``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so several processes share the work), builds each
:class:`Notification` from the read models *at send time* (the latest game time, the current
answer), picks the channel, and hands it to that channel's **lane**. Each lane is its own
task with its own bounded queue and pacing, so a slow or rate-limited platform only ever
holds up its own messages: a full lane, a ``Retry-After`` or a per-person pause puts the job
back in the table for later instead of sleeping on it.

Outcomes of player messages about a check are recorded as check events, with command ids
derived from the job (a repeat records nothing), and then the job row is updated:
- delivered -> ``RecordDelivery`` with the platform's message reference;
- refused for good -> ``MarkContactUnreachable`` for that channel and ``RecordDeliveryFailure``
  (the notifier turns it into a captain alert); the same message then goes out at once on the
  next channel, which for a DM is email. An address whose server refuses mail (5xx) is marked
  the same way, so later messages skip it until the player's email changes;
- transient -> retried after :func:`backoff`; after ``max_attempts`` it fails and is recorded
  the same way, so the captain hears of it;
- nobody to reach (unsubscribed, no contact left) -> skipped, and the captains get a
  ``captain_unreachable`` alert, once per player and check.
Captain alerts are not check events: their job row is their only record.

At least once, with one known gap: a crash after a platform accepted a message and before the
outcome was recorded sends that one message again when the claim lapses. A job taken up again
(``in_doubt``) is first looked up in its check's deliveries, so a crash *after* recording
sends nothing twice.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection

from attend.core.actors import Actor
from attend.core.aggregates import check, team
from attend.core.aggregates.common import Answer, Channel
from attend.core.errors import AttendError, DomainError
from attend.core.eventstore.database import Database
from attend.core.notifications import (
    DeliveryError,
    Notification,
    NotificationChannel,
    NotificationKind,
    Recipient,
    TransientDeliveryError,
    backoff,
    choose_channel,
)
from attend.core.notifier import (
    CLAIM_LEASE,
    Job,
    NewJob,
    add_jobs,
    claim_due,
    find_job,
    mark_delivered,
    mark_failed,
    mark_retry,
    mark_skipped,
)
from attend.core.projections import board as boards
from attend.core.projections import roster, schedule
from attend.core.projections.board import BoardLine, BoardView
from attend.core.projections.roster import PlayerView, TeamView
from attend.core.projections.schedule import GameView
from attend.core.router import Clock, Router

log = logging.getLogger(__name__)

ACTOR = Actor.system("delivery").key
# The read models follow the log on their own: a job may be claimed a moment before they show
# its player, game or invitation. Until a job is this old, missing data means "not yet".
READ_MODEL_GRACE = timedelta(minutes=1)
MIN_REQUEUE = timedelta(seconds=1)
LANE_FULL_DELAY = timedelta(seconds=5)
WAKE_FOLLOW_UP = 0.1  # seconds
CLAIM_MARGIN = timedelta(seconds=30)  # a claim this close to lapsing is left for the next one
_COMMAND_IDS = uuid.UUID("a3f4c2d0-8e0b-4f57-9d1c-6b2e5a7f0c44")
_ONLY_WHILE_OPEN = (NotificationKind.INVITATION, NotificationKind.REMINDER,
                    NotificationKind.WAITLISTED, NotificationKind.WAITLIST_PROMOTION)
_NAMES = {Channel.SLACK: "Slack", Channel.DISCORD: "Discord", Channel.EMAIL: "email"}


@dataclass(frozen=True, kw_only=True, slots=True)
class Pacing:
    """How a lane spends a platform's patience."""

    concurrency: int = 1  # sends in flight at once (email: SMTP connections)
    interval: float = 0.0  # seconds between the starts of two sends
    per_recipient: float = 0.0  # seconds between two messages to the same person
    batch: int = 1  # messages per call, for channels with ``send_many`` (one connection)
    queue: int = 200  # waiting messages; more go back to the table for a few seconds


# Slack: about 1 message a second per DM channel, plus unpublished workspace limits.
# Discord: 50 requests a second per bot, but mass DMs get bots flagged: about 2 a second.
DEFAULT_PACING: Mapping[Channel, Pacing] = {
    Channel.SLACK: Pacing(interval=0.2, per_recipient=1.0),
    Channel.DISCORD: Pacing(interval=0.5, per_recipient=1.0),
    Channel.EMAIL: Pacing(concurrency=4, batch=20, queue=400),
}


@dataclass(eq=False, kw_only=True)
class _Item:
    """A claimed job on its way through the lanes."""

    job: Job
    notification: Notification
    contact: PlayerView
    channel: Channel
    claimed_until: datetime
    tried: set[Channel] = field(default_factory=set)
    done: asyncio.Future[None] = field(default_factory=lambda: asyncio.get_running_loop()
                                       .create_future())

    @property
    def records_events(self) -> bool:
        return self.job.check_id is not None and not self.job.kind.for_captain


Outcome = str | DeliveryError | None
Update = Callable[[Connection], None]  # a change to one job row, made in a write transaction
Ready = tuple[Job, Notification, PlayerView, Channel, frozenset[Channel]]


class DeliveryWorker:
    def __init__(self, db: Database, router: Router,
                 channels: Mapping[Channel, NotificationChannel], *, clock: Clock,
                 owner: str | None = None,
                 pacing: Mapping[Channel, Pacing] | None = None, max_attempts: int = 5,
                 claim_batch: int = 100, poll_interval: float = 1.0,
                 lease: timedelta = CLAIM_LEASE) -> None:
        self._db = db
        self._router = router
        self._channels = dict(channels)
        self._clock = clock
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._pacing = {c: (pacing or {}).get(c, DEFAULT_PACING.get(c, Pacing()))
                        for c in self._channels}
        self._max_attempts = max_attempts
        self._claim_batch = claim_batch
        self._poll = poll_interval
        self._lease = lease
        self._lanes: dict[Channel, _Lane] = {}
        self._capacity = sum(p.queue for p in self._pacing.values())
        self._in_flight = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wakeup: asyncio.Event | None = None
        self._dispatcher: asyncio.Task[None] | None = None
        self._recording: asyncio.Lock | None = None  # one recorder at a time: see _settled

    # -- running -------------------------------------------------------------------------------
    def start(self) -> None:
        """Follow the jobs table in the running event loop until :meth:`stop`."""
        self._start_lanes()
        self._dispatcher = asyncio.create_task(self._follow(), name="attend-delivery")

    async def stop(self) -> None:
        """Stop claiming and sending. Jobs in hand stay claimed; they are taken up again (as
        in doubt) when their claim lapses."""
        tasks = [t for t in (self._dispatcher, *self._lane_tasks()) if t is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._dispatcher = None
        self._lanes.clear()

    def wake(self) -> None:
        """Look for due jobs now; safe to call from any thread (say, after an append)."""
        if self._loop is not None and self._wakeup is not None:
            self._loop.call_soon_threadsafe(self._wakeup.set)

    async def run_once(self, now: datetime | None = None) -> int:
        """Send everything due at ``now`` and wait for the outcomes; returns jobs claimed."""
        now = now or self._clock()
        own_lanes = not self._lanes
        self._start_lanes()
        claimed = 0
        waiting: set[asyncio.Future[None]] = set()
        try:
            while True:
                items = await self._dispatch_due(now)
                if items is None:  # every lane is full: wait for room, then claim more
                    await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
                elif items:
                    claimed += len(items)
                    waiting |= {item.done for item in items}
                else:
                    break
                waiting = {f for f in waiting if not f.done()}
            if waiting:
                await asyncio.gather(*waiting)
        finally:
            if own_lanes:
                await self.stop()
        return claimed

    def _start_lanes(self) -> None:
        if self._lanes:
            return
        self._loop = asyncio.get_running_loop()
        self._wakeup = asyncio.Event()
        self._recording = asyncio.Lock()
        self._lanes = {c: _Lane(self, sender, self._pacing[c])
                       for c, sender in self._channels.items()}

    def _lane_tasks(self) -> list[asyncio.Task[None]]:
        return [task for lane in self._lanes.values() for task in lane.tasks]

    async def _follow(self) -> None:
        assert self._wakeup is not None
        woken = False
        while True:
            try:
                items = await self._dispatch_due(self._clock())
            except Exception:
                log.exception("the delivery worker could not claim jobs; trying again in "
                              "%.1f s", self._poll)
                items = []
            if not items:
                # A wake-up comes with an append, a moment before the notifier has written
                # the jobs it makes: after one, look again soon rather than a poll later.
                self._wakeup.clear()
                wait = min(self._poll, WAKE_FOLLOW_UP) if woken else self._poll
                # asyncio.timeout, not wait_for: on Python 3.11 wait_for can swallow a
                # cancellation that arrives as the wake-up fires, and stop() then hangs.
                try:
                    async with asyncio.timeout(wait):
                        await self._wakeup.wait()
                    woken = True
                except TimeoutError:
                    woken = False

    async def _dispatch_due(self, now: datetime) -> list[_Item] | None:
        room = min(self._claim_batch, self._capacity - self._in_flight)
        if room < min(self._claim_batch, self._capacity) // 2:
            return None  # wait for room: a few big claims cost less than many small ones
        ready = await asyncio.to_thread(self._claim_and_prepare, now, room)
        items = [_Item(job=job, notification=n, contact=contact, channel=channel,
                       claimed_until=now + self._lease, tried=set(tried))
                 for job, n, contact, channel, tried in ready]
        self._in_flight += len(items)
        for item in items:
            await self._route(item, item.channel)
        return items

    async def _route(self, item: _Item, channel: Channel) -> None:
        item.channel = channel
        if not self._lanes[channel].offer(item):
            await self._settle_later(item, self._clock() + LANE_FULL_DELAY, None)

    def _finish(self, item: _Item) -> None:
        if not item.done.done():
            item.done.set_result(None)
            self._in_flight -= 1
            if self._wakeup is not None:
                self._wakeup.set()

    # -- claiming and building the messages (in a worker thread) ----------------------------
    def _claim_and_prepare(self, now: datetime, limit: int) -> list[Ready]:
        with self._db.write() as conn:
            jobs = claim_due(conn, now=now, limit=limit, owner=self.owner, lease=self._lease)
        if not jobs:
            return []
        ready: list[Ready] = []
        resolutions: list[Update] = []
        alerts: list[NewJob] = []
        with self._db.read() as conn:
            reads = _Reads(conn)
            for job in jobs:
                try:
                    outcome = self._prepare(reads, job, now, alerts)
                except Exception as error:
                    log.exception("could not build message %s for %s", job.message_key,
                                  job.recipient_id)
                    outcome = _retry(job.id, now + timedelta(seconds=backoff(job.attempts + 1)),
                                     f"internal error: {error!r}", now)
                if isinstance(outcome, tuple):
                    ready.append(outcome)
                else:
                    resolutions.append(outcome)
        with self._db.write() as conn:
            for resolve in resolutions:
                resolve(conn)
            add_jobs(conn, alerts)
        return ready

    def _prepare(self, reads: _Reads, job: Job, now: datetime,
                 alerts: list[NewJob]) -> Ready | Update:
        """What to send and where, or the row update that settles the job without sending."""
        tried: frozenset[Channel] = frozenset()
        if job.in_doubt and job.check_id is not None and not job.kind.for_captain:
            _, state = self._router.state_of(check.CHECK, job.check_id)
            sent = next((d for d in state.deliveries if d.delivered
                         and (d.player_id, d.message_key) == (job.recipient_id, job.message_key)),
                        None)
            if sent is not None:  # recorded before a crash; only the row was not updated
                return _call(mark_delivered, job.id, channel=sent.channel,
                             reference=sent.reference, now=now)
            tried = frozenset(d.channel for d in state.deliveries if d.permanent
                              and (d.player_id, d.message_key) == (job.recipient_id,
                                                                   job.message_key))
        team_view, game_view = reads.team(job.team_id), reads.game(job.game_id)
        contact = reads.player(job.team_id, job.recipient_id)
        board = reads.board(job.check_id)
        line = reads.line(job.check_id, job.recipient_id)
        young = now - job.created_at < READ_MODEL_GRACE
        if team_view is None or game_view is None or contact is None:
            if young:
                return _retry(job.id, now + MIN_REQUEUE, None, now, False)
            return _skip(job.id, "the recipient, team or game is gone", now)
        why_not = None if job.kind.for_captain else _moot(job, game_view, board, line)
        if why_not is not None and young and (board is None or line is None):
            return _retry(job.id, now + MIN_REQUEUE, None, now, False)
        if why_not is not None:
            return _skip(job.id, why_not, now)
        channel = choose_channel(contact, self._channels, exclude=tried)
        if channel is None:
            if not job.kind.for_captain:
                alerts.extend(self._unreachable_alerts(reads, job, contact, now))
            return _skip(job.id, f"no way to reach {contact.name}: {self._why(contact)}", now)
        notification = _notification(job, team_view, game_view, contact, line,
                                     self._about(reads, job))
        return job, notification, contact, channel, tried

    def _about(self, reads: _Reads, job: Job) -> tuple[str | None, str | None]:
        """For a captain alert: the name of the player it is about, and the reason."""
        about = job.details.get("player_id")
        if about is None:
            return None, None
        found = reads.player(job.team_id, about)
        name = job.details.get("player_name") or (found.name if found else None)
        reason = job.details.get("reason")
        if job.kind is NotificationKind.CAPTAIN_DELIVERY_FAILED:
            failed = job.details.get("channel")
            reason = f"{_NAMES.get(Channel(failed), failed) if failed else ''}: {reason}"
            original = find_job(reads.conn, job.scope, about, job.details.get("message_key", ""))
            if (original is not None and original.status == "delivered"
                    and original.channel is not None and original.channel.value != failed):
                reason += f". We sent it by {_NAMES[original.channel]} instead."
        return name, reason

    def _unreachable_alerts(self, reads: _Reads, job: Job, contact: PlayerView,
                            now: datetime) -> list[NewJob]:
        why = self._why(contact)
        return [NewJob(scope=job.scope, recipient_id=captain.player_id,
                       message_key=f"alert:reach:{contact.player_id}",
                       kind=NotificationKind.CAPTAIN_UNREACHABLE, team_id=job.team_id,
                       game_id=job.game_id, check_id=job.check_id,
                       details={"player_id": contact.player_id, "player_name": contact.name,
                                "reason": f"we have no way to reach them ({why})",
                                "message_key": job.message_key},
                       not_before=now, position=job.position)
                for captain in reads.captains(job.team_id)
                if captain.player_id != contact.player_id]

    def _why(self, p: PlayerView) -> str:
        reasons = []
        for channel, identity in ((Channel.SLACK, p.slack_user),
                                  (Channel.DISCORD, p.discord_user)):
            if identity and channel in p.unreachable:
                reasons.append(f"{_NAMES[channel]} messages to them fail")
            elif identity and channel not in self._channels:
                reasons.append(f"{_NAMES[channel]} isn't connected")
        if not p.email:
            reasons.append("no email address")
        elif p.email_unsubscribed:
            reasons.append("unsubscribed from email")
        elif Channel.EMAIL in p.unreachable:
            reasons.append("their email address refuses mail")
        return "; ".join(reasons) or "no contact we can use"

    # -- outcomes --------------------------------------------------------------------------
    async def _settled(self, channel: Channel, sent: Sequence[tuple[_Item, Outcome]]) -> None:
        """Record what happened to ``sent`` on ``channel``; fall back where a DM was refused.

        One batch is recorded at a time: outcomes mostly go to the same check's stream, and
        lanes recording at once would only make each other retry on its version."""
        assert self._recording is not None
        try:
            async with self._recording:
                onward = await asyncio.to_thread(self._record, channel, sent, self._clock())
        except Exception:
            log.exception("could not record %d delivery outcomes; their jobs will be taken "
                          "up again when the claim lapses", len(sent))
            onward = []
        for item, next_channel in onward:
            await self._route(item, next_channel)
        moving = {id(item) for item, _ in onward}
        for item, _ in sent:
            if id(item) not in moving:
                self._finish(item)

    async def _settle_later(self, item: _Item, not_before: datetime, error: str | None) -> None:
        """Back to the table until ``not_before``, not counted as an attempt."""
        now = self._clock()
        try:
            await asyncio.to_thread(self._write, [_retry(item.job.id, max(not_before, now +
                                                         MIN_REQUEUE), error, now, False)])
        except Exception:
            log.exception("could not put job %d back; it is taken up when its claim lapses",
                          item.job.id)
        self._finish(item)

    def _record(self, channel: Channel, sent: Sequence[tuple[_Item, Outcome]],
                now: datetime) -> list[tuple[_Item, Channel]]:
        commands: list[tuple[Any, str]] = []
        updates: list[Update] = []
        onward: list[tuple[_Item, Channel]] = []
        for item, outcome in sent:
            job, events = item.job, item.records_events
            if not isinstance(outcome, DeliveryError):
                if events:
                    commands.append((check.RecordDelivery(
                        check_id=job.scope, player_id=job.recipient_id,
                        message_key=job.message_key, channel=channel, reference=outcome),
                        f"{job.delivery_id}:delivered"))
                updates.append(_call(mark_delivered, job.id, channel=channel,
                                     reference=outcome, now=now))
                continue
            reason = outcome.reason
            if outcome.permanent:
                commands.append((team.MarkContactUnreachable(
                    team_id=job.team_id, player_id=job.recipient_id, channel=channel,
                    reason=reason), f"{job.delivery_id}:unreachable:{channel}"))
                item.tried.add(channel)
                next_channel = choose_channel(item.contact, self._channels, exclude=item.tried)
                if next_channel is not None:
                    onward.append((item, next_channel))
                else:
                    updates.append(_call(mark_failed, job.id, error=reason, now=now,
                                         channel=channel))
            elif outcome.retry_after is not None:
                wait = max(timedelta(seconds=outcome.retry_after), MIN_REQUEUE)
                updates.append(_retry(job.id, now + wait, reason, now, False))
                continue
            elif job.attempts + 1 >= self._max_attempts:
                reason = f"gave up after {job.attempts + 1} tries: {reason}"
                updates.append(_call(mark_failed, job.id, error=reason, now=now,
                                     channel=channel))
            else:
                updates.append(_retry(job.id, now + timedelta(seconds=backoff(
                    job.attempts + 1)), reason, now, True, channel))
                continue
            if events:
                commands.append((check.RecordDeliveryFailure(
                    check_id=job.scope, player_id=job.recipient_id, message_key=job.message_key,
                    channel=channel, reason=reason, permanent=outcome.permanent),
                    f"{job.delivery_id}:failed:{channel}"))
        for command, key in commands:  # events first: a crash now leaves the row in doubt
            self._dispatch(command, key)
        self._write(updates)
        return onward

    def _dispatch(self, command: Any, key: str) -> None:
        try:
            self._router.dispatch(command, actor=ACTOR, dedupe=True,
                                  command_id=uuid.uuid5(_COMMAND_IDS, key).hex)
        except DomainError as error:
            log.info("delivery outcome %s not recorded: %s", type(command).__name__,
                     error.message)
        except AttendError:
            log.exception("could not record %s", type(command).__name__)

    def _write(self, updates: Sequence[Update]) -> None:
        if updates:
            with self._db.write() as conn:
                for update in updates:
                    update(conn)


class _Lane:
    """One channel's queue, pacing and senders."""

    def __init__(self, worker: DeliveryWorker, sender: NotificationChannel,
                 pacing: Pacing) -> None:
        self._worker = worker
        self._sender = sender
        self._pacing = pacing
        self.channel = sender.channel
        self._queue: asyncio.Queue[_Item] = asyncio.Queue(pacing.queue)
        self._loop = asyncio.get_running_loop()
        self._next_start = 0.0
        self._last_to: dict[str, float] = {}
        self._paused_until: datetime | None = None
        self.tasks = [asyncio.create_task(self._run(), name=f"attend-delivery-{self.channel}")
                      for _ in range(max(1, pacing.concurrency))]

    def offer(self, item: _Item) -> bool:
        try:
            self._queue.put_nowait(item)
        except asyncio.QueueFull:
            return False
        return True

    async def _run(self) -> None:
        while True:
            items = [await self._queue.get()]
            while len(items) < self._pacing.batch and not self._queue.empty():
                items.append(self._queue.get_nowait())
            try:
                await self._send(items)
            except Exception:  # a bug: keep the lane alive, the claims lapse and retry
                log.exception("the %s lane failed on %d messages", self.channel, len(items))
                for item in items:
                    self._worker._finish(item)

    async def _send(self, items: list[_Item]) -> None:
        now = self._worker._clock()
        ready = []
        for item in items:
            wait = self._wait_for(item, now)
            if item.claimed_until - CLAIM_MARGIN <= now:
                self._worker._finish(item)  # held too long: leave it to the next claim
            elif wait is not None:
                await self._worker._settle_later(item, wait, None)
            else:
                ready.append(item)
        if not ready:
            return
        start = max(self._loop.time(), self._next_start)
        self._next_start = start + self._pacing.interval
        if start > self._loop.time():
            await asyncio.sleep(start - self._loop.time())
        for item in ready:
            self._last_to[item.job.recipient_id] = self._loop.time()
        outcomes = await self._deliver([item.notification for item in ready])
        retry_after = [o.retry_after for o in outcomes
                       if isinstance(o, DeliveryError) and o.retry_after is not None]
        if retry_after:
            self._paused_until = now + timedelta(seconds=max(retry_after))
        await self._worker._settled(self.channel, list(zip(ready, outcomes, strict=True)))

    def _wait_for(self, item: _Item, now: datetime) -> datetime | None:
        """When this item may go, if not now: the platform asked us to wait, or its
        recipient just got a message on this channel."""
        if self._paused_until is not None and now < self._paused_until:
            return self._paused_until
        if self._pacing.per_recipient:
            if len(self._last_to) > 1000:
                horizon = self._loop.time() - self._pacing.per_recipient
                self._last_to = {k: t for k, t in self._last_to.items() if t > horizon}
            last = self._last_to.get(item.job.recipient_id)
            ahead = None if last is None else last + self._pacing.per_recipient - self._loop.time()
            if ahead is not None and ahead > 0:
                return now + timedelta(seconds=ahead)
        return None

    async def _deliver(self, notifications: list[Notification]) -> list[Outcome]:
        send_many = getattr(self._sender, "send_many", None)
        if len(notifications) > 1 and send_many is not None:
            try:
                outcomes: list[Outcome] = list(await send_many(notifications))
                return outcomes
            except Exception as error:
                return [_unexpected(self.channel, error)] * len(notifications)
        results: list[Outcome] = []
        for notification in notifications:
            try:
                results.append(await self._sender.send(notification))
            except DeliveryError as error:
                results.append(error)
            except Exception as error:
                results.append(_unexpected(self.channel, error))
        return results


def _unexpected(channel: Channel, error: Exception) -> DeliveryError:
    log.error("the %s channel failed unexpectedly", channel, exc_info=error)
    return TransientDeliveryError(f"{_NAMES[channel]} failed unexpectedly: {error!r}")


class _Reads:
    """Read-model lookups for one batch of jobs, each asked once."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self._memo: dict[tuple[str, ...], Any] = {}

    def _once(self, key: tuple[str, ...], query: Callable[[], Any]) -> Any:
        if key not in self._memo:
            self._memo[key] = query()
        return self._memo[key]

    def team(self, team_id: str) -> TeamView | None:
        found: TeamView | None = self._once(("t", team_id), lambda: roster.team(self.conn,
                                                                                 team_id))
        return found

    def game(self, game_id: str | None) -> GameView | None:
        if game_id is None:
            return None
        found: GameView | None = self._once(("g", game_id),
                                            lambda: schedule.game(self.conn, game_id))
        return found

    def board(self, check_id: str | None) -> BoardView | None:
        if check_id is None:
            return None
        found: BoardView | None = self._once(("b", check_id),
                                             lambda: boards.board(self.conn, check_id,
                                                                  with_history=False))
        return found

    def line(self, check_id: str | None, player_id: str) -> BoardLine | None:
        board = self.board(check_id)
        if board is None:
            return None
        lines: dict[str, BoardLine] = self._once(
            ("l", board.check_id), lambda: {ln.player_id: ln for ln in board.lines})
        return lines.get(player_id)

    def player(self, team_id: str, player_id: str) -> PlayerView | None:
        return roster.player(self.conn, team_id, player_id)

    def captains(self, team_id: str) -> list[PlayerView]:
        return roster.captains(self.conn, team_id)


def _moot(job: Job, game_view: GameView, board: BoardView | None,
          line: BoardLine | None) -> str | None:
    """Why a player message need not go out any more, if it need not."""
    kind = job.kind
    if kind in _ONLY_WHILE_OPEN and (board is None or not board.open):
        return "the attendance check is closed"
    if kind in _ONLY_WHILE_OPEN and line is None:
        return "the invitation was withdrawn"
    if kind is NotificationKind.REMINDER and line is not None and line.answer not in (
            None, Answer.MAYBE):
        return "they answered meanwhile"
    if kind is NotificationKind.RESCHEDULE and (
            job.details.get("starts_at") != game_view.starts_at.isoformat()):
        return "the game moved again; the newer time is sent instead"
    return None


def _notification(job: Job, team_view: TeamView, game_view: GameView, contact: PlayerView,
                  line: BoardLine | None, about: tuple[str | None, str | None]) -> Notification:
    details = job.details
    previous = details.get("previous_starts_at")
    answer = details.get("answer")
    return Notification(
        kind=job.kind, delivery_id=job.delivery_id, message_key=job.message_key,
        recipient=Recipient(player_id=contact.player_id, name=contact.name, email=contact.email,
                            slack_user=contact.slack_user, discord_user=contact.discord_user),
        team_id=team_view.team_id, team_name=team_view.name, timezone=team_view.timezone,
        game_id=game_view.game_id, game_handle=game_view.handle, starts_at=game_view.starts_at,
        location=game_view.location, opponent=game_view.opponent, check_id=job.check_id,
        current_answer=None if job.kind.for_captain or line is None else line.answer,
        waitlist_position=None if line is None else line.waitlist_position,
        previous_starts_at=None if previous is None else datetime.fromisoformat(previous),
        cancel_reason=game_view.cancel_reason,
        about_player_id=details.get("player_id"), about_player_name=about[0],
        about_answer=None if answer is None else Answer(answer),
        yes_count=details.get("yes_count"), min_players=details.get("min_players"),
        reason=about[1])


def _call(function: Callable[..., None], *args: Any, **kwargs: Any) -> Update:
    return lambda conn: function(conn, *args, **kwargs)


def _skip(job_id: int, reason: str, now: datetime) -> Update:
    return _call(mark_skipped, job_id, reason=reason, now=now)


def _retry(job_id: int, not_before: datetime, error: str | None, now: datetime,
           count: bool = True, channel: Channel | None = None) -> Update:
    return _call(mark_retry, job_id, not_before=not_before, error=error, now=now,
                 count_attempt=count, channel=channel)

"""The delivery worker: claims due jobs, hands them to the lanes and records the outcomes."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from bot.delivery.jobs import Ready, prepare
from bot.delivery.lanes import Item, Lane
from bot.delivery.outcomes import MIN_REQUEUE, Outcome, Update, call, retry
from bot.delivery.pacing import DEFAULT_PACING, Pacing
from bot.delivery.reads import Reads
from core.actors import Actor
from core.aggregates import check, team
from core.aggregates.common import Channel
from core.errors import AttendError, DomainError
from core.eventstore.database import Database
from core.notifications import DeliveryError, NotificationChannel, backoff, choose_channel
from core.notifier import (
    CLAIM_LEASE,
    NewJob,
    add_jobs,
    claim_due,
    mark_delivered,
    mark_failed,
)
from core.router import Clock, Router

log = logging.getLogger(__package__)  # one logger for the whole delivery worker

ACTOR = Actor.system("delivery").key
LANE_FULL_DELAY = timedelta(seconds=5)
WAKE_FOLLOW_UP = 0.1  # seconds
_COMMAND_IDS = uuid.UUID("a3f4c2d0-8e0b-4f57-9d1c-6b2e5a7f0c44")


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
        self._lanes: dict[Channel, Lane] = {}
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
        self._lanes = {c: Lane(self, sender, self._pacing[c])
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

    async def _dispatch_due(self, now: datetime) -> list[Item] | None:
        room = min(self._claim_batch, self._capacity - self._in_flight)
        if room < min(self._claim_batch, self._capacity) // 2:
            return None  # wait for room: a few big claims cost less than many small ones
        ready = await asyncio.to_thread(self._claim_and_prepare, now, room)
        items = [Item(job=job, notification=n, contact=contact, channel=channel,
                      claimed_until=now + self._lease, tried=set(tried))
                 for job, n, contact, channel, tried in ready]
        self._in_flight += len(items)
        for item in items:
            await self._route(item, item.channel)
        return items

    async def _route(self, item: Item, channel: Channel) -> None:
        item.channel = channel
        if not self._lanes[channel].offer(item):
            await self._settle_later(item, self._clock() + LANE_FULL_DELAY, None)

    def _finish(self, item: Item) -> None:
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
            reads = Reads(conn)
            for job in jobs:
                try:
                    outcome = prepare(reads, job, now, alerts, router=self._router,
                                      channels=self._channels)
                except Exception as error:
                    log.exception("could not build message %s for %s", job.message_key,
                                  job.recipient_id)
                    outcome = retry(job.id, now + timedelta(seconds=backoff(job.attempts + 1)),
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

    # -- outcomes --------------------------------------------------------------------------
    async def _settled(self, channel: Channel, sent: Sequence[tuple[Item, Outcome]]) -> None:
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

    async def _settle_later(self, item: Item, not_before: datetime, error: str | None) -> None:
        """Back to the table until ``not_before``, not counted as an attempt."""
        now = self._clock()
        try:
            await asyncio.to_thread(self._write, [retry(item.job.id, max(not_before, now +
                                                        MIN_REQUEUE), error, now, False)])
        except Exception:
            log.exception("could not put job %d back; it is taken up when its claim lapses",
                          item.job.id)
        self._finish(item)

    def _record(self, channel: Channel, sent: Sequence[tuple[Item, Outcome]],
                now: datetime) -> list[tuple[Item, Channel]]:
        commands: list[tuple[Any, str]] = []
        updates: list[Update] = []
        onward: list[tuple[Item, Channel]] = []
        for item, outcome in sent:
            job, events = item.job, item.records_events
            if not isinstance(outcome, DeliveryError):
                if events:
                    commands.append((check.RecordDelivery(
                        check_id=job.scope, player_id=job.recipient_id,
                        message_key=job.message_key, channel=channel, reference=outcome),
                        f"{job.delivery_id}:delivered"))
                updates.append(call(mark_delivered, job.id, channel=channel,
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
                    updates.append(call(mark_failed, job.id, error=reason, now=now,
                                        channel=channel))
            elif outcome.retry_after is not None:
                wait = max(timedelta(seconds=outcome.retry_after), MIN_REQUEUE)
                updates.append(retry(job.id, now + wait, reason, now, False))
                continue
            elif job.attempts + 1 >= self._max_attempts:
                reason = f"gave up after {job.attempts + 1} tries: {reason}"
                updates.append(call(mark_failed, job.id, error=reason, now=now,
                                    channel=channel))
            else:
                updates.append(retry(job.id, now + timedelta(seconds=backoff(
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

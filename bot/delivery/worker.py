"""The delivery worker: claims due jobs a few at a time, hands them to the lanes, renews its
claims while it holds them, and has each outcome recorded as soon as it is known."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping
from datetime import datetime, timedelta

from bot.delivery.jobs import Ready, prepare
from bot.delivery.lanes import Item, Lane
from bot.delivery.outcomes import MIN_REQUEUE, Outcome, Update, retry
from bot.delivery.owner import OwnerSlot
from bot.delivery.pacing import DEFAULT_PACING, Pacing
from bot.delivery.reads import MEMOISED, Reads
from bot.delivery.recording import Recorder
from core.aggregates.common import Channel
from core.deliveries import CLAIM_LEASE, claim_due, has_due, release_claims, renew_claims
from core.eventstore.database import Database
from core.memo import Generation, ReadMemo, no_generations
from core.notifications import BatchNotificationChannel, NotificationChannel, retry_delay
from core.router import Clock, Router
from core.trouble import Trouble, report_trouble

log = logging.getLogger(__package__)  # one logger for the whole delivery worker

LANE_FULL_DELAY = timedelta(seconds=5)
WAKE_FOLLOW_UP = 0.1  # seconds


class DeliveryWorker:
    """Sends due jobs through ``channels``. ``owner`` names this process's claims (see
    :mod:`bot.delivery.owner`); ``claim_batch`` jobs are claimed at a time, and no more are
    held than the lanes can send at once, so that servers sharing a database share the
    work."""

    def __init__(self, db: Database, router: Router,
                 channels: Mapping[Channel, NotificationChannel], *, clock: Clock,
                 owner: str | None = None,
                 pacing: Mapping[Channel, Pacing] | None = None, max_attempts: int = 5,
                 claim_batch: int = 20, poll_interval: float = 0.25,
                 lease: timedelta = CLAIM_LEASE,
                 generation: Generation = no_generations) -> None:
        self._db = db
        self._router = router
        self._channels = dict(channels)
        self._clock = clock
        self.owner = owner or OwnerSlot.one_off().owner
        self._pacing = {c: (pacing or {}).get(c, DEFAULT_PACING.get(c, Pacing()))
                        for c in self._channels}
        self._claim_batch = claim_batch
        # The team, game and check state of a fan-out, read once while they stand still
        # (``generation``: the handler runtime's, where this process runs the read models).
        self._memo = ReadMemo(generation, MEMOISED, size=256)
        self._poll = poll_interval
        self._lease = lease
        self._recorder = Recorder(db, router, self._channels, clock=clock,
                                  max_attempts=max_attempts)
        self._lanes: dict[Channel, Lane] = {}
        # What the lanes send at once, and one claim more: a worker that holds more only
        # keeps it from a server with room (and a crash would leave more to wait for).
        self._hold = claim_batch + sum(max(p.concurrency * p.batch, claim_batch)
                                       for p in self._pacing.values())
        self._held: dict[int, Item] = {}
        self._more_due = False  # the last claim was full (in the claiming thread only)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wakeup: asyncio.Event | None = None
        self._tasks: list[asyncio.Task[None]] = []

    @property
    def in_flight_limit(self) -> int:
        """The most messages that can be sent and not yet recorded at one moment: what a
        crash can make this worker send twice."""
        return sum(p.concurrency for p in self._pacing.values())

    # -- running -------------------------------------------------------------------------------
    def start(self) -> None:
        """Follow the jobs table in the running event loop until :meth:`stop`."""
        self._start_lanes()
        self._tasks.append(asyncio.create_task(self._follow(), name="attend-delivery"))

    async def stop(self) -> None:
        """Stop claiming and sending; jobs in hand go back to the table for whoever is next."""
        tasks = [*self._tasks, *(t for lane in self._lanes.values() for t in lane.tasks)]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self._recorder.stop()
        for sender in self._channels.values():
            if isinstance(sender, BatchNotificationChannel):
                try:
                    await sender.aclose()
                except Exception:
                    log.exception("could not close the %s channel's idle connections",
                                  sender.channel)
        self._tasks.clear()
        self._lanes.clear()
        held, self._held = len(self._held), {}
        if held:  # in doubt, as any claim of a stopped worker: a message may have gone
            try:
                await asyncio.to_thread(self._release_own, self._clock())
            except Exception:
                log.exception("could not give back %d jobs; they are taken up again when "
                              "their claims lapse", held)

    def wake(self) -> None:
        """Look for due jobs now; safe to call from any thread (say, after an append)."""
        if self._loop is not None and self._wakeup is not None:
            # A loop that has closed (the worker stopped) refuses: nothing to wake then.
            with contextlib.suppress(RuntimeError):
                self._loop.call_soon_threadsafe(self._wakeup.set)

    async def run_once(self, now: datetime | None = None) -> int:
        """Send everything due at ``now`` (by default: as the clock goes) and wait for the
        outcomes; returns jobs claimed."""
        own_lanes = not self._lanes
        self._start_lanes()
        claimed = 0
        waiting: set[asyncio.Future[None]] = set()
        try:
            while True:
                items = await self._dispatch_due(now or self._clock())
                if items is None:  # holding all we may: wait for room, then claim more
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
        self._lanes = {c: Lane(self, sender, self._pacing[c])
                       for c, sender in self._channels.items()}
        self._tasks.append(asyncio.create_task(self._renew(), name="attend-delivery-renew"))

    async def _follow(self) -> None:
        assert self._wakeup is not None
        try:  # claims of this owner from before a restart died with that process
            released = await asyncio.to_thread(self._release_own, self._clock())
            if released:
                log.info("took back %d deliveries this server held before it stopped",
                         released)
        except Exception:
            log.exception("could not take back this server's earlier claims; they are "
                          "taken up again when they lapse")
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

    async def _renew(self) -> None:
        """Renew the claims on what this worker holds, well before they lapse."""
        while True:
            await asyncio.sleep(self._lease.total_seconds() / 4)
            held = dict(self._held)
            if not held:
                continue
            now = self._clock()
            try:
                kept = await asyncio.to_thread(self._renew_claims, list(held), now)
            except Exception:
                log.exception("could not renew %d delivery claims", len(held))
                continue
            for job_id in kept:
                held[job_id].claimed_until = now + self._lease

    async def _dispatch_due(self, now: datetime) -> list[Item] | None:
        room = min(self._claim_batch, self._hold - len(self._held))
        if room <= 0 or (room < self._claim_batch and self._held):
            return None  # claim whole batches: one claim and one read per batch, not per job
        ready = await asyncio.to_thread(self._claim_and_prepare, now, room)
        items = [Item(job=r.job, notification=r.notification, contact=r.contact,
                      channel=r.channel, claimed_until=now + self._lease, tried=set(r.tried))
                 for r in ready]
        for item in items:
            self._held[item.job.id] = item
            await self._route(item, item.channel)
        return items

    async def _route(self, item: Item, channel: Channel) -> None:
        item.channel = channel
        if not self._lanes[channel].offer(item):
            await self.put_back(item, self._clock() + LANE_FULL_DELAY)

    # -- what the lanes call (the lanes' Outlet) -------------------------------------------------
    def now(self) -> datetime:
        return self._clock()

    async def record(self, item: Item, outcome: Outcome) -> None:
        next_channel = await self._recorder.record(item, outcome,
                                                   settled=lambda: self.let_go(item))
        if next_channel is not None:
            await self._route(item, next_channel)

    async def put_back(self, item: Item, not_before: datetime) -> None:
        now = self._clock()
        try:
            await asyncio.to_thread(self._write, [retry(
                item.job.id, not_before=max(not_before, now + MIN_REQUEUE), error=None,
                now=now, count_attempt=False)])
        except Exception:
            log.exception("could not put job %d back; it is taken up when its claim lapses",
                          item.job.id)
        self.let_go(item)

    def let_go(self, item: Item) -> None:
        self._held.pop(item.job.id, None)
        if not item.done.done():
            item.done.set_result(None)
            if self._wakeup is not None:
                self._wakeup.set()

    # -- in a worker thread ----------------------------------------------------------------------
    def _claim_and_prepare(self, now: datetime, limit: int) -> list[Ready]:
        if not self._more_due:  # a cheap look first, rather than the write lock for nothing
            with self._db.read() as conn:
                if not has_due(conn, now=now):
                    return []
        with self._db.write_one() as conn:  # on PostgreSQL one statement (see claim_due)
            jobs = claim_due(conn, now=now, limit=limit, owner=self.owner, lease=self._lease)
        self._more_due = len(jobs) == limit  # likely more behind a full claim
        if not jobs:
            return []
        ready: list[Ready] = []
        resolutions: list[Update] = []
        troubles: list[Trouble] = []
        stamp = self._memo.stamp()  # before the reads: see core.memo
        with self._db.read() as conn:
            reads = Reads(conn, ((job.team_id, job.recipient_id) for job in jobs),
                          memo=self._memo, stamp=stamp)
            for job in jobs:
                try:
                    outcome = prepare(reads, job, now, troubles, router=self._router,
                                      channels=self._channels)
                except Exception as error:
                    log.exception("could not build message %s for %s", job.message_key,
                                  job.recipient_id)
                    later = now + timedelta(seconds=retry_delay(job.attempts + 1))
                    outcome = retry(job.id, error=f"internal error: {error!r}", now=now,
                                    not_before=later)
                if isinstance(outcome, Ready):
                    ready.append(outcome)
                else:
                    resolutions.append(outcome)
            captains = {t.team_id: [c.player_id for c in reads.captains(t.team_id)]
                        for t in troubles}
        if not resolutions and not troubles:  # the usual case: nothing to settle here
            return ready
        with self._db.write() as conn:
            for resolve in resolutions:
                resolve(conn)
            for trouble in troubles:
                report_trouble(conn, trouble, captains=captains[trouble.team_id], now=now)
        return ready

    def _renew_claims(self, job_ids: list[int], now: datetime) -> set[int]:
        with self._db.write() as conn:
            return renew_claims(conn, job_ids, owner=self.owner, now=now, lease=self._lease)

    def _release_own(self, now: datetime) -> int:
        with self._db.write() as conn:
            return release_claims(conn, owner=self.owner, now=now)

    def _write(self, updates: list[Update]) -> None:
        if updates:
            with self._db.write() as conn:
                for update in updates:
                    update(conn)

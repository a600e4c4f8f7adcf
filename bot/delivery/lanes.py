"""Per-channel lanes: each channel's own queue, pacing and senders, as asyncio tasks."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from bot.delivery.outcomes import Outcome, unexpected
from bot.delivery.pacing import Pacing
from core.aggregates.common import Channel
from core.notifications import DeliveryError, Notification, NotificationChannel
from core.notifier import Job
from core.projections.roster import PlayerView

if TYPE_CHECKING:
    from bot.delivery.worker import DeliveryWorker

log = logging.getLogger(__package__)  # one logger for the whole delivery worker

CLAIM_MARGIN = timedelta(seconds=30)  # a claim this close to lapsing is left for the next one


@dataclass(eq=False, kw_only=True)
class Item:
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


class Lane:
    """One channel's queue, pacing and senders."""

    def __init__(self, worker: DeliveryWorker, sender: NotificationChannel,
                 pacing: Pacing) -> None:
        self._worker = worker
        self._sender = sender
        self._pacing = pacing
        self.channel = sender.channel
        self._queue: asyncio.Queue[Item] = asyncio.Queue(pacing.queue)
        self._loop = asyncio.get_running_loop()
        self._next_start = 0.0
        self._last_to: dict[str, float] = {}
        self._paused_until: datetime | None = None
        self.tasks = [asyncio.create_task(self._run(), name=f"attend-delivery-{self.channel}")
                      for _ in range(max(1, pacing.concurrency))]

    def offer(self, item: Item) -> bool:
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

    async def _send(self, items: list[Item]) -> None:
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

    def _wait_for(self, item: Item, now: datetime) -> datetime | None:
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
                return [unexpected(self.channel, error)] * len(notifications)
        results: list[Outcome] = []
        for notification in notifications:
            try:
                results.append(await self._sender.send(notification))
            except DeliveryError as error:
                results.append(error)
            except Exception as error:
                results.append(unexpected(self.channel, error))
        return results

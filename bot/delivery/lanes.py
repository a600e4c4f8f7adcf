"""Per-channel lanes: each channel's own queue, pacing and senders, as asyncio tasks.

A lane knows the worker that feeds it only through :class:`Outlet`. It sends a batch one
message after another (over one connection, for a :class:`BatchNotificationChannel`) and
hands each outcome to the outlet as soon as that message is sent, waiting until it is
recorded before sending the next: a crash repeats at most one message per sender task.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator, Sequence
from contextlib import aclosing
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from bot.delivery.outcomes import Outcome, unexpected
from bot.delivery.pacing import Pacing
from core.aggregates.common import Channel
from core.deliveries import Job
from core.notifications import (
    BatchNotificationChannel,
    DeliveryError,
    Notification,
    NotificationChannel,
)
from core.projections.roster import PlayerView

log = logging.getLogger(__package__)  # one logger for the whole delivery worker

CLAIM_MARGIN = timedelta(seconds=5)  # a claim this close to lapsing is left for the next one


@dataclass(eq=False, kw_only=True)
class Item:
    """A claimed job on its way through the lanes."""

    job: Job
    notification: Notification
    contact: PlayerView
    channel: Channel
    claimed_until: datetime  # renewed while the worker runs
    tried: set[Channel] = field(default_factory=set)
    done: asyncio.Future[None] = field(default_factory=lambda: asyncio.get_running_loop()
                                       .create_future())


class Outlet(Protocol):
    """What a lane needs from the worker that feeds it."""

    def now(self) -> datetime: ...

    async def record(self, item: Item, outcome: Outcome) -> None:
        """Record what sending ``item`` came to; returns once it is recorded."""

    async def put_back(self, item: Item, not_before: datetime) -> None:
        """Not now: back to the table until ``not_before`` (not counted as an attempt)."""

    def let_go(self, item: Item) -> None:
        """Leave ``item`` to a later claim without touching its row."""


class Lane:
    """One channel's queue, pacing and senders."""

    def __init__(self, outlet: Outlet, sender: NotificationChannel, pacing: Pacing) -> None:
        self._outlet = outlet
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
        this = asyncio.current_task()
        while True:
            if this is not None and this.cancelling():
                # A library swallowed our cancellation (aiosmtplib's QUIT can): stop anyway.
                raise asyncio.CancelledError
            items = [await self._queue.get()]
            while len(items) < self._pacing.batch and not self._queue.empty():
                items.append(self._queue.get_nowait())
            try:
                await self._send(items)
            except Exception:  # a bug: keep the lane alive, the claims lapse and retry
                log.exception("the %s lane failed on %d messages", self.channel, len(items))
                for item in items:
                    self._outlet.let_go(item)

    async def _send(self, items: list[Item]) -> None:
        now = self._outlet.now()
        ready = []
        for item in items:
            wait = self._wait_for(item, now)
            if item.claimed_until - CLAIM_MARGIN <= now:
                self._outlet.let_go(item)  # held too long: leave it to the next claim
            elif wait is not None:
                await self._outlet.put_back(item, wait)
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
        async with aclosing(self._deliver(ready)) as outcomes:
            async for item, outcome in outcomes:
                if isinstance(outcome, DeliveryError) and outcome.retry_after is not None:
                    self._paused_until = self._outlet.now() + timedelta(
                        seconds=outcome.retry_after)
                await self._outlet.record(item, outcome)

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

    async def _deliver(self, items: Sequence[Item]) -> AsyncGenerator[tuple[Item, Outcome], None]:
        """Each item with its outcome, as soon as it is known. Whatever one message raises
        is that message's outcome; the others still go."""
        sender = self._sender
        if len(items) > 1 and isinstance(sender, BatchNotificationChannel):
            done = 0
            try:
                async with aclosing(sender.send_many([i.notification for i in items])) as sent:
                    async for outcome in sent:
                        yield items[done], outcome
                        done += 1
            except Exception as error:  # the channel broke mid-batch: the rest are not sent
                for item in items[done:]:
                    yield item, unexpected(self.channel, error)
                return
            for item in items[done:]:  # a channel that said nothing about these
                yield item, unexpected(self.channel, RuntimeError("no outcome reported"))
            return
        for item in items:
            yield item, await self._send_one(item.notification)

    async def _send_one(self, notification: Notification) -> Outcome:
        try:
            return await self._sender.send(notification)
        except DeliveryError as error:
            return error
        except Exception as error:
            return unexpected(self.channel, error)

"""Recording what each send came to, as soon as it is known, a few at a time.

Lanes hand over one outcome each and wait for it to be recorded; outcomes that arrive while
a recording is under way are recorded together in the next round (one worker thread, the
check events first, then the job rows in one transaction). Outcomes of player messages
about a check are check events, with command ids derived from the job, so a repeat records
nothing; a captain's report, once delivered, is recorded the same way:

- delivered -> ``RecordDelivery`` with the platform's message reference;
- refused for good -> ``MarkContactUnreachable`` for that channel and
  ``RecordDeliveryFailure`` (which the notifier puts in the captains' trouble report); the
  next channel is returned (a DM falls back to email), else the job fails;
- transient -> retried after :func:`~core.notifications.retry_delay`; after
  ``max_attempts`` it fails and is recorded the same way; a ``Retry-After`` puts it back
  without counting an attempt.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from bot.delivery.lanes import Item
from bot.delivery.outcomes import MIN_REQUEUE, Outcome, Update, call, retry
from core.actors import Actor
from core.aggregates import check, team
from core.aggregates.common import Channel
from core.deliveries import Delivered, mark_all_delivered, mark_failed
from core.errors import AttendError, DomainError
from core.eventstore.database import Database
from core.notifications import DeliveryError, NotificationChannel, choose_channel, retry_delay
from core.router import Clock, Router

log = logging.getLogger(__package__)  # one logger for the whole delivery worker

ACTOR = Actor.system("delivery").key
_COMMAND_IDS = uuid.UUID("a3f4c2d0-8e0b-4f57-9d1c-6b2e5a7f0c44")

_Pending = tuple[Item, Outcome, "asyncio.Future[Channel | None]"]


class Recorder:
    """Records outcomes in rounds; one round at a time (outcomes mostly go to one check's
    stream, and rounds at once would only make each other retry on its version)."""

    def __init__(self, db: Database, router: Router,
                 channels: Mapping[Channel, NotificationChannel], *, clock: Clock,
                 max_attempts: int) -> None:
        self._db = db
        self._router = router
        self._channels = channels
        self._clock = clock
        self._max_attempts = max_attempts
        self._pending: list[_Pending] = []
        self._round: asyncio.Task[None] | None = None

    async def record(self, item: Item, outcome: Outcome) -> Channel | None:
        """Record ``outcome`` of ``item``; the channel to try next, if it should go on."""
        future: asyncio.Future[Channel | None] = asyncio.get_running_loop().create_future()
        self._pending.append((item, outcome, future))
        if self._round is None or self._round.done():
            self._round = asyncio.create_task(self._rounds(), name="attend-delivery-record")
        return await future

    async def stop(self) -> None:
        if self._round is not None:
            self._round.cancel()
            await asyncio.gather(self._round, return_exceptions=True)
            self._round = None
        self._pending.clear()

    async def _rounds(self) -> None:
        while self._pending:
            batch, self._pending = self._pending, []
            try:
                onward = await asyncio.to_thread(self._record, batch, self._clock())
            except Exception:
                log.exception("could not record %d delivery outcomes; their jobs are taken "
                              "up again when the claim lapses", len(batch))
                onward = [None] * len(batch)
            for (_, _, future), next_channel in zip(batch, onward, strict=True):
                if not future.done():
                    future.set_result(next_channel)

    def _record(self, batch: Sequence[_Pending], now: datetime) -> list[Channel | None]:
        commands: list[tuple[Any, str]] = []
        delivered: list[Delivered] = []
        updates: list[Update] = []
        onward = [self._settle(item, outcome, now, commands, delivered, updates)
                  for item, outcome, _ in batch]
        for command, key in _together(commands):  # events first: a crash now leaves the
            self._dispatch(command, key)          # row in doubt
        if delivered or updates:
            with self._db.write() as conn:
                mark_all_delivered(conn, delivered, now=now)
                for update in updates:
                    update(conn)
        return onward

    def _settle(self, item: Item, outcome: Outcome, now: datetime,
                commands: list[tuple[Any, str]], delivered: list[Delivered],
                updates: list[Update]) -> Channel | None:
        job, channel = item.job, item.channel
        for_player = job.check_id is not None and not job.kind.for_captain
        if not isinstance(outcome, DeliveryError):
            if job.check_id is not None:
                commands.append((check.RecordDelivery(
                    check_id=job.check_id, player_id=job.recipient_id,
                    message_key=job.message_key, channel=channel, reference=outcome),
                    f"{job.delivery_id}:delivered"))
            delivered.append(Delivered(job.id, channel, outcome))
            return None
        reason, next_channel = outcome.reason, None
        if outcome.permanent:
            commands.append((team.MarkContactUnreachable(
                team_id=job.team_id, player_id=job.recipient_id, channel=channel,
                reason=reason), f"{job.delivery_id}:unreachable:{channel}"))
            item.tried.add(channel)
            next_channel = choose_channel(item.contact, self._channels, exclude=item.tried)
            if next_channel is None:
                updates.append(call(mark_failed, job.id, error=reason, now=now,
                                    channel=channel))
        elif outcome.retry_after is not None:
            wait = max(timedelta(seconds=outcome.retry_after), MIN_REQUEUE)
            updates.append(retry(job.id, not_before=now + wait, error=reason, now=now,
                                 count_attempt=False))
            return None
        elif job.attempts + 1 >= self._max_attempts:
            reason = f"gave up after {job.attempts + 1} tries: {reason}"
            updates.append(call(mark_failed, job.id, error=reason, now=now, channel=channel))
        else:
            updates.append(retry(job.id, now=now, error=reason, channel=channel,
                                 not_before=now + timedelta(seconds=retry_delay(job.attempts + 1))))
            return None
        if for_player:
            assert job.check_id is not None
            commands.append((check.RecordDeliveryFailure(
                check_id=job.check_id, player_id=job.recipient_id,
                message_key=job.message_key, channel=channel, reason=reason,
                permanent=outcome.permanent), f"{job.delivery_id}:failed:{channel}"))
        return next_channel

    def _dispatch(self, command: Any, key: str) -> None:
        try:
            self._router.dispatch(command, actor=ACTOR, dedupe=True,
                                  command_id=uuid.uuid5(_COMMAND_IDS, key).hex)
        except DomainError as error:
            log.info("delivery outcome %s not recorded: %s", type(command).__name__,
                     error.message)
        except AttendError:
            log.exception("could not record %s", type(command).__name__)


def _together(commands: list[tuple[Any, str]]) -> list[tuple[Any, str]]:
    """The round's deliveries for one check as one command (one append: two servers
    sending for one check would otherwise race for its stream on every message); the rest
    as they are, in order."""
    by_check: dict[str, list[tuple[check.RecordDelivery, str]]] = {}
    others: list[tuple[Any, str]] = []
    for command, key in commands:
        if isinstance(command, check.RecordDelivery):
            by_check.setdefault(command.check_id, []).append((command, key))
        else:
            others.append((command, key))
    together: list[tuple[Any, str]] = []
    for check_id, delivered in by_check.items():
        if len(delivered) == 1:
            together.append(delivered[0])
            continue
        keys = ",".join(sorted(key for _, key in delivered))
        together.append((check.RecordDeliveries(
            check_id=check_id, deliveries=tuple(c for c, _ in delivered)), f"round:{keys}"))
    return together + others

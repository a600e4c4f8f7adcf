"""Recording what each send came to, as soon as it is known, a few at a time.

Lanes hand over one outcome each and wait for it to be recorded; outcomes that arrive while
a recording is under way are recorded together in the next round (one worker thread). A
lane goes on as soon as its round's events are in: from then on a crash cannot make it send
that message again (the check knows it went out, and a claim in doubt is settled from it).
The job rows follow, several rounds' in one transaction, whenever no outcome is waiting (or
``ROWS_AT_ONCE`` are); an item is let go once its row is written. Outcomes of player
messages about a check are check events, with command ids derived from the job; a delivery
recorded twice records nothing the second time:

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
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
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
ROWS_AT_ONCE = 20  # job rows written together while outcomes keep coming
_COMMAND_IDS = uuid.UUID("a3f4c2d0-8e0b-4f57-9d1c-6b2e5a7f0c44")

Settled = Callable[[], None]
_Pending = tuple[Item, Outcome, "asyncio.Future[Channel | None]", Settled]
Onward = list[Channel | None]  # for each outcome of a round, the channel to try next


class Recorder:
    """Records outcomes in rounds; one round at a time (outcomes mostly go to one check's
    stream, and rounds at once would only make each other retry on its version), and the
    job rows between rounds."""

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

    async def record(self, item: Item, outcome: Outcome, *, settled: Settled) -> Channel | None:
        """Record ``outcome`` of ``item``; the channel to try next, if it should go on. If it
        goes no further, ``settled`` is called (on the loop) once its job row is written."""
        future: asyncio.Future[Channel | None] = asyncio.get_running_loop().create_future()
        self._pending.append((item, outcome, future, settled))
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
        unwritten = _Rows()
        while self._pending or unwritten.settled:
            if self._pending and len(unwritten.settled) < ROWS_AT_ONCE:
                batch, self._pending = self._pending, []
                rows = _Rows()
                try:
                    onward = await asyncio.to_thread(self._record, batch, self._clock(), rows)
                except Exception:
                    log.exception("could not record %d delivery outcomes; their jobs are "
                                  "taken up again when the claim lapses", len(batch))
                    onward, rows = [None] * len(batch), _Rows()
                for (_, _, future, settled), next_channel in zip(batch, onward, strict=True):
                    if not future.done():
                        future.set_result(next_channel)
                    if next_channel is None:
                        rows.settled.append(settled)
                unwritten.add(rows)
                continue
            rows, unwritten = unwritten, _Rows()
            if rows.delivered or rows.updates:
                try:
                    await asyncio.to_thread(self._write, rows, self._clock())
                except Exception:
                    log.exception("could not write the outcomes of %d delivery jobs; they "
                                  "are settled when their claims lapse",
                                  len(rows.delivered) + len(rows.updates))
            for settled in rows.settled:
                settled()

    def _record(self, batch: Sequence[_Pending], now: datetime, rows: _Rows) -> Onward:
        """The round's events; its job rows go in ``rows``."""
        commands: list[tuple[Any, str]] = []
        onward = [self._settle(item, outcome, now, commands, rows.delivered, rows.updates)
                  for item, outcome, _, _ in batch]
        for command, key in _together(commands):
            self._dispatch(command, key)
        return onward

    def _write(self, rows: _Rows, now: datetime) -> None:
        # Not waiting for the disk (PostgreSQL): a row lost with the server is in doubt
        # again, and the check's events settle it, as after a crash of ours.
        with self._db.write(durable=False) as conn:
            mark_all_delivered(conn, rows.delivered, now=now)
            for update in rows.updates:
                update(conn)

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
        # A delivery recorded twice records nothing the second time (the check knows what
        # went out), so it needs no entry in the command log: its append is one statement.
        once_by_state = isinstance(command, check.RecordDelivery | check.RecordDeliveries)
        try:
            self._router.dispatch(command, actor=ACTOR, dedupe=not once_by_state,
                                  command_id=uuid.uuid5(_COMMAND_IDS, key).hex)
        except DomainError as error:
            log.info("delivery outcome %s not recorded: %s", type(command).__name__,
                     error.message)
        except AttendError:
            log.exception("could not record %s", type(command).__name__)


@dataclass(slots=True)
class _Rows:
    """Job rows to write, and who waits for them."""

    delivered: list[Delivered] = field(default_factory=list)
    updates: list[Update] = field(default_factory=list)
    settled: list[Settled] = field(default_factory=list)

    def add(self, other: _Rows) -> None:
        self.delivered += other.delivered
        self.updates += other.updates
        self.settled += other.settled


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

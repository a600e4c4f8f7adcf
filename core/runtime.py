"""The handler runtime: every projection, process manager and notifier follows the log.

Each handler has a durable checkpoint and reads the global stream in order from it, in
batches, inside one transaction that also moves the checkpoint, so a projection's rows and
its checkpoint commit together (exactly once). A process manager's state and the commands it
will send are written in that same transaction (an outbox) and sent afterwards with
deterministic command ids, which the router deduplicates. A failing event is retried with
backoff, then parked with its error and logged; the handler moves on, nothing is skipped
silently. One process at a time runs a handler: a lease with a fencing epoch guards every
checkpoint write, so a process that lost its lease cannot commit. Leases are short and
renewed by a heartbeat while the process lives, so a dead process's handlers move to a live
one within seconds (see :mod:`core.leases`).

Wake-ups are targeted: an append in this process wakes only the handlers that react to one of
its events, and they read it from the store's memory; a notification from another process,
the poll, or a new lease sends a handler to the database. ``wait_for`` wakes the handlers it
names (so one that had no reason to move skips ahead) and is itself woken only when one of
them passes its position (see :mod:`core.waits`). Read models commit without waiting for the
disk (``durable=False``): the log can rebuild them.

Leases are kept with the wall clock (``wall_clock``, ``time.time`` by default), not a
monotonic one: their expiry is stored and compared by every process, on every machine.
"""

from __future__ import annotations

import logging
import threading
import time
import traceback
from collections.abc import Callable, Collection, Iterable, Sequence

from core.errors import AttendError, DomainError, LeaseLost
from core.eventstore import EventStore, Lease, RecordedEvent
from core.handlers import Follower as _Follower
from core.handlers import Handler, RetryPolicy, derived_command_id
from core.leases import LEASE_TTL, Holder, LeaseKeeper, owner_name
from core.router import Router
from core.waits import Waits

__all__ = ["Handler", "HandlerRuntime", "RetryPolicy", "derived_command_id"]

log = logging.getLogger(__name__)

class HandlerRuntime:
    def __init__(self, store: EventStore, router: Router, handlers: Iterable[Handler], *,
                 retry: RetryPolicy | None = None, poll_interval: float = 1.0,
                 batch_size: int = 500, lease_ttl: float = LEASE_TTL,
                 owner: str | None = None, wall_clock: Callable[[], float] = time.time,
                 rebuildable: Collection[str] = ()) -> None:
        self._store = store
        self._router = router
        self._followers = {h.name: _Follower(h, durable=h.name not in rebuildable)
                           for h in handlers}
        self._retry = retry or RetryPolicy()
        self._poll = poll_interval
        self._batch = batch_size
        self._ttl = lease_ttl
        self._now = wall_clock
        self.owner = owner or owner_name()
        self._leases = LeaseKeeper(store, owner=self.owner, ttl=lease_ttl,
                                   wall_clock=wall_clock, new_holder=self._new_holder)
        # Who waits for which handler to reach which position (see wait_for).
        self._waits = Waits(self, store, batch_size=batch_size)
        self._wakes: dict[str, threading.Event] = {name: threading.Event()
                                                   for name in self._followers}
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._unsubscribe: Callable[[], None] | None = None

    @property
    def handler_names(self) -> list[str]:
        return list(self._followers)

    # -- running -----------------------------------------------------------------------------
    def start(self) -> None:
        self._unsubscribe = self._store.subscribe(self._appended)
        try:
            self._leases.find_dead(self._followers.values())
        except Exception:  # then the dead one's leases are waited out
            log.exception("could not look for leases of processes that no longer run")
        self._leases.start(self._followers.values())
        for name in self._followers:
            thread = threading.Thread(target=self._loop, args=(name,), daemon=True,
                                      name=f"attend-handler-{name}")
            thread.start()
            self._threads.append(thread)

    def stop(self, timeout: float = 10.0) -> None:
        """Finish the batch in hand, release the leases, and return."""
        self._stop.set()
        for follower in self._followers.values():
            follower.wanted.set()
        self.wake()
        for thread in self._threads:
            thread.join(timeout)
        self._threads.clear()
        self._leases.stop()
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        for follower in self._followers.values():
            if follower.lease is not None:
                try:
                    if follower.unsaved:
                        with self._store.handler_transaction(follower.lease,
                                                            durable=follower.durable) as tx:
                            tx.advance(follower.position)
                    self._store.release_lease(follower.lease)
                except Exception:  # the lease will expire on its own
                    log.exception("could not release the lease of %s", follower.handler.name)
                follower.lease, follower.renew_at = None, 0.0

    def wake(self, _position: int = 0) -> None:
        """Make every handler look for new events now (another process appended)."""
        for name, event in self._wakes.items():
            self._followers[name].look_everywhere = True
            event.set()

    def _appended(self, recorded: Sequence[RecordedEvent]) -> None:
        """Wake only the handlers that react to what this process just appended. The others
        skip those events the next time they step: when something they want arrives, when
        ``wait_for`` asks for them, or at the poll. Waking every handler for every answer
        would cost a dozen thread switches per button press for nothing."""
        types = {type(r.event) for r in recorded}
        for name, follower in self._followers.items():
            if not types.isdisjoint(follower.handler.events):
                self._wakes[name].set()

    def _loop(self, name: str) -> None:
        follower = self._followers[name]
        wake = self._wakes[name]
        while not self._stop.is_set():
            wake.clear()
            follower.wanted.clear()  # this step serves whoever waited so far
            everywhere, follower.look_everywhere = follower.look_everywhere, False
            try:
                with follower.busy:
                    self._step(follower, local=not everywhere)
                if follower.more and everywhere:
                    follower.look_everywhere = True  # catching up from the database
            except Exception:
                log.exception("handler %s failed outside any event; retrying in %.1f s",
                              name, self._poll)
                follower.more = False
                follower.look_everywhere = True
            # Caught up: sleep until an append here wakes us (one that landed during the
            # step has set the event already) or, for other processes' appends, the poll.
            if follower.more:
                continue
            if not wake.wait(self._poll if follower.lease
                             else min(self._poll, self._leases.retry)):
                follower.look_everywhere = True
            elif follower.gather and not follower.wanted.is_set():
                # Let the burst this append may start gather into one batch, unless a
                # request waits for us (then wanted is set) or we are stopping.
                follower.wanted.wait(follower.gather)

    def run_until_idle(self, *, max_rounds: int = 1000) -> bool:
        """Run every handler in this thread until none has work; False if another process
        holds a handler's lease (it is doing the work)."""
        for _ in range(max_rounds):
            busy = False
            for name in self._followers:
                busy |= self.step(name)
            if not busy:
                return all(f.lease is not None for f in self._followers.values())
        return True

    # -- one step of one handler --------------------------------------------------------------
    def step(self, name: str) -> bool:
        """Process one batch for ``name``; True if there was work."""
        follower = self._followers[name]
        with follower.busy:
            return self._step(follower)

    def _step(self, follower: _Follower, *, local: bool = False) -> bool:
        """One batch. With ``local`` (woken by an append in this process) the database is
        not asked when this process appended nothing new: other processes' appends arrive
        with a notification or the poll, which step without it."""
        follower.more = False
        if not self._leases.hold(follower):
            return False
        lease = follower.lease
        assert lease is not None
        sent = self._send_outbox(follower)
        batch = self._store.read_all(after=follower.position, limit=self._batch, local=local)
        follower.more = len(batch) == self._batch
        if not batch:
            return sent
        if not any(type(r.event) in follower.handler.events for r in batch):
            # Nothing here for this handler: move on in memory only. The durable checkpoint
            # catches up with the next real write (or at stop); after a crash the handler
            # merely skips these events again.
            self._advanced(follower, batch[-1].position)
            follower.unsaved = True
            return True
        try:
            with self._store.handler_transaction(lease, durable=follower.durable) as tx:
                wanted = [r for r in batch if type(r.event) in follower.handler.events]
                if follower.handle_all is not None:
                    follower.handle_all(tx, wanted)
                else:
                    for recorded in wanted:
                        follower.handler.handle(tx, recorded)
                tx.advance(batch[-1].position)
        except LeaseLost:
            self._lose(follower)
            return False
        except Exception:
            # Somewhere in the batch is a failing event: go one by one to isolate it.
            if not self._one_by_one(follower, batch):
                return False
        else:
            follower.generation += 1
            self._advanced(follower, batch[-1].position)
            follower.unsaved = False
            self._committed(follower)
        if follower.sends_commands:
            follower.outbox_dirty = True
            self._send_outbox(follower)
        return True

    def _one_by_one(self, follower: _Follower, batch: Sequence[RecordedEvent]) -> bool:
        handler = follower.handler
        for recorded in batch:
            for attempt, delay in enumerate((*self._retry.delays, None)):
                lease = follower.lease
                if lease is None:
                    return False
                try:
                    with self._store.handler_transaction(lease, durable=follower.durable) as tx:
                        if type(recorded.event) in handler.events:
                            handler.handle(tx, recorded)
                        tx.advance(recorded.position)
                    follower.generation += 1
                    self._committed(follower)
                    break
                except LeaseLost:
                    self._lose(follower)
                    return False
                except Exception as error:
                    if delay is None:
                        self._park(follower, recorded, error)
                        break
                    summary = (str(error).strip().splitlines() or [type(error).__name__])[0]
                    log.warning("handler %s failed on event %s at position %d (attempt %d), "
                                "retrying in %.1f s: %s", handler.name,
                                type(recorded.event).__name__, recorded.position, attempt + 1,
                                delay, summary)
                    if self._stop.wait(delay):
                        return False
            self._advanced(follower, recorded.position)
        return True

    def _committed(self, follower: _Follower) -> None:
        if follower.committed is None:
            return
        try:
            follower.committed()
        except Exception:  # what it tells others is not worth the handler's progress
            log.exception("handler %s failed after its commit", follower.handler.name)

    def _park(self, follower: _Follower, recorded: RecordedEvent, error: Exception) -> None:
        text = "".join(traceback.format_exception(error))
        log.error("handler %s gave up on event %s at position %d and parked it; it goes on "
                  "with the next event. `attend handlers parked` lists parked events; once the "
                  "cause is fixed, `attend projections rebuild` replays a read model.\n%s",
                  follower.handler.name, type(recorded.event).__name__, recorded.position, text)
        lease = follower.lease
        assert lease is not None
        with self._store.handler_transaction(lease, durable=follower.durable) as tx:
            tx.park(recorded, text)
            tx.advance(recorded.position)

    def _advanced(self, follower: _Follower, position: int) -> None:
        follower.position = position
        self._waits.passed(follower.handler.name, position)

    def _new_holder(self, holder: Holder, lease: Lease) -> None:
        """This process has just taken ``holder``'s handler (it was free, lapsed or held by
        a dead process): start from its durable checkpoint."""
        follower = self._followers[holder.name]
        follower.generation += 1  # someone else may have written meanwhile
        follower.look_everywhere = True  # and the log since the checkpoint is in the db
        self._wakes[follower.name].set()
        follower.position = lease.position
        follower.outbox_dirty = follower.sends_commands
        log.info("now running handler %s from position %d", follower.name, lease.position)

    def _lose(self, follower: _Follower) -> None:
        log.warning("handler %s was taken over by another process; stepping back",
                    follower.handler.name)
        follower.lease = None

    def _send_outbox(self, follower: _Follower) -> bool:
        if not (follower.sends_commands and follower.outbox_dirty):
            return False
        pending = self._store.pending_commands(follower.handler.name)
        for item in pending:
            try:
                self._router.dispatch(item.command, actor=f"process:{follower.handler.name}",
                                      command_id=item.command_id,
                                      correlation_id=item.correlation_id,
                                      causation_id=item.causation_id, dedupe=True)
            except DomainError as error:
                # The domain refused (say, an invitation to a check closed meanwhile): that is
                # an answer, not a failure to retry.
                log.info("%s: %s refused: %s", follower.handler.name,
                         type(item.command).__name__, error.message)
            except AttendError:
                log.exception("%s could not send %s; will retry", follower.handler.name,
                              type(item.command).__name__)
                return True
            self._store.mark_sent(follower.handler.name, item.command_id)
        follower.outbox_dirty = False
        return bool(pending)

    # -- consistency -------------------------------------------------------------------------
    def generation(self, name: str) -> int | None:
        """A number that changes whenever handler ``name`` may have changed its read model;
        None when this process doesn't run it (then only the database knows). A lookup
        memoised under one generation is current for as long as the number stays the same.
        Lease time this close to its end doesn't count as held: another process may take
        the handler over the moment it lapses."""
        follower = self._followers.get(name)
        if follower is None or follower.lease is None:
            return None
        if self._now() > follower.lease.until - self._ttl / 3:
            return None  # not renewed in time (a stall): trust nothing until it is
        return follower.generation

    def position_of(self, name: str) -> int:
        follower = self._followers.get(name)
        if follower is not None and follower.lease is not None:
            return follower.position
        return self._store.checkpoint(name)

    def runs_here(self, name: str) -> bool | None:
        """True if this process holds handler ``name``'s lease, False if not (another
        process may run it), ``None`` if this runtime has no such handler."""
        follower = self._followers.get(name)
        return None if follower is None else follower.lease is not None

    def events_of(self, name: str) -> frozenset[type]:
        return self._followers[name].handler.events

    def nudge(self, name: str) -> None:
        """Make handler ``name`` step now, if this runtime has it."""
        wake = self._wakes.get(name)
        if wake is not None:
            self._followers[name].wanted.set()
            wake.set()

    def wait_for(self, position: int, handlers: Sequence[str], *, timeout: float = 10.0) -> bool:
        """Block until each named handler has processed ``position``; False on timeout."""
        return self._waits.wait_for(position, handlers, timeout=timeout)

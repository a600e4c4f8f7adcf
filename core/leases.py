"""Handler leases held by a live process: taken, renewed on a heartbeat, handed over fast.

One process at a time runs a handler, under a lease with a fencing epoch (see
:class:`core.eventstore.EventStore`). The lease is short (``LEASE_TTL``) and a heartbeat
thread renews every lease this process holds, in one write, a few times per lease, while the
process lives, however long a batch takes. So when a process dies (``kill -9``, a lost
machine), another one takes its handlers over once the lease lapses: within
``LEASE_TTL`` plus one attempt (``RETRY``), under 10 s. A process that stalls past its lease
may find it taken: the new holder bumped the epoch, and the stalled one's next checkpoint
write is refused (:class:`~core.errors.LeaseLost`).

A restarted process need not wait its predecessor's lease out: an owner's name says which
process it is (host, PID namespace, PID), and a lease held by a process of this machine that
no longer exists is taken back at once.

Leases are kept with the wall clock: their expiry is stored and compared by every process.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable, Collection
from pathlib import Path
from typing import Protocol

from core.eventstore import EventStore, Lease

log = logging.getLogger(__name__)

LEASE_TTL = 6.0  # seconds a lease lasts unless renewed
RETRY = 1.0  # at most this long between attempts to take a lease another process holds


def _pid_namespace() -> str:
    """This process's PID namespace (Linux), so that PIDs are compared only within one."""
    try:
        return os.readlink("/proc/self/ns/pid").removeprefix("pid:").strip("[]")
    except OSError:
        return "-"


def owner_name() -> str:
    """A name for this process as a lease owner: ``host/pid-namespace/pid/random``."""
    return f"{socket.gethostname()}/{_pid_namespace()}/{os.getpid()}/{uuid.uuid4().hex[:8]}"


def proven_dead(owner: str) -> bool:
    """Whether ``owner`` names a process of this machine (and PID namespace) that no longer
    runs. False whenever that can't be shown: another machine, a name in another form, a
    PID now used by some other process (then its lease is waited out)."""
    parts = owner.split("/")
    if len(parts) != 4 or not parts[2].isdigit():
        return False
    host, namespace, pid = parts[0], parts[1], int(parts[2])
    if host != socket.gethostname() or namespace != _pid_namespace() or namespace == "-":
        return False
    if pid == os.getpid():  # this very process
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # it exists, under another user
        return False
    # It exists; a zombie (killed, not yet reaped) is dead all the same.
    with contextlib.suppress(OSError):
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat.rsplit(")", 1)[-1].split()[0] == "Z"
    return False


class Holder(Protocol):
    """What the keeper knows of a handler it holds the lease for."""

    name: str
    lease: Lease | None
    renew_at: float  # when to renew the lease held, or to ask again for one not held


class LeaseKeeper:
    """Takes and renews the leases of one runtime's handlers."""

    def __init__(self, store: EventStore, *, owner: str, ttl: float,
                 wall_clock: Callable[[], float],
                 new_holder: Callable[[Holder, Lease], None]) -> None:
        self.store = store
        self.owner = owner
        self.ttl = ttl
        self._now = wall_clock
        self._new_holder = new_holder
        self._lock = threading.Lock()  # between a handler's thread and the heartbeat
        self._dead: frozenset[str] = frozenset()  # owners shown dead: taken over at once
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def retry(self) -> float:
        """How long a handler without its lease waits before it tries again."""
        return min(RETRY, self.ttl / 3)

    def hold(self, holder: Holder) -> bool:
        """Whether ``holder``'s lease is held (taken or renewed now if due). A lease another
        process holds is asked for again only after :attr:`retry`, however often the handler
        is woken: asking at every append would cost the database a locked-row wait and this
        process a share of its CPU, many times a second."""
        now = self._now()
        if now < holder.renew_at:
            return holder.lease is not None
        lease = self.store.acquire_lease(holder.name, owner=self.owner, now=now, ttl=self.ttl,
                                         replacing=self._dead)
        with self._lock:
            if lease is None:
                holder.lease = None
                holder.renew_at = now + self.retry  # here: when to ask again
                return False
            if holder.lease is None or holder.lease.epoch != lease.epoch:
                self._new_holder(holder, lease)
            holder.lease = lease
            holder.renew_at = now + self.ttl / 3
        return True

    def find_dead(self, holders: Collection[Holder]) -> None:
        """Note which of ``holders``' leases belong to processes shown dead (this process's
        predecessor, say), so :meth:`hold` takes them at once."""
        owners = self.store.lease_holders([h.name for h in holders])
        self._dead = frozenset(o for o in set(owners.values())
                               if o != self.owner and proven_dead(o))
        for owner in self._dead:
            log.info("taking over the handler leases of %s, which no longer runs", owner)

    # -- the heartbeat -------------------------------------------------------------------------
    def start(self, holders: Collection[Holder]) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._beat, args=(list(holders),), daemon=True,
                                        name="attend-lease-heartbeat")
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)
            self._thread = None

    def _beat(self, holders: list[Holder]) -> None:
        while not self._stop.wait(self.ttl / 3):
            try:
                self.renew(holders)
            except Exception:  # a database hiccup: the next beat tries again
                log.exception("could not renew the handler leases; trying again in %.1f s",
                              self.ttl / 3)

    def renew(self, holders: Collection[Holder]) -> None:
        """Extend every lease held, in one write."""
        held = [h for h in holders if h.lease is not None]
        if not held:
            return
        now = self._now()
        epochs = self.store.renew_leases([h.name for h in held], owner=self.owner, now=now,
                                         ttl=self.ttl)
        with self._lock:
            for holder in held:
                lease = holder.lease
                if lease is None:
                    continue
                if epochs.get(holder.name) == lease.epoch:
                    holder.lease = dataclasses.replace(lease, until=now + self.ttl)
                    holder.renew_at = now + self.ttl / 3
                else:  # taken over: the handler's next step finds out and steps back
                    holder.renew_at = 0.0

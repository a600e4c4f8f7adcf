"""Who holds a delivery claim: an identity that outlives a restart of the same server, and
that no two running processes ever share.

The identity is ``<host>:<slot id>``. Slot ids are random, kept in small files in a
directory per database (under the data directory) and each held with an exclusive
``flock`` while the process runs: a process takes the first slot no one holds, so two
servers on one machine and database get different slots, and a server restarted after a
crash (the kernel drops a dead process's locks) gets its old slot back, and with it its old
claims, which it gives back to the pool at once instead of waiting for them to lapse.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import socket
import uuid
from pathlib import Path

log = logging.getLogger(__package__)

MAX_SLOTS = 64


class OwnerSlot:
    """A stable owner identity, held until :meth:`close` (or the process ends)."""

    def __init__(self, owner: str, handle: int | None) -> None:
        self.owner = owner
        self._handle = handle

    @classmethod
    def take(cls, directory: Path, database: str) -> OwnerSlot:
        """The first free slot for ``database`` in ``directory`` (made if need be); a
        one-off identity when the directory cannot be used."""
        digest = hashlib.sha256(database.encode()).hexdigest()[:12]
        folder = directory / ".attend" / f"delivery-{digest}"
        try:
            folder.mkdir(parents=True, exist_ok=True)
            for slot in range(MAX_SLOTS):
                handle = os.open(folder / f"slot-{slot}", os.O_RDWR | os.O_CREAT, 0o600)
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    os.close(handle)
                    continue
                return cls(f"{socket.gethostname()}:{_slot_id(handle)}", handle)
        except OSError as error:
            log.warning("no lasting delivery identity in %s (%s): after a crash, this "
                        "server's claims wait until they lapse", folder, error)
        return cls.one_off()

    @classmethod
    def one_off(cls) -> OwnerSlot:
        return cls(f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}", None)

    def close(self) -> None:
        if self._handle is not None:
            os.close(self._handle)  # drops the lock
            self._handle = None


def _slot_id(handle: int) -> str:
    """The id kept in a slot's file, written the first time the slot is taken."""
    kept = os.pread(handle, 64, 0).decode("ascii", "replace").strip()
    if len(kept) == 32 and all(c in "0123456789abcdef" for c in kept):
        return kept
    fresh = uuid.uuid4().hex
    os.ftruncate(handle, 0)
    os.pwrite(handle, fresh.encode() + b"\n", 0)
    os.fsync(handle)
    return fresh

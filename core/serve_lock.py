"""One ``attend serve`` per SQLite file: an exclusive lock on ``<database>.lock``.

SQLite runs Attend as one process (one writer, rowid order as commit order, handlers and
the scheduler in that process), so a second ``attend serve`` on the same file is refused
with a message saying why. The lock is ``filelock``'s operating-system lock (``flock`` on
Unix), which the system drops when the process ends, however it ends: a crash leaves
nothing to clean up. The lock file itself stays beside the database.
"""

from __future__ import annotations

from pathlib import Path

from filelock import FileLock, Timeout

from core.errors import AttendError


class AnotherProcessRunning(AttendError):
    """A second ``attend serve`` on one SQLite database."""


class ServeLock:
    """The held lock of one SQLite file; :meth:`release` lets another process have it."""

    def __init__(self, lock: FileLock) -> None:
        self._lock = lock

    @property
    def path(self) -> Path:
        return Path(self._lock.lock_file)

    @classmethod
    def for_database(cls, database: str | None) -> ServeLock | None:
        """Lock the SQLite file ``database``; None for an in-memory database."""
        if database in (None, "", ":memory:"):
            return None
        assert database is not None
        path = Path(database).resolve().with_name(Path(database).name + ".lock")
        return cls.acquire(path, name=Path(database).name)

    @classmethod
    def acquire(cls, path: Path, *, name: str) -> ServeLock:
        # Not per thread: the scheduler may be stopped from another thread than started it.
        lock = FileLock(path, timeout=0, thread_local=False)
        try:
            lock.acquire()
        except Timeout:
            raise AnotherProcessRunning(
                f"another attend serve is already running on {name} (it holds {path}). "
                "SQLite runs Attend as one process: stop the other one first, or use "
                "PostgreSQL to run several.") from None
        return cls(lock)

    def release(self) -> None:
        if self._lock.is_locked:
            self._lock.release()


__all__ = ["AnotherProcessRunning", "ServeLock"]

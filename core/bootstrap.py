"""The composition of the core: engine, event store, router, handlers and service.

Takes plain arguments (a database URL, a clock, options), never the edge's configuration;
``bot/serve.py`` composes the rest (channels, web app, scheduler) around what this builds.

Nothing is created or connected at import time; :func:`bootstrap` does it all, and
:class:`App` owns what it built (``close()`` releases it). Two ways to run handlers:

- ``background=True`` (``attend serve``): handler threads follow the log; a command waits
  for the read models it needs with :meth:`HandlerRuntime.wait_for`.
- ``background=False`` (``attend say``, tests): handlers run in the caller's thread, to idle,
  after every command. When another process holds the handlers (a running ``attend serve``),
  this waits for that process instead.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from core.aggregates.registry import AGGREGATES, register_domain_messages
from core.errors import DomainError, Refusal
from core.eventstore.database import Database
from core.eventstore.sql import PostgresWakeups, SqlEventStore
from core.message_edits import EditPlanner
from core.messages import MessageRegistry
from core.migrations import upgrade
from core.notifier import Notifier
from core.process_managers.attendance_check import AttendanceCheckManager
from core.process_managers.series import SeriesManager
from core.projections import read_models
from core.router import Clock, Router
from core.runtime import Handler, HandlerRuntime, RetryPolicy
from core.service import AttendService, poll_until

log = logging.getLogger(__name__)


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class App:
    db: Database
    store: SqlEventStore
    router: Router
    runtime: HandlerRuntime
    service: AttendService
    clock: Clock
    background: bool
    _closers: list[Callable[[], None]] = field(default_factory=list)
    # Called when delivery jobs were written: by this process's notifier (in its thread),
    # or by any process (PostgreSQL's listening thread).
    _new_jobs: list[Callable[[], None]] = field(default_factory=list)

    def on_new_jobs(self, callback: Callable[[], None]) -> Callable[[], None]:
        """Call ``callback`` whenever delivery jobs are written: this process's as soon as
        they are committed, other processes' with PostgreSQL's notifications (on SQLite only
        polling sees those). Every server's delivery worker looks at once, and they share
        the work. Returns what stops the calls."""
        self._new_jobs.append(callback)
        return lambda: self._new_jobs.remove(callback)

    def jobs_written(self) -> None:
        """Jobs were written (committed, here or by another process): tell who asked."""
        for callback in tuple(self._new_jobs):  # one may be taken off meanwhile
            callback()

    def start(self) -> None:
        """Start following the log in background threads (``attend serve``)."""
        self.runtime.start()
        if not self.db.is_sqlite:
            def heard(position: int) -> None:
                # Our own appends (PostgreSQL notifies us of those too) woke the handlers
                # that wanted them already; only other processes' appends need waking all.
                # The notice may beat our own appending thread: give that a moment.
                if not self.store.appended_here(position, wait=0.05):
                    self.runtime.wake()

            wakeups = PostgresWakeups(self.db, heard, on_jobs=self.jobs_written)
            wakeups.start()
            self._closers.append(wakeups.stop)

    def run_handlers(self) -> bool:
        """Foreground mode: run every handler to idle; False if another process runs them."""
        return self.runtime.run_until_idle()

    def close(self) -> None:
        for closer in reversed(self._closers):
            closer()
        self._closers.clear()
        self.runtime.stop()
        self.db.dispose()


def behind(position: int, names: Sequence[str]) -> None:
    """The command is recorded, but the read models that show its result are still behind
    (their process is slow, or died and its handlers are moving to another): say so, rather
    than answer with what they showed before it."""
    log.warning("read models %s are slow to reach position %d; the command is recorded and "
                "will show once they catch up (is every attend serve healthy?)",
                ", ".join(names), position)
    raise DomainError(Refusal.STILL_CATCHING_UP, CATCHING_UP)


CATCHING_UP = ("That's done, but Attend is still catching up and can't show it yet. Look "
               "again in a few seconds (/attend status).")


def build_registry() -> MessageRegistry:
    registry = MessageRegistry()
    register_domain_messages(registry)
    return registry


def bootstrap(database_url: str, *, clock: Clock = utc_now, background: bool = False,
              migrate: bool = True, extra_handlers: Sequence[Handler] = (),
              retry: RetryPolicy | None = None, poll_interval: float = 1.0,
              read_wait: float = 10.0) -> App:
    """The core over ``database_url``. A command that shows its result waits up to
    ``read_wait`` seconds for the read models to reach it, then says it is recorded."""
    db = Database(database_url)
    if migrate:
        upgrade(db)
    store = SqlEventStore(db, build_registry())
    router = Router(store, AGGREGATES, clock=clock)
    projections = read_models()
    notifier = Notifier()
    handlers: list[Handler] = [*projections, AttendanceCheckManager(), SeriesManager(),
                               notifier, EditPlanner(), *extra_handlers]
    runtime = HandlerRuntime(store, router, handlers, retry=retry, poll_interval=poll_interval,
                             rebuildable={p.name for p in projections})
    if background:
        def catch_up(position: int, names: Sequence[str]) -> None:
            if not runtime.wait_for(position, names, timeout=read_wait):
                behind(position, names)

        def wait_until(predicate: Callable[[], bool]) -> bool:
            return poll_until(predicate, timeout=10.0)
    else:
        def catch_up(position: int, names: Sequence[str]) -> None:
            # run_until_idle is False when another process runs the handlers: wait for it.
            if not runtime.run_until_idle() and not runtime.wait_for(position, names,
                                                                     timeout=read_wait):
                behind(position, names)

        def wait_until(predicate: Callable[[], bool]) -> bool:
            runtime.run_until_idle()
            return poll_until(predicate, timeout=10.0)

    service = AttendService(db, router, clock=clock, catch_up=catch_up, wait_until=wait_until,
                            generation=runtime.generation)
    app = App(db=db, store=store, router=router, runtime=runtime,
              service=service, clock=clock, background=background)
    notifier.on_jobs(app.jobs_written)
    return app


__all__ = ["App", "bootstrap", "build_registry", "utc_now"]

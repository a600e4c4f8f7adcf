"""The scheduler: sends the command for each piece of due work when it is due.

The source of truth is the due-work read model (:mod:`core.projections.due_work`);
APScheduler 3.11 runs in memory as a wake-up timer only, so there is no job store to get
out of step or to share between processes:

- one ``date`` job per live item, id ``due:<key>``, built from the read model at
  :meth:`Scheduler.start` and kept in step by a watcher thread that reads the rows changed
  since it last looked (each row carries the position of the event that last changed it):
  every second, and at once after an append in this process (:meth:`notify_changed`);
- a sweep every 60 s (and once at start) re-syncs every job and runs whatever is due, in
  case a wake-up was lost or the service was down;
- every wake-up runs :meth:`Scheduler.run_due`, one pass at a time per process: it claims
  due items in due order (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so several ``attend
  serve`` processes never take the same item) and sends each one's idempotent command
  through the service's scheduler door. A wake-up that fires twice finds nothing to claim,
  and a command sent twice records nothing the second time.

A command that fails keeps its item claimed for a growing backoff (1 min, doubling, at most
1 h), with the error in ``last_error``; the sweep tries it again after that. Success leaves
the claim in place until the projection marks the item done from the recorded events.

SQLite allows one ``attend serve``: :meth:`Scheduler.start` takes the lock of
:mod:`core.serve_lock` on a file beside the database (``attend.db.lock``) and refuses to run
when another process holds it.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.base import JobLookupError
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.background import BackgroundScheduler

from core.backoff import backoff
from core.errors import ConfigError, DomainError
from core.eventstore import EventStore, RecordedEvent
from core.eventstore.database import Database
from core.projections import due_work
from core.projections.due_work import DueItem, DueKind, DueWorkProjection, claims
from core.router import Clock
from core.runtime import HandlerRuntime
from core.serve_lock import ServeLock
from core.service import AttendService

log = logging.getLogger(__name__)

SWEEP_JOB = "sweep"


class Scheduler:
    """Wake-ups for the due work of one process.

    It takes what it uses: the ``service`` it sends the commands through, the database
    ``db`` whose due-work rows it reads and claims, the handler ``runtime`` that keeps those
    rows (its owner names the claims), and the ``clock``. Give it the ``store`` where
    handlers follow the log in background threads (``attend serve``): an append in this
    process then updates the jobs at once, rather than at the watcher's next look.
    """

    def __init__(self, service: AttendService, *, db: Database, runtime: HandlerRuntime,
                 clock: Clock, store: EventStore | None = None, owner: str | None = None,
                 sweep_seconds: float = 60.0, watch_seconds: float = 1.0,
                 claim_for: timedelta = timedelta(minutes=5), batch_size: int = 20) -> None:
        if DueWorkProjection.name not in runtime.handler_names:
            raise ConfigError("the scheduler needs the due_work read model, which "
                              "core.bootstrap.bootstrap() always runs")
        self._service = service
        self._db = db
        self._runtime = runtime
        self._store = store
        self._clock = clock
        self.owner = owner or runtime.owner
        self._sweep_seconds = sweep_seconds
        self._watch_seconds = watch_seconds
        self._claim_for = claim_for
        self._batch = batch_size
        self._aps: Any = None  # BackgroundScheduler once started
        self._run_lock = threading.Lock()  # one pass of run_due at a time in this process
        self._again = threading.Event()  # a wake-up came while a pass was running
        self._sync_lock = threading.Lock()
        self._seen = 0  # the highest row ``seq`` the jobs reflect
        self._poke = threading.Event()
        self._poked_at = 0
        self._stop = threading.Event()
        self._watcher: threading.Thread | None = None
        self._unsubscribe: Callable[[], None] | None = None
        self._serve_lock: ServeLock | None = None

    # -- running -----------------------------------------------------------------------------
    def start(self, *, paused: bool = False) -> None:
        """Take the SQLite lock, build the jobs, start the timer, the sweep and the watcher.

        ``paused`` keeps the jobs in step without firing any (to look at them).
        """
        if self._aps is not None:
            raise RuntimeError("the scheduler is running already")
        if self._db.is_sqlite:
            self._serve_lock = ServeLock.for_database(self._db.url.database)
        self._stop.clear()
        self._aps = BackgroundScheduler(
            timezone=UTC, jobstores={"default": MemoryJobStore()},
            executors={"default": ThreadPoolExecutor(4)},
            job_defaults={"misfire_grace_time": None, "coalesce": True, "max_instances": 1})
        self._aps.start(paused=paused)
        try:
            self.sync(full=True)
        except Exception:
            self.stop()
            raise
        # The first sweep runs at once: whatever fell due while we were down runs now.
        self._aps.add_job(self._sweep, "interval", seconds=self._sweep_seconds, id=SWEEP_JOB,
                          next_run_time=datetime.now(UTC), replace_existing=True)
        if self._store is not None:
            self._unsubscribe = self._store.subscribe(self.notify_changed)
        self._watcher = threading.Thread(target=self._watch, name="attend-scheduler-watch",
                                         daemon=True)
        self._watcher.start()
        log.info("scheduler started as %s: %d wake-ups planned", self.owner,
                 len(self.jobs()) - 1)

    def stop(self) -> None:
        """Finish the command in hand, stop every thread and release the SQLite lock."""
        self._stop.set()
        self._poke.set()
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        if self._watcher is not None:
            self._watcher.join(timeout=10)
            self._watcher = None
        if self._aps is not None:
            self._aps.shutdown(wait=True)
            self._aps = None
        if self._serve_lock is not None:
            self._serve_lock.release()
            self._serve_lock = None

    def notify_changed(self, recorded: Sequence[RecordedEvent]) -> None:
        """Events were appended in this process: if any can change the due work, update the
        jobs once the due-work read model has caught up (the watcher also looks every second
        on its own)."""
        if any(type(r.event) in DueWorkProjection.events for r in recorded):
            self._poked_at = max(self._poked_at, recorded[-1].position)
            self._poke.set()

    def jobs(self) -> dict[str, datetime]:
        """The planned wake-ups: job id to its next run time (UTC)."""
        if self._aps is None:
            return {}
        return {job.id: job.next_run_time for job in self._aps.get_jobs()}

    # -- doing the work ----------------------------------------------------------------------
    def run_due(self, now: datetime | None = None) -> list[str]:
        """Claim and run every item due at ``now``, in due order; the keys it ran.

        Items that become claimable during the pass (a reminder whose check just opened)
        are run in the same pass. A failed item is postponed, not retried in this pass.
        """
        with self._run_lock:
            return self._run(now or self._clock())

    def _run(self, now: datetime) -> list[str]:
        sent: list[str] = []
        while not self._stop.is_set():
            with self._db.write() as conn:
                batch = claims.claim(conn, owner=self.owner, now=now,
                                       until=now + self._claim_for, limit=self._batch)
            if not batch:
                break
            for item in batch:
                if self._stop.is_set():
                    break
                if self._send(item, now):
                    sent.append(item.key)
        return sent

    def _send(self, item: DueItem, now: datetime) -> bool:
        service = self._service
        try:
            match item.kind:
                case DueKind.START_CHECK:
                    service.start_check_by_schedule(item.game_id, item.team_id)
                case DueKind.REMIND:
                    assert item.check_id is not None and item.reminder_key is not None
                    service.remind_by_schedule(item.check_id, item.reminder_key)
                case DueKind.MINIMUM_CHECK:
                    assert item.check_id is not None
                    service.alert_if_below_minimum(item.check_id, item.key)
                case DueKind.ASK_RESERVES:
                    assert item.check_id is not None
                    service.ask_reserves(item.check_id, item.key)
                case DueKind.ANSWER_DEADLINE:
                    assert item.check_id is not None
                    service.close_at_deadline(item.check_id, item.due_at)
                case DueKind.START_GAME:
                    service.start_game(item.game_id)
                case DueKind.END_GAME:
                    service.end_game(item.game_id)
        except Exception as error:
            retry_at = now + timedelta(seconds=backoff(item.attempts, first=60, longest=3600))
            if isinstance(error, DomainError):
                # Usually the game moved on (cancelled, started) and the read model will
                # skip the item; if not, the backoff keeps the retries rare and visible.
                text = f"{error.code}: {error.message}"
                log.warning("scheduler: %s refused: %s; trying again at %s", item.key, text,
                            f"{retry_at:%Y-%m-%d %H:%M:%S}Z")
            else:
                text = f"{type(error).__name__}: {error}"
                log.exception("scheduler: %s failed; trying again at %s", item.key,
                              f"{retry_at:%Y-%m-%d %H:%M:%S}Z")
            with self._db.write() as conn:
                claims.postpone(conn, item.key, owner=self.owner, until=retry_at, error=text)
            return False
        log.info("scheduler: ran %s (due %s)", item.key, _shown(item))
        if item.last_error is not None:
            with self._db.write() as conn:
                claims.mark_sent(conn, item.key, owner=self.owner)
        return True

    def _run_soon(self, _key: str | None = None) -> None:
        """A wake-up: run a pass now, or have the running pass go round once more."""
        self._again.set()
        while self._again.is_set() and not self._stop.is_set():
            if not self._run_lock.acquire(blocking=False):
                return  # the running pass sees _again and loops
            try:
                while self._again.is_set() and not self._stop.is_set():
                    self._again.clear()
                    self._run(self._clock())
            except Exception:
                log.exception("scheduler: a pass failed; the sweep will try again")
            finally:
                self._run_lock.release()

    def _sweep(self) -> None:
        try:
            self.sync(full=True)
        except Exception:
            log.exception("scheduler: could not read the due work; trying again next sweep")
        self._run_soon()

    # -- keeping the wake-ups in step with the read model ------------------------------------
    def sync(self, *, full: bool = False) -> None:
        """Make the ``date`` jobs match the read model: the rows changed since the last
        look, or (``full``) every pending row."""
        if self._aps is None:
            return
        now = self._clock()
        with self._sync_lock, self._db.read() as conn:
            if full:
                high = due_work.last_change(conn)
                live = {item.key: item for item in due_work.pending(conn) if item.live(now)}
                for job_id in self.jobs():
                    if job_id.startswith("due:") and job_id[4:] not in live:
                        self._remove(job_id[4:])
                for item in live.values():
                    # Overdue items are run by the sweep itself, right after this.
                    if item.due_at > now:
                        self._plan(item, only_if_changed=True)
                self._seen = max(self._seen, high)
                return
            for item in due_work.changed_since(conn, self._seen):
                if item.live(now):
                    self._plan(item, only_if_changed=False)
                else:
                    self._remove(item.key)
                self._seen = max(self._seen, item.seq)

    def _plan(self, item: DueItem, *, only_if_changed: bool) -> None:
        job_id = f"due:{item.key}"
        if only_if_changed:
            job = self._aps.get_job(job_id)
            if job is not None and job.next_run_time == item.due_at:
                return
        self._aps.add_job(self._run_soon, "date", run_date=item.due_at, id=job_id,
                          args=[item.key], replace_existing=True, misfire_grace_time=None)

    def _remove(self, key: str) -> None:
        with contextlib.suppress(JobLookupError):  # it fired already, or was never planned
            self._aps.remove_job(f"due:{key}")

    def _watch(self) -> None:
        while not self._stop.is_set():
            poked = self._poke.wait(self._watch_seconds)
            self._poke.clear()
            if self._stop.is_set():
                return
            if poked and self._poked_at:
                self._runtime.wait_for(self._poked_at, (DueWorkProjection.name,),
                                           timeout=5.0)
            try:
                self.sync()
            except Exception:
                log.exception("scheduler: could not follow the due work; trying again")


def _shown(item: DueItem) -> str:
    """The due time in UTC and in the team's zone, for the log."""
    try:
        local = f"{item.local_due_at:%a %d %b %H:%M %Z} {item.timezone}"
    except Exception:  # an unknown zone must not hide that the command went out
        local = item.timezone
    return f"{item.due_at:%Y-%m-%d %H:%M}Z, {local}"


__all__ = ["Scheduler"]

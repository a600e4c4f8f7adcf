"""PostgreSQL's wake-ups: a thread listening for the notification every append sends, and
the one a transaction that writes delivery jobs sends."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from core.eventstore.database import Database

log = logging.getLogger(__name__)

# The channels' names; each is followed by ``:<schema>``, so schemas sharing a database
# (the tests' do) don't wake each other.
EVENTS = "attend_events"
JOBS = "attend_jobs"


class PostgresWakeups:
    """Listens for this schema's append notifications and calls ``callback`` with their
    positions; with ``on_jobs``, also for new delivery jobs (see
    :func:`core.deliveries.add_jobs`), from any process, this one included.

    Wake-ups only make handlers look sooner: they always poll too, so a lost notification
    (a dropped connection, a restart) delays work by one poll interval, never loses it.
    """

    def __init__(self, db: Database, callback: Callable[[int], None], *,
                 on_jobs: Callable[[], None] | None = None) -> None:
        self._db = db
        self._callback = callback
        self._on_jobs = on_jobs
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="attend-pg-listen", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        import psycopg
        from psycopg import sql

        url = self._db.url.set(drivername="postgresql")
        conninfo = url.render_as_string(hide_password=False)
        while not self._stop.is_set():
            try:
                with psycopg.connect(conninfo, autocommit=True) as conn:
                    row = conn.execute("SELECT current_schema()").fetchone()
                    schema = row[0] if row else "public"
                    events, jobs = f"{EVENTS}:{schema}", f"{JOBS}:{schema}"
                    for channel in (events, jobs) if self._on_jobs else (events,):
                        conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(channel)))
                    while not self._stop.is_set():
                        for note in conn.notifies(timeout=0.5, stop_after=1):
                            if note.channel == events:
                                self._callback(int(note.payload or 0))
                            elif self._on_jobs is not None:
                                self._on_jobs()
            except Exception as error:  # keep listening; polling covers the gap
                log.warning("LISTEN connection lost (%s); retrying in 1 s, polling meanwhile",
                            error)
                self._stop.wait(1.0)

"""PostgreSQL's wake-ups: a thread listening for the notification every append sends."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from core.eventstore.database import Database

log = logging.getLogger(__name__)


class PostgresWakeups:
    """Listens for this schema's append notifications; calls back with positions.

    Wake-ups only make handlers look sooner: they always poll too, so a lost notification
    (a dropped connection, a restart) delays work by one poll interval, never loses it.
    """

    def __init__(self, db: Database, callback: Callable[[int], None]) -> None:
        self._db = db
        self._callback = callback
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
                    channel = f"attend_events:{row[0] if row else 'public'}"
                    conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(channel)))
                    while not self._stop.is_set():
                        for note in conn.notifies(timeout=0.5, stop_after=1):
                            self._callback(int(note.payload or 0))
            except Exception as error:  # keep listening; polling covers the gap
                log.warning("LISTEN connection lost (%s); retrying in 1 s, polling meanwhile",
                            error)
                self._stop.wait(1.0)

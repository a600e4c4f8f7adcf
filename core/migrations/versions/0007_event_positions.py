"""Event positions on PostgreSQL: from a sequence under a lock, instead of a counter row.

Appends used to take their positions by updating the single row of ``event_counter``, whose
trigger sent the notification. Every append then wrote a new version of that row, and ran a
PL/pgSQL trigger. Now an append holds a transaction-level advisory lock while it takes its
positions from the ``event_positions`` sequence, and notifies in the same statement (see
eventstore/sql.py): commit order is kept the same way, for about half the server's work.

The counter table is locked first, so appends of the release before finish (or wait, then
fail on the missing table) before the sequence takes over from the last position written.
SQLite has no counter and is unchanged.

Revision ID: 0007
"""

from __future__ import annotations

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("LOCK TABLE event_counter IN ACCESS EXCLUSIVE MODE")
    op.execute("CREATE SEQUENCE event_positions AS bigint OWNED BY events.position")
    op.execute("SELECT setval('event_positions', last) FROM "
               "(SELECT max(position) AS last FROM events) AS written WHERE last > 0")
    op.execute("DROP TABLE event_counter")  # and its trigger
    op.execute("DROP FUNCTION attend_notify_append()")

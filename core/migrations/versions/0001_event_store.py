"""Event store: events, snapshots, and the durable state of handlers.

Revision ID: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

Json = sa.JSON().with_variant(JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "events",
        sa.Column("position", sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
                  primary_key=True, autoincrement=False),
        sa.Column("stream_id", sa.String(200), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("type", sa.String(100), nullable=False),
        sa.Column("schema_version", sa.Integer, nullable=False),
        sa.Column("data", Json, nullable=False),
        sa.Column("metadata", Json, nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("stream_id", "version", name="events_stream_version"),
    )
    op.create_table(
        "snapshots",
        sa.Column("stream_id", sa.String(200), primary_key=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("state_version", sa.Integer, nullable=False),
        sa.Column("state", Json, nullable=False),
    )
    op.create_table(
        "subscriptions",
        sa.Column("handler", sa.String(100), primary_key=True),
        sa.Column("position", sa.BigInteger, nullable=False),
        sa.Column("owner", sa.String(200)),
        sa.Column("lease_until", sa.Float, nullable=False),
        sa.Column("epoch", sa.Integer, nullable=False),
    )
    op.create_table(
        "parked_events",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("handler", sa.String(100), nullable=False),
        sa.Column("position", sa.BigInteger, nullable=False),
        sa.Column("event_id", sa.String(64), nullable=False),
        sa.Column("type", sa.String(100), nullable=False),
        sa.Column("error", sa.Text, nullable=False),
        sa.Column("parked_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "handler_state",
        sa.Column("handler", sa.String(100), primary_key=True),
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column("state", Json, nullable=False),
    )
    op.create_table(
        "command_outbox",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("handler", sa.String(100), nullable=False),
        sa.Column("command_id", sa.String(64), nullable=False, unique=True),
        sa.Column("type", sa.String(100), nullable=False),
        sa.Column("data", Json, nullable=False),
        sa.Column("correlation_id", sa.String(64), nullable=False),
        sa.Column("causation_id", sa.String(64), nullable=False),
    )
    op.create_table(
        "command_log",
        sa.Column("command_key", sa.String(100), primary_key=True),
        sa.Column("stream_id", sa.String(200), nullable=False),
    )
    if op.get_bind().dialect.name == "postgresql":
        # Appends update this one row in their transaction: the row lock orders commits,
        # so positions are handed out in commit order (see eventstore/sql.py).
        op.create_table(
            "event_counter",
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("position", sa.BigInteger, nullable=False),
        )
        op.execute("INSERT INTO event_counter (id, position) VALUES (1, 0)")
        op.execute(
            """
            CREATE FUNCTION attend_notify_append() RETURNS trigger AS $$
            BEGIN
                -- One channel per schema, so databases that host several Attend
                -- schemas (tests, staging) don't wake each other.
                PERFORM pg_notify('attend_events:' || current_schema(), NEW.position::text);
                RETURN NEW;
            END $$ LANGUAGE plpgsql
            """
        )
        op.execute(
            "CREATE TRIGGER attend_notify_append AFTER UPDATE ON event_counter "
            "FOR EACH ROW EXECUTE FUNCTION attend_notify_append()"
        )

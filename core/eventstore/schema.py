"""Tables of the event store and of the handlers' durable state (SQLAlchemy Core).

Migrations in ``core/migrations`` create these; this module is what queries use.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB

metadata = MetaData()
Json = JSON().with_variant(JSONB(), "postgresql")

events = Table(
    "events", metadata,
    Column("position", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True),
    Column("stream_id", String(200), nullable=False),
    Column("version", Integer, nullable=False),
    Column("type", String(100), nullable=False),
    Column("schema_version", Integer, nullable=False),
    Column("data", Json, nullable=False),
    Column("metadata", Json, nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("stream_id", "version", name="events_stream_version"),
)

snapshots = Table(
    "snapshots", metadata,
    Column("stream_id", String(200), primary_key=True),
    Column("version", Integer, nullable=False),
    Column("state_version", Integer, nullable=False),
    Column("state", Json, nullable=False),
)

subscriptions = Table(
    "subscriptions", metadata,
    Column("handler", String(100), primary_key=True),
    Column("position", BigInteger, nullable=False),
    Column("owner", String(200)),
    Column("lease_until", Float, nullable=False),
    Column("epoch", Integer, nullable=False),
)

parked_events = Table(
    "parked_events", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("handler", String(100), nullable=False),
    Column("position", BigInteger, nullable=False),
    Column("event_id", String(64), nullable=False),
    Column("type", String(100), nullable=False),
    Column("error", Text, nullable=False),
    Column("parked_at", DateTime(timezone=True), nullable=False),
)

handler_state = Table(
    "handler_state", metadata,
    Column("handler", String(100), primary_key=True),
    Column("key", String(200), primary_key=True),
    Column("state", Json, nullable=False),
)

command_outbox = Table(
    "command_outbox", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("handler", String(100), nullable=False),
    Column("command_id", String(64), nullable=False, unique=True),
    Column("type", String(100), nullable=False),
    Column("data", Json, nullable=False),
    Column("correlation_id", String(64), nullable=False),
    Column("causation_id", String(64), nullable=False),
)

command_log = Table(
    "command_log", metadata,
    Column("command_key", String(100), primary_key=True),
    Column("stream_id", String(200), nullable=False),
)

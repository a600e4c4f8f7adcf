"""Types shared by the read models: the UTC column type (and its conversions, for
driver-level SQL) and what a projection is."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy import DateTime, Dialect, String, Table
from sqlalchemy.types import TypeDecorator, TypeEngine

from core.eventstore import HandlerTransaction, RecordedEvent

_SQLITE_LAYOUT = "%Y-%m-%d %H:%M:%S.%f"  # what SQLAlchemy's SQLite DATETIME stores


class UtcDateTime(TypeDecorator[datetime]):
    """An aware UTC ``datetime`` in, an aware UTC ``datetime`` out, on every backend.

    SQLite keeps no zone: values are stored as UTC wall time and come back naive, so the
    zone is put back here. Naive values are refused on the way in: they are a bug upstream.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        # On SQLite, text in the layout SQLAlchemy's DATETIME uses, read back with
        # fromisoformat: SQLAlchemy's own reader runs a regex per value, which dominated
        # the cost of reading a board.
        if dialect.name == "sqlite":
            return dialect.type_descriptor(String(26))
        return dialect.type_descriptor(DateTime(timezone=True))

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        return to_db_time(value, dialect.name)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        return from_db_time(value)


def to_db_time(value: datetime | None, dialect: str) -> Any:
    """An aware datetime as :class:`UtcDateTime` stores it (for driver-level SQL)."""
    if value is None:
        return None
    if value.tzinfo is None:
        raise ValueError(f"naive datetime {value!r}: read models store aware UTC times")
    value = value.astimezone(UTC)
    return value.strftime(_SQLITE_LAYOUT) if dialect == "sqlite" else value


def from_db_time(value: Any) -> datetime | None:
    """What :class:`UtcDateTime` gives back, from what the driver returned (for rows from
    :class:`~core.eventstore.database.DriverSql`)."""
    if value is None:
        return None
    if isinstance(value, str):
        return datetime.fromisoformat(value).replace(tzinfo=UTC)
    stored: datetime = value
    return stored.replace(tzinfo=UTC) if stored.tzinfo is None else stored.astimezone(UTC)


class Projection(Protocol):
    """A handler (see :class:`core.runtime.Handler`) that owns read-model tables."""

    name: str
    events: frozenset[type]
    tables: tuple[Table, ...]  # every table it writes, parents first, so rebuild can clear

    def handle(self, tx: HandlerTransaction, recorded: RecordedEvent) -> None: ...

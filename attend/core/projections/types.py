"""Types shared by the read models: the UTC column type and what a projection is."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy import DateTime, Dialect, Table
from sqlalchemy.types import TypeDecorator

from attend.core.eventstore import HandlerTransaction, RecordedEvent


class UtcDateTime(TypeDecorator[datetime]):
    """An aware UTC ``datetime`` in, an aware UTC ``datetime`` out, on every backend.

    SQLite keeps no zone: values are stored as UTC wall time and come back naive, so the
    zone is put back here. Naive values are refused on the way in: they are a bug upstream.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: read models store aware UTC times")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        stored: datetime = value
        if stored.tzinfo is None:
            return stored.replace(tzinfo=UTC)
        return stored.astimezone(UTC)


class Projection(Protocol):
    """A handler (see :class:`attend.core.runtime.Handler`) that owns read-model tables."""

    name: str
    events: frozenset[type]
    tables: tuple[Table, ...]  # every table it writes, parents first, so rebuild can clear

    def handle(self, tx: HandlerTransaction, recorded: RecordedEvent) -> None: ...

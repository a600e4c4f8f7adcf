"""Every event's time is written as ``isoformat`` writes it, whichever times come in turn."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from core.eventstore import time_text

START = datetime(2026, 11, 28, 15, 1, 9, 123456, tzinfo=UTC)


def test_times_in_turn_are_written_as_isoformat_writes_them() -> None:
    rng = random.Random(7)
    times = [START + timedelta(microseconds=rng.randrange(0, 3_000_000)) for _ in range(2000)]
    times += [
        START.replace(microsecond=0),  # a whole second: no fraction
        START.replace(microsecond=1),
        START.replace(microsecond=999_999),
        START.replace(month=12),  # the same second of another month: not the cached text
        START.replace(year=2027),
        START.replace(day=27),
        START.replace(hour=16),
        START.replace(minute=2),
        START,
        START.astimezone(timezone(timedelta(hours=-4))),  # offsets other than UTC
        START.astimezone(ZoneInfo("Europe/Berlin")),
        START.astimezone(ZoneInfo("UTC")),  # UTC, but not datetime.UTC
        START.replace(tzinfo=None),  # naive
    ]
    for t in times:
        assert time_text(t) == t.isoformat()
        assert datetime.fromisoformat(time_text(t)) == t

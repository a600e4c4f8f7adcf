"""The one rule for waiting before a retry: first, then doubling, never past the longest."""

from __future__ import annotations

import pytest

from core.backoff import backoff
from core.notifications import BACKOFF_FIRST_S, BACKOFF_MAX_S, retry_delay


def test_the_wait_doubles_from_the_first_and_stops_at_the_longest() -> None:
    waits = [backoff(attempt, first=60, longest=3600) for attempt in range(1, 9)]
    assert waits == [60, 120, 240, 480, 960, 1920, 3600, 3600]


@pytest.mark.parametrize("attempt", [0, -3])
def test_no_attempt_yet_waits_the_first(attempt: int) -> None:
    assert backoff(attempt, first=5, longest=300) == 5


def test_a_delivery_retries_on_its_own_scale() -> None:
    assert retry_delay(1) == BACKOFF_FIRST_S
    assert retry_delay(50) == BACKOFF_MAX_S

"""The edit worker's budget per platform: a burst at once, then a steady rate."""

from __future__ import annotations

import pytest

from bot.edits.worker import Budget


def test_a_budget_allows_its_burst_then_says_how_long_to_wait(
        monkeypatch: pytest.MonkeyPatch) -> None:
    now = [100.0]
    monkeypatch.setattr("bot.edits.worker.time.monotonic", lambda: now[0])
    budget = Budget(per_second=2.0, burst=3.0)
    assert [budget.take() for _ in range(3)] == [0.0, 0.0, 0.0]
    assert budget.take() == pytest.approx(0.5)  # one more in half a second, at 2 a second
    now[0] += 0.5
    assert budget.take() == 0.0
    now[0] += 10.0  # a long quiet spell refills only up to the burst
    assert [budget.take() for _ in range(4)][-1] > 0

"""How long to wait before trying again: the one rule every retry in Attend follows.

The first retry waits ``first``; each one after waits twice as long as the one before,
never more than ``longest``. Callers keep their own ``first`` and ``longest`` (a delivery,
a scheduled command, a chat edit, a Discord sign-in each have theirs).
"""

from __future__ import annotations


def backoff(attempt: int, *, first: float, longest: float) -> float:
    """Seconds to wait before retry number ``attempt`` (1 for the first retry)."""
    return min(first * 2.0 ** max(attempt - 1, 0), longest)

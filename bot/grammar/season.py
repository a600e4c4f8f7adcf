"""What ``season`` and ``calendar`` are read into: the season's attendance, and a player's
calendar feed link. Neither takes words of its own (``--team`` is read before the grammar).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, kw_only=True, slots=True)
class Season:
    """Per player: games asked, in, out, maybe, no answer, late drop-outs, the rate; and,
    for a captain, a private link to the season page with its CSV."""


@dataclass(frozen=True, kw_only=True, slots=True)
class Calendar:
    """The asking player's private iCalendar link to the team's games."""

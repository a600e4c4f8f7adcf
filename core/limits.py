"""How long the things people type may be: one list, so every door refuses the same."""

from __future__ import annotations

MAX_NAME = 80  # team, player and opponent names
MAX_PLACE = 120  # where a game is played
MAX_NOTE = 200  # a note with an answer, a reason for a cancellation
MAX_REASON = MAX_NOTE
MAX_PLAYERS = 200  # the largest minimum or maximum a team may set

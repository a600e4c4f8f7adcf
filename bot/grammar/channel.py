"""Parsing ``channel here`` and ``channel none``: the team's channel (issue 16.2)."""

from __future__ import annotations

from collections.abc import Sequence

from bot.grammar.commands import TeamChannel
from bot.grammar.usage import fail

_HERE, _NONE = {"here", "this"}, {"none", "off"}


def parse_channel(words: Sequence[str]) -> TeamChannel:
    """``channel here`` binds the channel it is typed in; ``channel none`` unbinds."""
    word = " ".join(words).lower()
    if word in _HERE:
        return TeamChannel(bind=True)
    if word in _NONE:
        return TeamChannel(bind=False)
    fail("channel", "Say channel here (in the team's channel) or channel none.")

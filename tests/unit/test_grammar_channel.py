"""The grammar of the team's channel: ``channel here|none`` and ``team settings dms``."""

from __future__ import annotations

import pytest

from bot import grammar


def test_channel_here_and_none() -> None:
    assert grammar.parse("/attend channel here") == grammar.TeamChannel(bind=True)
    assert grammar.parse("channel none") == grammar.TeamChannel(bind=False)
    with pytest.raises(grammar.GrammarError) as refused:
        grammar.parse("/attend channel #general")
    assert refused.value.usage == "/attend channel here|none"


def test_team_settings_turn_dms_off_and_on() -> None:
    off = grammar.parse("team settings dms off")
    assert isinstance(off, grammar.Settings) and off.changes is not None
    assert off.changes.dms is False
    on = grammar.parse("team settings dms on lead 48h")
    assert isinstance(on, grammar.Settings) and on.changes is not None
    assert on.changes.dms is True and on.changes.lead_minutes == 48 * 60
    with pytest.raises(grammar.GrammarError):
        grammar.parse("team settings dms sometimes")

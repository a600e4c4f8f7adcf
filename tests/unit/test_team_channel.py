"""A team's channel: given past events, when a command, then these events or this refusal."""

from __future__ import annotations

import pytest

from core.aggregates.team import (
    TEAM,
    BindTeamChannel,
    ChangeTeamSettings,
    TeamChannelBound,
    TeamChannelUnbound,
    TeamSettingsChanged,
    TeamState,
)
from core.errors import DomainError, Refusal
from tests.unit.test_team import NOW, REGISTERED, SETTINGS, T

BOUND = (*REGISTERED, TeamChannelBound(team_id=T, platform="slack", channel_id="T1:C42"))


def given(*events: object) -> TeamState:
    return TEAM.replay(events)


def test_a_captain_binds_the_team_to_a_channel_and_unbinds_it() -> None:
    bind = BindTeamChannel(team_id=T, platform="slack", channel_id="T1:C42")
    assert TEAM.decide(given(*REGISTERED), bind, now=NOW) == [
        TeamChannelBound(team_id=T, platform="slack", channel_id="T1:C42")]
    assert TEAM.decide(given(*BOUND), bind, now=NOW) == []  # the same channel again
    moved = BindTeamChannel(team_id=T, platform="discord", channel_id="4000")
    assert TEAM.decide(given(*BOUND), moved, now=NOW) == [
        TeamChannelBound(team_id=T, platform="discord", channel_id="4000")]
    unbind = BindTeamChannel(team_id=T)
    assert TEAM.decide(given(*BOUND), unbind, now=NOW) == [TeamChannelUnbound(team_id=T)]
    assert TEAM.decide(given(*BOUND, TeamChannelUnbound(team_id=T)), unbind, now=NOW) == []


def test_dms_turn_off_only_for_a_team_with_a_channel() -> None:
    off = ChangeTeamSettings(team_id=T, dms=False)
    with pytest.raises(DomainError) as refused:
        TEAM.decide(given(*REGISTERED), off, now=NOW)
    assert refused.value.code is Refusal.NO_TEAM_CHANNEL
    [changed] = TEAM.decide(given(*BOUND), off, now=NOW)
    assert isinstance(changed, TeamSettingsChanged) and changed.settings.dms is False
    assert SETTINGS.dms is True


def test_a_channel_needs_a_platform_and_an_id() -> None:
    with pytest.raises(DomainError) as refused:
        TEAM.decide(given(*REGISTERED), BindTeamChannel(team_id=T, platform="slack",
                                                        channel_id=" "), now=NOW)
    assert refused.value.code is Refusal.NO_TEAM_CHANNEL

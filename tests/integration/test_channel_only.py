"""A team with a channel and DMs off: invitations and new times are posted in the channel
only, while reminders still go to each player who hasn't answered. Runs on every backend."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.commands import CommandRunner
from bot.team_channel import Place
from core.aggregates.common import Answer
from core.bootstrap import App
from core.errors import DomainError, Refusal
from core.message_edits import board_target, find
from core.notifications import NotificationKind
from tests.integration.test_notifier import CAPTAIN, Team, app  # noqa: F401  (a fixture)
from tests.support.clock import FakeClock


@pytest.fixture
def tigers(app: App, clock: FakeClock) -> Team:  # noqa: F811  (the fixture above)
    return Team(app, clock)


def test_dms_off_needs_a_channel_and_then_invitations_go_to_the_channel_only(
        tigers: Team) -> None:
    service = tigers.service
    with pytest.raises(DomainError) as refused:
        service.change_settings(CAPTAIN, dms=False)
    assert refused.value.code is Refusal.NO_TEAM_CHANNEL
    team = service.bind_channel(CAPTAIN, "discord", "4100")
    assert (team.chat_platform, team.chat_channel, team.dms) == ("discord", "4100", True)
    assert service.change_settings(CAPTAIN, dms=False).dms is False

    game = tigers.check()
    assert tigers.to(NotificationKind.INVITATION) == []
    with tigers.app.db.read() as conn:  # the board is to be posted in the channel
        posted = find(conn, board_target(game.check_id or ""))
    assert posted is not None and (posted.platform, posted.channel_id) == ("discord", "4100")

    tigers.answer(tigers.ana, Answer.YES)
    service.remind(CAPTAIN, "G1")
    assert sorted(tigers.to(NotificationKind.REMINDER)) == ["Ben", "Cal", "Cap"]
    service.reschedule_game(CAPTAIN, "G1", tigers.clock.now + timedelta(days=3))
    assert tigers.to(NotificationKind.RESCHEDULE) == []


def test_with_dms_on_a_channel_adds_the_board_and_every_dm_still_goes(tigers: Team) -> None:
    tigers.service.bind_channel(CAPTAIN, "slack", "T1:C42")
    tigers.check()
    assert tigers.to(NotificationKind.INVITATION) == ["Cap", "Ana", "Ben", "Cal"]
    unbound = tigers.service.bind_channel(CAPTAIN, None, None)
    assert unbound.chat_channel is None


def test_channel_here_outside_a_chat_channel_says_where_to_type_it(tigers: Team) -> None:
    runner = CommandRunner(tigers.service, clock=tigers.clock)
    console = runner.run(CAPTAIN, "/attend channel here")
    assert not console.ok and "Slack or Discord channel" in console.text
    in_a_dm = runner.run(CAPTAIN, "/attend channel here",
                         place=Place(platform="slack", channel_id="T1:D9", direct=True))
    assert not in_a_dm.ok
    assert runner.run(CAPTAIN, "/attend channel none").text == \
        "Tigers has no channel; nothing changed."
    assert tigers.service.context(CAPTAIN).team.chat_channel is None

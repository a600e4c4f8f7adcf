"""Which messages the planner marks stale, and how claims make edits survive a crash and
never lose a change: core/message_edits.py on every backend."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core.aggregates import check, team
from core.aggregates.common import Answer, Channel
from core.bootstrap import App
from core.message_edits import EditTarget, board_target, claim_due, dm_target, find, mark_shown
from core.projections.roster import PlayerView
from tests.integration.test_notifier import CAPTAIN, Team, app  # noqa: F401  (a fixture)
from tests.support.clock import FakeClock

LEASE = timedelta(seconds=60)


@pytest.fixture
def tigers(app: App, clock: FakeClock) -> Team:  # noqa: F811  (the fixture above)
    return Team(app, clock)


def claim(tigers: Team, *, owner: str = "w1") -> list[EditTarget]:
    tigers.app.run_handlers()
    with tigers.app.db.write() as conn:
        return claim_due(conn, now=tigers.clock.now, delay=timedelta(0), owner=owner,
                         limit=10, lease=LEASE)


def delivered(tigers: Team, check_id: str, player: PlayerView, channel: Channel, *,
              key: str = "invite") -> None:
    """A message to the player went out on ``channel``, as the delivery worker records it."""
    tigers.app.router.dispatch(check.RecordDelivery(
        check_id=check_id, player_id=player.player_id, message_key=key, channel=channel,
        reference=f"D-{player.name}:1.0"), actor="system:delivery")


def test_a_team_without_a_channel_gets_no_board_and_dms_follow_answers_only(
        tigers: Team) -> None:
    check_id = tigers.check().check_id or ""
    delivered(tigers, check_id, tigers.ana, Channel.SLACK)
    assert claim(tigers) == []  # the DM shows what it was sent with: nothing to edit
    tigers.answer(tigers.ana, Answer.YES)
    [dm] = claim(tigers)
    assert dm.target == dm_target(check_id, tigers.ana.player_id) and dm.version == 2
    with tigers.app.db.read() as conn:
        assert find(conn, board_target(check_id)) is None


def test_a_player_reached_by_email_has_no_message_to_keep(tigers: Team) -> None:
    check_id = tigers.check().check_id or ""
    delivered(tigers, check_id, tigers.ben, Channel.EMAIL)
    tigers.answer(tigers.ben, Answer.NO)
    assert claim(tigers) == []
    with tigers.app.db.read() as conn:
        assert find(conn, dm_target(check_id, tigers.ben.player_id)) is None


def test_a_dm_delivered_after_an_answer_is_brought_up_to_date(tigers: Team) -> None:
    check_id = tigers.check().check_id or ""
    delivered(tigers, check_id, tigers.ana, Channel.DISCORD)
    tigers.answer(tigers.ana, Answer.MAYBE)
    [dm] = claim(tigers)
    with tigers.app.db.write() as conn:
        mark_shown(conn, dm, now=tigers.clock.now, next_edit=tigers.clock.now)
    assert claim(tigers) == []
    # A reminder, built before the answer was recorded:
    delivered(tigers, check_id, tigers.ana, Channel.DISCORD, key="remind:1")
    [again] = claim(tigers)
    assert again.target == dm_target(check_id, tigers.ana.player_id)
    assert again.version > dm.version


def test_a_claimed_edit_that_never_finished_is_taken_up_again_after_its_lease(
        tigers: Team) -> None:
    tigers.service.bind_channel(CAPTAIN, "slack", "T1:C42")
    tigers.check()
    [board] = claim(tigers)  # the board, to be posted
    assert board.reference is None and (board.platform, board.channel_id) == ("slack",
                                                                             "T1:C42")
    assert claim(tigers, owner="w2") == []  # held by w1, which then crashes
    tigers.clock.advance(seconds=61)
    [again] = claim(tigers, owner="w2")
    assert again.target == board.target


def test_an_answer_during_an_edit_leaves_the_message_stale_for_the_next(tigers: Team) -> None:
    tigers.service.bind_channel(CAPTAIN, "slack", "T1:C42")
    check_id = tigers.check().check_id or ""
    [board] = claim(tigers)
    delivered(tigers, check_id, tigers.ben, Channel.SLACK)
    tigers.answer(tigers.ben, Answer.NO)  # arrives while the board is being posted
    with tigers.app.db.write() as conn:
        mark_shown(conn, board, now=tigers.clock.now, next_edit=tigers.clock.now,
                   reference="C42:1.0")
    [board_again, ben] = sorted(claim(tigers), key=lambda t: t.kind)
    assert board_again.target == board.target and board_again.version > board.version
    assert board_again.reference == "C42:1.0" and ben.kind == "dm"
    with tigers.app.db.write() as conn:
        mark_shown(conn, board_again, now=tigers.clock.now, next_edit=tigers.clock.now)
        mark_shown(conn, ben, now=tigers.clock.now, next_edit=tigers.clock.now)
    assert claim(tigers) == []  # everything shows the latest


def bind(tigers: Team, channel: str | None) -> None:
    tigers.app.router.dispatch(team.BindTeamChannel(
        team_id=tigers.cap.team_id, platform=None if channel is None else "slack",
        channel_id=channel), actor=CAPTAIN.key)


def test_a_channel_bound_while_a_check_is_open_gets_its_board(tigers: Team) -> None:
    check_id = tigers.check().check_id or ""
    bind(tigers, "W1:C1")
    [posted] = claim(tigers)
    assert (posted.target, posted.channel_id, posted.reference) == (
        board_target(check_id), "W1:C1", None)  # no message yet: the worker posts one
    with tigers.app.db.write() as conn:
        mark_shown(conn, posted, now=tigers.clock.now, next_edit=tigers.clock.now,
                   reference="1.0")

    bind(tigers, "W1:C1")  # bound again to the same channel: no second board
    assert claim(tigers) == []

    bind(tigers, "W1:C2")  # moved: a board posted in the new channel
    [moved] = claim(tigers)
    assert (moved.channel_id, moved.reference) == ("W1:C2", None)


def test_a_channel_bound_after_the_check_closed_gets_no_board(tigers: Team) -> None:
    check_id = tigers.check().check_id or ""
    tigers.service.cancel_game(CAPTAIN, "G1", reason="rain")
    bind(tigers, "W1:C1")
    assert claim(tigers) == []
    with tigers.app.db.read() as conn:
        assert find(conn, board_target(check_id)) is None

"""The seed story and the service's rules, end to end through the composition root.

Everything goes through :class:`AttendService`, the one door every adapter uses, on SQLite
and PostgreSQL, with the real router, process manager and read models.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from bot.commands import CommandRunner
from core.actors import Actor
from core.aggregates import game
from core.aggregates.check import AnswerDeadlineSet
from core.aggregates.common import Answer, AnswerSource
from core.bootstrap import CATCHING_UP, App, bootstrap
from core.errors import DomainError
from tests.support.clock import FakeClock
from tests.support.threads import run_threads

CAPTAIN = Actor.console("captain@example.com", name="Casey Captain")
ALICE = Actor.console("alice@example.com")
BOB = Actor.console("bob@example.com")
SATURDAY_7PM = datetime(2026, 12, 6, 0, 0, tzinfo=UTC)  # Sat Dec 5, 7 PM in Toronto


@pytest.fixture
def app(database_url: str, clock: FakeClock) -> Iterator[App]:
    built = bootstrap(database_url, clock=clock)
    yield built
    built.close()


def alchemists(app: App, *players: tuple[str, str]) -> None:
    service = app.service
    service.create_team(CAPTAIN, "The Alchemists", "America/Toronto")
    for name, email in players:
        service.add_player(CAPTAIN, name, email=email)


def refused(code: str) -> pytest.RaisesExc[DomainError]:
    return pytest.raises(DomainError, check=lambda e: e.code == code)


def test_the_seed_story(app: App, clock: FakeClock) -> None:
    service = app.service
    alchemists(app, ("Alice McGee", "alice@example.com"), ("Bob Ross", "bob@example.com"))
    scheduled = service.schedule_game(CAPTAIN, SATURDAY_7PM, location="Monarch Park",
                                      opponent="Hawks", original_text="sat 7pm")
    assert scheduled.game.handle == "G1"
    status = service.start_check(CAPTAIN, "G1")
    assert status.board is not None
    assert [line.name for line in status.board.lines] == ["Casey Captain", "Alice McGee",
                                                          "Bob Ross"]
    assert status.board.waiting == 3

    service.answer(ALICE, Answer.YES, ref="G1")
    clock.advance(minutes=5)
    changed = service.answer(ALICE, Answer.MAYBE, ref="G1", note="running late")
    assert changed.changed and changed.board.maybe == 1 and changed.board.yes == 0
    again = service.answer(ALICE, Answer.MAYBE, ref="G1", note="running late")
    assert not again.changed  # the same answer twice records nothing

    clock.now = SATURDAY_7PM
    service.start_game(scheduled.game.game_id)
    app.run_handlers()
    clock.advance(hours=2)
    service.end_game(scheduled.game.game_id)
    app.run_handlers()
    with refused("check_closed"):
        service.answer(BOB, Answer.YES, ref="G1")

    final = service.status(CAPTAIN, "G1")
    assert final.game.status == "ended"
    assert final.board is not None and not final.board.open
    alice = next(ln for ln in final.board.lines if ln.name == "Alice McGee")
    assert (alice.answer, alice.note, alice.source) == (Answer.MAYBE, "running late",
                                                        AnswerSource.CONSOLE)
    page = service.board_for_game(final.game.game_id)  # the board page has the changes
    assert page is not None and page.board is not None
    assert [(c.answer, c.previous) for c in page.board.history] == [
        (Answer.YES, None), (Answer.MAYBE, Answer.YES)]
    assert final.board.non_responders == ("Casey Captain", "Bob Ross")
    _, season = service.season(CAPTAIN)
    by_name = {line.name: line for line in season}
    assert (by_name["Alice McGee"].invited, by_name["Alice McGee"].maybe) == (1, 1)
    assert (by_name["Bob Ross"].invited, by_name["Bob Ross"].no_answer) == (1, 1)


def test_cancel_closes_the_check_and_tells_nobody_can_answer(app: App) -> None:
    alchemists(app, ("Alice", "alice@example.com"))
    app.service.schedule_game(CAPTAIN, SATURDAY_7PM, opponent="Hawks")
    app.service.start_check(CAPTAIN, "G1")
    cancelled = app.service.cancel_game(CAPTAIN, "G1", "pitch flooded")
    app.run_handlers()
    assert cancelled.game.status == "cancelled" and cancelled.game.cancel_reason == \
        "pitch flooded"
    with refused("check_closed"):
        app.service.answer(ALICE, Answer.YES, ref="G1")


def test_late_joiner_is_invited_and_leaver_no_longer_counts(app: App) -> None:
    alchemists(app, ("Alice", "alice@example.com"))
    app.service.schedule_game(CAPTAIN, SATURDAY_7PM)
    app.service.start_check(CAPTAIN, "G1")
    app.service.answer(ALICE, Answer.YES, ref="G1")
    app.service.add_player(CAPTAIN, "Bob", email="bob@example.com")
    app.run_handlers()
    app.service.answer(BOB, Answer.NO, ref="G1")  # invited although he joined late
    app.service.remove_player(CAPTAIN, "alice@example.com")
    app.run_handlers()
    board = app.service.status(CAPTAIN, "G1").board
    assert board is not None
    assert [ln.name for ln in board.lines] == ["Casey Captain", "Bob"]
    assert (board.yes, board.no) == (0, 1)  # Alice's yes went with her


def test_waitlist_promotion_follows_the_order_of_answers(app: App) -> None:
    alchemists(app, ("Alice", "alice@example.com"), ("Bob", "bob@example.com"))
    app.service.change_settings(CAPTAIN, max_players=1)
    app.service.schedule_game(CAPTAIN, SATURDAY_7PM)
    app.service.start_check(CAPTAIN, "G1")
    app.service.answer(ALICE, Answer.YES, ref="G1")
    bob = app.service.answer(BOB, Answer.YES, ref="G1")
    bob_line = next(ln for ln in bob.board.lines if ln.name == "Bob")
    assert bob.board.yes == 1 and bob_line.waitlist_position == 1
    promoted = app.service.answer(ALICE, Answer.NO, ref="G1", note="sick")
    bob_line = next(ln for ln in promoted.board.lines if ln.name == "Bob")
    assert promoted.board.yes == 1 and bob_line.waitlist_position is None


def test_permissions_and_bad_input_are_refused_and_change_nothing(app: App,
                                                                  clock: FakeClock) -> None:
    alchemists(app, ("Alice", "alice@example.com"))
    before = app.store.last_position()
    with refused("captain_only"):
        app.service.schedule_game(ALICE, SATURDAY_7PM)
    with refused("captain_only"):
        app.service.add_player(ALICE, "Bob", email="bob@example.com")
    with refused("start_in_past"):
        app.service.schedule_game(CAPTAIN, clock.now - timedelta(hours=1))
    with refused("unknown_game"):
        app.service.status(CAPTAIN, "G7")
    with refused("invalid_email"):
        app.service.add_player(CAPTAIN, "Bob", email="bob@")
    with refused("invalid_timezone"):
        app.service.change_settings(CAPTAIN, timezone="Mars/Olympus")
    with refused("not_on_a_team"):
        app.service.status(BOB, "G1")
    with refused("player_already_on_team"):
        app.service.add_player(CAPTAIN, "Alice again", email="ALICE@example.com")
    app.service.schedule_game(CAPTAIN, SATURDAY_7PM)
    with refused("no_check"):
        app.service.answer(ALICE, Answer.YES, ref="G1")
    with refused("captain_only"):
        app.service.answer(ALICE, Answer.YES, ref="G1", on_behalf_of="Casey Captain")
    assert app.store.last_position() == before + 1  # only the game that was scheduled


def test_a_captain_sets_an_answer_deadline_in_the_teams_time_zone(app: App,
                                                                  clock: FakeClock) -> None:
    alchemists(app, ("Alice", "alice@example.com"))
    runner = CommandRunner(app.service, clock=clock)
    app.service.schedule_game(CAPTAIN, SATURDAY_7PM)  # it is Sat Nov 28, 10 AM in Toronto

    def say(actor: Actor, line: str) -> tuple[bool, str]:
        reply = runner.run(actor, line)
        return reply.ok, reply.text

    assert say(CAPTAIN, "/attend deadline G1 fri 6pm") == (False, (
        "G1 has no attendance check yet. A captain can start it with /attend check G1."))
    app.service.start_check(CAPTAIN, "G1")
    app.run_handlers()
    before = app.store.last_position()
    assert say(ALICE, "/attend deadline G1 fri 6pm") == (False, (
        "Only a captain can set answer deadlines. Ask Casey Captain."))
    with refused("captain_only"):
        app.service.set_deadline(ALICE, "G1", SATURDAY_7PM - timedelta(hours=1))
    assert say(CAPTAIN, "/attend deadline G1 2026-11-27 18:00") == (False, (
        "Fri Nov 27, 6:00 PM EST is in the past. Pick a time that is still ahead."))
    with refused("deadline_in_past"):
        app.service.set_deadline(CAPTAIN, "G1", clock.now)
    assert say(CAPTAIN, "/attend deadline G1 2026-12-05 20:00") == (False, (
        "Answers can't close after the game starts; pick an earlier time. "
        "G1 starts Sat Dec 5, 7:00 PM EST."))
    assert app.store.last_position() == before  # every refusal recorded nothing

    assert say(CAPTAIN, "/attend deadline G1 fri 6pm") == (
        True, "Answers for G1 close Fri Dec 4, 6:00 PM EST.")
    assert say(CAPTAIN, "/attend deadline fri 6pm") == (  # the next game; nothing new
        True, "Answers for G1 close Fri Dec 4, 6:00 PM EST.")
    recorded = [r.event for r in app.store.read_all(after=before, limit=100)
                if isinstance(r.event, AnswerDeadlineSet)]
    assert [e.deadline for e in recorded] == [datetime(2026, 12, 4, 23, 0, tzinfo=UTC)]
    assert "\nAnswers close Fri Dec 4, 6:00 PM EST\n" in say(CAPTAIN, "/attend status G1")[1]

    assert say(ALICE, "/attend deadline G1 none") == (False, (
        "Only a captain can clear answer deadlines. Ask Casey Captain."))
    assert say(CAPTAIN, "/attend deadline G1 none") == (
        True, "Answers for G1 now close when the game starts.")
    assert "Answers close" not in say(CAPTAIN, "/attend status G1")[1]
    cleared = app.store.last_position()
    assert say(CAPTAIN, "/attend deadline none") == (  # none to clear: nothing new
        True, "Answers for G1 now close when the game starts.")
    assert app.store.last_position() == cleared
    assert say(CAPTAIN, "/attend deadline G1 fri 6pm")[0]

    app.service.cancel_game(CAPTAIN, "G1")
    app.run_handlers()
    assert say(CAPTAIN, "/attend deadline G1 fri 5pm") == (False, (
        "Answers for G1 are closed already, so there's no deadline left to set."))
    assert say(CAPTAIN, "/attend deadline G1 none") == (False, (
        "Answers for G1 are closed already, so there's no deadline left to clear."))
    assert "Answers close" not in say(CAPTAIN, "/attend status G1")[1]  # closed: moot


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_twenty_players_answering_at_once_are_all_counted(app: App) -> None:
    players = [(f"Player {i:02}", f"p{i}@example.com") for i in range(20)]
    alchemists(app, *players)
    app.service.change_settings(CAPTAIN, max_players=12)
    app.service.schedule_game(CAPTAIN, SATURDAY_7PM)
    app.service.start_check(CAPTAIN, "G1")
    start = threading.Barrier(20)

    def answer(i: int) -> None:
        start.wait()
        app.service.answer(Actor.console(f"p{i}@example.com"), Answer.YES, ref="G1")

    assert run_threads(20, answer) == []
    app.run_handlers()
    status = app.service.status(CAPTAIN, "G1")
    board = status.board
    assert board is not None
    assert board.yes == 12 and board.waitlisted == 8  # the maximum holds under the race
    assert sorted(ln.waitlist_position for ln in board.lines
                  if ln.waitlist_position) == list(range(1, 9))
    page = app.service.board_for_game(status.game.game_id)
    assert page is not None and page.board is not None and len(page.board.history) == 20


def test_scheduling_says_when_the_players_will_be_asked(app: App, clock: FakeClock) -> None:
    alchemists(app, ("Alice", "alice@example.com"))
    runner = CommandRunner(app.service, clock=clock)  # now: Sat Nov 28, 10 AM in Toronto
    far = runner.run(CAPTAIN, "/attend schedule 2026-12-12 19:00 at Monarch Park vs Hawks")
    assert far.ok and far.text == (
        "Scheduled G1 · Sat Dec 12, 7:00 PM EST vs Hawks at Monarch Park.\n"
        "The players will be asked on Thu Dec 10, 7:00 PM EST; /attend check G1 asks them "
        "now.")
    near = runner.run(CAPTAIN, "/attend schedule tomorrow 18:30 vs Owls")
    assert near.ok and near.text.endswith("the players are being asked now.")
    refused = runner.run(ALICE, "/attend schedule tomorrow 18:30 vs Owls")
    assert not refused.ok and refused.text.startswith("Only a captain can schedule games.")


def test_someone_on_two_teams_names_one_as_attend_say_team_does(app: App,
                                                                clock: FakeClock) -> None:
    alchemists(app, ("Alice", "alice@example.com"))
    runner = CommandRunner(app.service, clock=clock)
    assert runner.run(CAPTAIN, "/attend team create Night Owls tz UTC").ok

    assert runner.run(CAPTAIN, "/attend games").text.startswith("You're on several teams")
    assert runner.run(CAPTAIN, "/attend team roster", team="night owls").text.startswith(
        "Night Owls · 1 players")
    unknown = runner.run(CAPTAIN, "/attend games", team="Hawks")
    assert not unknown.ok and unknown.text.startswith("You're not on a team called 'Hawks'")


def test_a_command_whose_result_cant_be_shown_yet_says_it_is_recorded(
        database_url: str, clock: FakeClock) -> None:
    """Another process holds the schedule's read model and has stalled (it died, say, and
    its lease has not moved yet): scheduling is recorded, and the captain is told so rather
    than shown a schedule without the game, or an error that reads like a refusal."""
    app = bootstrap(database_url, clock=clock, read_wait=0.2)
    try:
        alchemists(app)
        # Taken as if this process's own lease had lapsed (a minute from now).
        held = app.store.acquire_lease("schedule", owner="elsewhere/-/1/stalled",
                                       now=time.time() + 60, ttl=600)
        assert held is not None
        runner = CommandRunner(app.service, clock=clock)
        reply = runner.run(CAPTAIN, "schedule 2026-12-05 19:00 vs Hawks")  # now: Nov 28
        assert not reply.ok
        assert reply.text == CATCHING_UP
        scheduled = [r.event for r in app.store.read_all(after=0, limit=1000)
                     if isinstance(r.event, game.GameScheduled)]
        assert [e.opponent for e in scheduled] == ["Hawks"]  # recorded all the same
    finally:
        app.close()

"""What people type is checked where it comes in: control characters, addresses, team names.

Through the console grammar (the runner Slack and Discord share) and the service, the one
door, on SQLite and PostgreSQL (which refuses NUL outright: a leak would be a 500 there).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from bot.commands import CommandRunner
from core.actors import Actor
from core.aggregates import team
from core.aggregates.common import Answer, PlayerProfile
from core.bootstrap import App, bootstrap
from core.errors import DomainError
from core.router import new_id
from tests.support.clock import FakeClock

CAPTAIN = Actor.console("captain@example.com", name="Casey Captain")
ALICE = Actor.console("alice@example.com")
SATURDAY_7PM = datetime(2026, 12, 6, 0, 0, tzinfo=UTC)


@pytest.fixture
def app(database_url: str, clock: FakeClock) -> Iterator[App]:
    built = bootstrap(database_url, clock=clock)
    built.service.create_team(CAPTAIN, "The Alchemists", "America/Toronto")
    built.service.add_player(CAPTAIN, "Alice", email="alice@example.com")
    yield built
    built.close()


@pytest.fixture
def runner(app: App, clock: FakeClock) -> CommandRunner:
    return CommandRunner(app.service, clock=clock)


def refused(code: str) -> pytest.RaisesExc[DomainError]:
    return pytest.raises(DomainError, check=lambda e: e.code == code)


@pytest.mark.parametrize("bad", ["\x00", "\x1b[2J", "\x07", "\x7f", "\x9b", "\u202e"])
@pytest.mark.parametrize("line", [
    "team create Rovers{bad} tz UTC",
    "team add Bo{bad}b bob@example.com",
    "team add Bob bo{bad}b@example.com",
    "schedule sat 7pm at Monarch{bad} Park vs Hawks",
    "schedule sat 7pm vs Ha{bad}wks",
    "answer next yes bring{bad} cake",
    "team remove Al{bad}ice",
    "roster{bad}",
])
def test_a_control_character_anywhere_in_a_command_is_refused_and_changes_nothing(
        app: App, runner: CommandRunner, line: str, bad: str) -> None:
    runner.run(CAPTAIN, "schedule sat 7pm vs Hawks")
    runner.run(CAPTAIN, "check next")
    before = app.store.last_position()
    reply = runner.run(CAPTAIN, line.format(bad=bad))
    assert not reply.ok
    assert "control character" in reply.text and "Attend doesn't accept" in reply.text
    assert bad not in reply.text  # never echoed back raw
    assert app.store.last_position() == before


def test_a_control_character_in_the_team_option_is_refused(runner: CommandRunner) -> None:
    reply = runner.run(CAPTAIN, "roster", team="The Alchemists\x00")
    assert not reply.ok and "control character" in reply.text
    reply = runner.run(CAPTAIN, "roster --team The\x1b Alchemists")
    assert not reply.ok and "control character" in reply.text


@pytest.mark.parametrize("call", [
    lambda s: s.create_team(CAPTAIN, "Rovers\x00", "UTC"),
    lambda s: s.add_player(CAPTAIN, "Bob\x1b[31m", email="bob@example.com"),
    lambda s: s.add_player(CAPTAIN, "Bob", email="bob\x00@example.com"),
    lambda s: s.add_or_reach_player(CAPTAIN, "Bob", email="b\x00ob@example.com"),
    lambda s: s.schedule_game(CAPTAIN, SATURDAY_7PM, location="Park\x00"),
    lambda s: s.schedule_game(CAPTAIN, SATURDAY_7PM, opponent="\u202eskwaH"),
    lambda s: s.schedule_game(CAPTAIN, SATURDAY_7PM, original_text="sat\x00 7pm"),
    lambda s: s.remove_player(CAPTAIN, "Alice\x00"),
    lambda s: s.answer(ALICE, Answer.YES, ref="G1\x00"),
    lambda s: s.answer(ALICE, Answer.YES, note="a\x00b"),
    lambda s: s.cancel_game(CAPTAIN, "next", reason="rain\x1b[1A"),
    lambda s: s.change_settings(CAPTAIN, timezone="UTC\x00"),
])
def test_the_service_refuses_control_characters_whichever_adapter_calls_it(
        app: App, call: object) -> None:
    before = app.store.last_position()
    with refused("unsafe_text"):
        call(app.service)  # type: ignore[operator]
    assert app.store.last_position() == before


def test_a_note_keeps_its_words_across_lines_and_tabs(app: App, runner: CommandRunner) -> None:
    app.service.schedule_game(CAPTAIN, SATURDAY_7PM, opponent="Hawks")
    app.service.start_check(CAPTAIN, "G1")
    result = app.service.answer(ALICE, Answer.YES, note="late\n\tby ten\r\nminutes")
    [line] = [ln for ln in result.board.lines if ln.name == "Alice"]
    assert line.note == "late by ten minutes"


def test_a_typo_in_an_address_is_refused_saying_what_is_wrong(
        app: App, runner: CommandRunner) -> None:
    reply = runner.run(CAPTAIN, "team add Alice Smith alice..smith@example.com")
    assert not reply.ok
    assert "two periods in a row" in reply.text
    assert "Alice Smith" not in runner.run(CAPTAIN, "team roster").text
    with refused("invalid_email"):
        app.service.add_player(CAPTAIN, "Al", email="al@localhost")


def test_an_internationalised_address_is_accepted_and_kept_normalised(
        app: App, runner: CommandRunner) -> None:
    reply = runner.run(CAPTAIN, "team add José Ortiz JOSÉ@Example.COM")
    assert reply.ok, reply.text
    roster = runner.run(CAPTAIN, "team roster").text
    assert "José Ortiz — josé@example.com" in roster
    # The same address in another spelling is the same player.
    again = runner.run(CAPTAIN, "team add José josé@example.com")
    assert not again.ok and "already on" in again.text


def test_long_unknown_input_is_echoed_shortened(runner: CommandRunner) -> None:
    for line in ("x" * 100_000, "team " + "y" * 100_000, "games " + "z" * 100_000):
        reply = runner.run(CAPTAIN, line)
        assert not reply.ok
        assert len(reply.text) < 1_000, line[:10]
        assert "…" in reply.text


def test_names_stored_before_the_rule_are_shown_safely(app: App, runner: CommandRunner) -> None:
    # An old event, written before control characters were refused.
    team_id = app.service.context(CAPTAIN).team.team_id
    result = app.router.dispatch(team.AddPlayer(team_id=team_id, player=PlayerProfile(
        player_id=new_id(), name="Mallory\x1b]0;owned\x07\x1b[2J", email="m@example.com")),
        actor=CAPTAIN.key)
    app.run_handlers()
    assert result.position > 0
    roster = runner.run(CAPTAIN, "team roster").text
    assert "Mallory" in roster
    assert "\x1b" not in roster and "\x07" not in roster


def test_nobody_creates_a_team_named_like_one_they_are_on(
        app: App, runner: CommandRunner) -> None:
    reply = runner.run(CAPTAIN, "team create the alchemists tz UTC")
    assert not reply.ok and "already on a team called" in reply.text
    with refused("team_name_taken"):
        app.service.create_team(CAPTAIN, "THE ALCHEMISTS", "UTC")
    # Another name is fine, and --team then finds each.
    assert runner.run(CAPTAIN, "team create Rovers tz UTC").ok
    assert runner.run(CAPTAIN, "team roster --team the alchemists").text.startswith(
        "The Alchemists")
    assert runner.run(CAPTAIN, "team roster --team Rovers").text.startswith("Rovers")


def test_nobody_is_added_to_a_second_team_of_the_same_name(
        app: App, runner: CommandRunner) -> None:
    other = Actor.console("other@example.com")
    app.service.create_team(other, "The Alchemists", "UTC")  # a namesake, not Alice's
    with refused("team_name_taken"):
        app.service.add_player(other, "Alice", email="alice@example.com")
    reply = runner.run(other, "team add Alice alice@example.com")
    assert not reply.ok and "couldn't tell the two apart" in reply.text
    assert [m.team_name for m in app.service.memberships(ALICE)] == ["The Alchemists"]

"""Reserves in the grammar: ``team add ... reserve``, Discord's typed ``reserve`` option, and
``team settings reserves 24h|none``, with clear refusals for what can't be read."""

from __future__ import annotations

import pytest

from bot.grammar import AddPlayer, GrammarError, SetReserve, Settings, parse, typed


def test_a_trailing_reserve_makes_the_player_a_reserve() -> None:
    assert parse("team add Alice alice@x.org reserve") == AddPlayer(
        name="Alice", email="alice@x.org", reserve=True)
    assert parse("team add Alice Reserve alice@x.org") == AddPlayer(
        name="Alice Reserve", email="alice@x.org")  # only the last word says it


def test_a_captain_moves_a_player_to_the_reserves_and_back_by_name() -> None:
    assert parse("team reserve Alice") == SetReserve(who="Alice")
    assert parse("team reserve remove alice@x.org") == SetReserve(who="alice@x.org",
                                                                  reserve=False)
    assert typed.set_reserve("Alice", remove=True) == SetReserve(who="Alice", reserve=False)
    with pytest.raises(GrammarError) as refused:
        parse("team reserve")
    assert refused.value.usage == "/attend team reserve [remove] <name or email>"


def test_discord_says_reserve_in_its_own_typed_option() -> None:
    assert typed.add_player(name="Alice", email="alice@x.org", reserve=True) == AddPlayer(
        name="Alice", email="alice@x.org", reserve=True)


def test_the_reserve_time_is_read_and_cleared() -> None:
    read = parse("team settings reserves 24h")
    assert isinstance(read, Settings) and read.changes is not None
    assert read.changes.reserve_minutes == 24 * 60
    cleared = parse("team settings reserves none")
    assert isinstance(cleared, Settings) and cleared.changes is not None
    assert cleared.changes.reserve_minutes is None
    assert cleared.changes.cleared == frozenset({"reserve_minutes"})


@pytest.mark.parametrize(("line", "says"), [
    ("team settings reserves soon", "reserves takes a duration like 90m, 3h or 2d, not 'soon'"),
    ("team settings reserves 24", "(add a unit)"),
    ("team settings reserves 45d", "at most 30d"),
    ("team settings lead 12h reserves 1d", "make reserves shorter than lead"),
])
def test_a_nonsense_reserve_time_is_refused_saying_why(line: str, says: str) -> None:
    with pytest.raises(GrammarError) as refused:
        parse(line)
    assert says in refused.value.message
    assert "reserves 24h|none" in refused.value.usage

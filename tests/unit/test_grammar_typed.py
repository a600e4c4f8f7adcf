"""Commands made from typed options: each value is its field as typed, checked by the same
readers (and refused with the same words) as the text grammar."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from bot import grammar
from bot.grammar import typed


def test_each_value_is_its_field_whatever_words_it_holds() -> None:
    assert typed.schedule(when="sat 7pm", location="Park vs Rec Center", opponent="Hawks") == \
        grammar.Schedule(when_text="sat 7pm", location="Park vs Rec Center", opponent="Hawks")
    assert typed.cancel(game="g1", reason="Rain --team X") == \
        grammar.Cancel(game="G1", reason="Rain --team X")
    assert typed.answer(game="next", answer="no", note="for Bob: late") == \
        grammar.Answer(game="next", answer="no", note="for Bob: late")
    assert typed.create_team(name="Rec tz UTC", timezone="europe/paris") == \
        grammar.CreateTeam(name="Rec tz UTC", timezone="Europe/Paris")
    assert typed.captain("Ann vs Bo", relieve=True) == grammar.RelieveCaptain(who="Ann vs Bo")
    assert typed.deadline(game="G2", when=" None ") == grammar.ClearDeadline(game="G2")


def test_a_player_picked_from_the_menu_is_a_mention() -> None:
    alice = grammar.Mention(platform="discord", user_id="12")
    assert typed.answer(game="G1", answer="yes", player=alice).on_behalf_of == "<@12>"
    assert typed.add_player(name="Alice", email="Alice@Example.org", mention=alice) == \
        grammar.AddPlayer(name="Alice", email="alice@example.org", mention=alice)


@pytest.mark.parametrize(("build", "said"), [
    (lambda: typed.schedule(when="sat 7pm", location="x" * 121), "keep it to 120"),
    (lambda: typed.on_a_game("status", "G1 --team X"), "'G1 --team X' isn't a game"),
    (lambda: typed.add_player(name="Bob", email="bob at home"), "doesn't look like an email"),
    (lambda: typed.create_team(name="Owls", timezone="EST"), "Use a city zone"),
    (lambda: typed.settings("min 3 --team X"), "I don't know the setting '--team'"),
])
def test_a_value_the_text_grammar_refuses_is_refused_the_same_way(
        build: Callable[[], grammar.Command], said: str) -> None:
    with pytest.raises(grammar.GrammarError, match=said):
        build()

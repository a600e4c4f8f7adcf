"""``season`` and ``calendar`` in the grammar, and the signed links they give."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot import grammar
from bot.links import BoardLinks, LinkExpired, LinkSigner, LinkTampered, calendar_url, season_url

NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize("line", ["season", "/attend season", "SEASON"])
def test_season_reads_with_nothing_after_it(line: str) -> None:
    assert grammar.parse(line) == grammar.Season()


def test_calendar_reads_and_refuses_extra_words_with_its_usage() -> None:
    assert grammar.parse("/attend calendar") == grammar.Calendar()
    with pytest.raises(grammar.GrammarError) as caught:
        grammar.parse("calendar please")
    assert caught.value.usage == "/attend calendar"
    assert "/attend calendar" in grammar.help_text() and "/attend season" in grammar.help_text()


def test_a_season_link_is_for_one_captain_and_expires() -> None:
    signer = LinkSigner(["k1"])
    token = signer.season_token("team-1", "cap-1", NOW + timedelta(days=30))
    grant = signer.read_season_token(token, now=NOW)
    assert (grant.team_id, grant.captain_player_id) == ("team-1", "cap-1")
    with pytest.raises(LinkExpired):
        signer.read_season_token(token, now=NOW + timedelta(days=30))
    with pytest.raises(LinkTampered):  # a link made for one purpose never opens another
        signer.read_calendar_token(token)


def test_a_calendar_link_lasts_until_its_key_is_dropped() -> None:
    token = LinkSigner(["old"]).calendar_token("team-1", "player-7")
    grant = LinkSigner(["old", "new"]).read_calendar_token(token)
    assert (grant.team_id, grant.player_id) == ("team-1", "player-7")
    with pytest.raises(LinkTampered):
        LinkSigner(["new"]).read_calendar_token(token)
    with pytest.raises(LinkTampered):
        LinkSigner(["old"]).read_board_token(token, now=NOW)


def test_the_urls_sit_under_the_base_url() -> None:
    boards = BoardLinks(LinkSigner(["k1"]), "https://attend.example.org/")
    assert season_url(boards, "t", "c", NOW).startswith("https://attend.example.org/s/")
    feed = calendar_url(boards, "t", "p")
    assert feed.startswith("https://attend.example.org/c/") and feed.endswith("/attend.ics")

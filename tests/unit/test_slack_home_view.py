"""The App Home's blocks: what people typed can't become a mention, a link or formatting."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.slack.home.view import HomePage, view
from core.aggregates.common import Answer
from core.aggregates.game import GameStatus
from core.projections.player_games import PlayerGameView
from core.projections.roster import TeamView

STARTS = datetime(2026, 12, 5, 19, 0, tzinfo=UTC)


def team(name: str) -> TeamView:
    return TeamView(team_id="t1", name=name, timezone="UTC", check_lead_minutes=0,
                    reminder_minutes=(), min_players=None, max_players=None,
                    game_length_minutes=90, slack_workspace=None, discord_guild=None,
                    channel=None, registered_at=STARTS)


def game(**changes: object) -> PlayerGameView:
    values: dict[str, object] = dict(
        game_id="g1", handle="G1", starts_at=STARTS, location="<@U1> & co",
        opponent="<!channel>", status=GameStatus.SCHEDULED, check_id=None, answer=None,
        note=None, waitlist_position=None)
    values.update(changes)
    return PlayerGameView(**values)  # type: ignore[arg-type]


def test_what_people_typed_is_escaped() -> None:
    from bot.slack.home.view import HomeGame

    page = HomePage(teams=("A&B",), games=(HomeGame(
        team=team("A&B <b>"), game=game(answer=Answer.YES, note="*bold* <http://x|y>"),
        board=None, invited=False, board_url=None),), note="<!here> no")
    text = str(view(page).to_dict())
    assert "<!channel>" not in text and "<@U1>" not in text and "<!here>" not in text
    assert "&lt;!channel&gt;" in text and "A&amp;B &lt;b&gt;" in text


def test_no_games_and_no_team_say_so() -> None:
    assert "No games coming up for *A&amp;B*" in str(
        view(HomePage(teams=("A&B",), games=())).to_dict())
    assert "not on a team yet" in str(view(HomePage(teams=(), games=())).to_dict())

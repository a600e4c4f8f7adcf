"""The season read model, on every backend: what a captain's season table and a player's
calendar show, and that both come back the same when rebuilt from the log."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import delete, insert, select, update

from core.aggregates.check import InvitePlayer, WithdrawInvitation
from core.aggregates.common import Invitee
from core.aggregates.game import CancelGame, RescheduleGame
from core.aggregates.team import ChangeTeamSettings, RenameTeam
from core.eventstore.database import Database
from core.eventstore.schema import subscriptions
from core.migrations import upgrade
from core.projections import season
from core.projections.rebuild import rebuild
from core.projections.season import SeasonProjection
from core.projections.season.tables import season_games, season_lines
from tests.support.clock import FakeClock
from tests.support.domain_fixtures import MAYBE, NO, YES, Story, person, tell_a_season

ANA, BEN, CAL = person("Ana"), person("Ben"), person("Cal")


@pytest.fixture
def story(db: Database, clock: FakeClock) -> Story:
    return Story(db, clock)


def a_season(story: Story, team: str = "t1", key: str = "") -> None:
    """Three games: g1 played with Ben dropping out twice on the day, g2 with Cal withdrawn
    and invited again, g3 cancelled (``key`` goes before each game's id)."""
    g1, g2, g3 = (f"{key}g{n}" for n in (1, 2, 3))
    story.team(team, "Tigers", ANA, BEN, CAL)
    for game_id, days in ((g1, 2), (g2, 3), (g3, 4)):
        story.game(team, game_id, in_days=days, opponent=f"Rivals {game_id}")
        story.check(team, game_id)
    story.answer(f"c-{g1}", ANA, YES)
    story.answer(f"c-{g1}", BEN, YES)
    story.answer(f"c-{g1}", CAL, NO)
    story.answer(f"c-{g2}", ANA, MAYBE)
    story.answer(f"c-{g2}", CAL, YES)
    story.do(WithdrawInvitation(check_id=f"c-{g2}", player_id=CAL.player_id))
    story.do(InvitePlayer(check_id=f"c-{g2}", invitee=Invitee(player_id=CAL.player_id,
                                                              name="Cal")))
    story.answer(f"c-{g3}", ANA, YES)
    story.do(CancelGame(game_id=g3, reason="pitch closed"))
    story.clock.advance(days=1, hours=12)  # g1 is 12 hours away: a drop-out now is late
    story.answer(f"c-{g1}", BEN, NO, note="sick")
    story.answer(f"c-{g1}", BEN, YES)
    story.answer(f"c-{g1}", BEN, NO)


def test_the_season_counts_answers_late_drop_outs_and_a_rate_per_player(story: Story) -> None:
    a_season(story)

    lines = story.read(season.season_attendance, "t1")

    assert [(s.name, s.invited, s.yes, s.no, s.maybe, s.no_answer, s.late_dropouts)
            for s in lines] == [
        ("Ana", 2, 1, 0, 1, 0, 0),  # g3 was cancelled: its Yes says nothing
        ("Ben", 2, 0, 1, 0, 1, 2),  # out on the day, twice
        ("Cal", 2, 0, 1, 0, 1, 0),  # asked again after the withdrawal, not answered since
    ]
    assert [s.rate for s in lines] == [0.5, 0.0, 0.0]
    assert story.read(season.games_asked, "t1") == 2
    assert story.read(season.season_attendance, "nobody") == []


def test_migration_0014_counts_the_season_afresh_from_the_log(database_url: str,
                                                              clock: FakeClock) -> None:
    """The release before kept running totals; after the upgrade the season is counted
    from lines the projection replays from the log, not from what that release left."""
    db = Database(database_url)
    try:
        upgrade(db, "0013")
        a_season(Story(db, clock, handlers=[]))  # the log, as that release recorded it
        with db.write() as conn:  # and its season, read to the end, with a stray line
            conn.execute(insert(subscriptions).values(
                handler="season", position=EVERYTHING, owner=None, lease_until=0, epoch=1))
            conn.execute(insert(season_lines).values(
                check_id="c-gone", player_id=ANA.player_id, team_id="t1", game_id="gone",
                invited_seq=1, answer="yes", late_dropouts=0, withdrawn=False,
                changed_at=clock.now))

        upgrade(db)

        lines = Story(db, clock, handlers=[SeasonProjection()]).read(
            season.season_attendance, "t1")
        assert [(s.name, s.invited, s.yes, s.no, s.maybe, s.no_answer, s.late_dropouts)
                for s in lines] == [("Ana", 2, 1, 0, 1, 0, 0), ("Ben", 2, 0, 1, 0, 1, 2),
                                    ("Cal", 2, 0, 1, 0, 1, 0)]
    finally:
        db.dispose()


EVERYTHING = 10**9


def test_a_players_calendar_has_every_game_with_their_answer(story: Story) -> None:
    a_season(story)
    ben = story.read(season.calendar_feed, "t1", BEN.player_id)

    assert [(g.handle, g.opponent, g.answer, g.cancelled, g.revision) for g in ben.games] == [
        ("G1", "Rivals g1", NO, False, 0), ("G2", "Rivals g2", None, False, 0),
        ("G3", "Rivals g3", None, True, 1)]
    assert ben.games[0].location == "Monarch Park"
    assert ben.last_modified == story.clock.now  # Ben's last answer
    cal = story.read(season.calendar_feed, "t1", CAL.player_id)
    assert [g.answer for g in cal.games] == [NO, None, None]

    moved_at = story.clock.advance(minutes=5)
    later = ben.games[1].starts_at + timedelta(days=7)
    story.do(RescheduleGame(game_id="g2", starts_at=later))
    ben = story.read(season.calendar_feed, "t1", BEN.player_id)
    assert [g.handle for g in ben.games] == ["G1", "G3", "G2"]  # by start time
    assert (ben.games[2].starts_at, ben.games[2].revision) == (later, 1)
    assert ben.last_modified == moved_at

    withdrawn_at = story.clock.advance(minutes=5)
    story.do(WithdrawInvitation(check_id="c-g1", player_id=BEN.player_id))
    ben = story.read(season.calendar_feed, "t1", BEN.player_id)
    assert ben.games[0].answer is None and ben.last_modified == withdrawn_at
    assert story.read(season.calendar_feed, "t2", BEN.player_id).last_modified is None


def test_a_calendar_changes_when_the_team_changes_what_it_shows(story: Story) -> None:
    a_season(story)
    before = story.read(season.calendar_feed, "t1", ANA.player_id).last_modified
    story.clock.advance(minutes=5)
    story.do(ChangeTeamSettings(team_id="t1", reminder_minutes=(60,), min_players=3))
    assert story.read(season.calendar_feed, "t1", ANA.player_id).last_modified == before

    for change in (ChangeTeamSettings(team_id="t1", timezone="America/Toronto"),
                   ChangeTeamSettings(team_id="t1", game_length_minutes=90),
                   RenameTeam(team_id="t1", name="Tigers FC")):
        changed_at = story.clock.advance(minutes=5)
        story.do(change)
        assert story.read(season.calendar_feed, "t1", ANA.player_id).last_modified == \
            changed_at, change


Dump = dict[str, list[tuple[Any, ...]]]


def dump(db: Database) -> Dump:
    with db.read() as conn:
        return {table.name: sorted((tuple(r) for r in conn.execute(select(table))), key=repr)
                for table in SeasonProjection.tables}


def test_the_season_rebuilt_from_the_log_gives_the_same_rows(story: Story) -> None:
    tell_a_season(story)
    a_season(story, team="t9", key="s")
    table_before = story.read(season.season_attendance, "t9")
    story.runtime.stop()  # as `attend serve` must be before a rebuild
    before = dump(story.db)
    assert all(before.values())
    with story.db.write() as conn:  # damage it
        conn.execute(delete(season_lines).where(season_lines.c.player_id == BEN.player_id))
        conn.execute(update(season_games).values(cancelled=True, revision=7))

    rebuild(story.store, [SeasonProjection()], owner="test-rebuild", batch_size=5)

    assert dump(story.db) == before
    with story.db.read() as conn:
        assert season.season_attendance(conn, "t9") == table_before



"""Reserves: given past events, when a command, then these events or this refusal.

The team keeps reserves on its roster but out of a check's invitees; the check asks them when
it is still short at the scheduler's time, tells the captain who stepped in, and releases the
others once the minimum is reached. The planner schedules the question.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core.aggregates import check, team
from core.aggregates.common import Answer, AnswerSource, Invitee, PlayerProfile
from core.errors import DomainError, Refusal
from core.projections.due_work.plan import DueKind, GameState, TeamTiming, plan_game

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
KICKOFF = datetime(2026, 12, 5, 19, 0, tzinfo=UTC)
C, G, T = "c1", "g1", "t1"
KEY = "g1:ask_reserves:20261205T1900Z"

# -- the team ---------------------------------------------------------------------------------
CAP = PlayerProfile(player_id="p-cap", name="Cap", email="cap@example.org")
ANA = PlayerProfile(player_id="p-ana", name="Ana", email="ana@example.org")
RAY = PlayerProfile(player_id="p-ray", name="Ray", email="ray@example.org")
TEAM_EVENTS = (
    team.TeamRegistered(team_id=T, name="Alchemists",
                        settings=team.TeamSettings(timezone="America/Toronto")),
    team.PlayerJoinedTeam(team_id=T, player=CAP),
    team.CaptainAppointed(team_id=T, player_id="p-cap"),
    team.PlayerJoinedTeam(team_id=T, player=ANA),
)


def team_decide(given: tuple[object, ...], command: object) -> list[object]:
    state = team.TEAM.replay(list(given))
    return list(team.decide(state, command, now=NOW))  # type: ignore[arg-type]


def test_a_captain_adds_a_reserve_who_joins_the_roster_as_one() -> None:
    events = team_decide(TEAM_EVENTS, team.AddPlayer(team_id=T, player=RAY, reserve=True))
    assert events == [team.PlayerJoinedTeam(team_id=T, player=RAY, reserve=True)]
    member = team.TEAM.replay([*TEAM_EVENTS, *events]).member("p-ray")
    assert member is not None and member.reserve


def test_a_reserve_who_is_already_a_player_is_refused() -> None:
    again = PlayerProfile(player_id="p-new", name="Ana", email="ANA@example.org")
    with pytest.raises(DomainError) as refused:
        team_decide(TEAM_EVENTS, team.AddPlayer(team_id=T, player=again, reserve=True))
    assert refused.value.code is Refusal.RESERVE_ALREADY_PLAYER
    assert "already a player" in refused.value.message


def test_a_reserve_added_twice_is_already_on_the_team() -> None:
    given = (*TEAM_EVENTS, team.PlayerJoinedTeam(team_id=T, player=RAY, reserve=True))
    with pytest.raises(DomainError) as refused:
        team_decide(given, team.AddPlayer(team_id=T, player=RAY, reserve=True))
    assert refused.value.code is Refusal.PLAYER_ALREADY_ON_TEAM


def test_a_captain_moves_a_player_to_the_reserves_and_back() -> None:
    to_reserves = team.SetReserve(team_id=T, player_id="p-ana", reserve=True)
    [moved] = team_decide(TEAM_EVENTS, to_reserves)
    assert moved == team.PlayerReserveSet(team_id=T, player_id="p-ana", reserve=True)
    assert team_decide((*TEAM_EVENTS, moved), to_reserves) == []  # already one
    [snapshot] = team_decide((*TEAM_EVENTS, moved), team.RequestTeamAttendance(
        team_id=T, check_id=C, game_id=G))
    assert isinstance(snapshot, team.TeamAttendanceRequested)
    assert [r.name for r in snapshot.reserves] == ["Ana"]
    back = team_decide((*TEAM_EVENTS, moved), team.SetReserve(team_id=T, player_id="p-ana",
                                                              reserve=False))
    assert back == [team.PlayerReserveSet(team_id=T, player_id="p-ana", reserve=False)]
    with pytest.raises(DomainError) as refused:
        team_decide(TEAM_EVENTS, team.SetReserve(team_id=T, player_id="p-zed", reserve=True))
    assert refused.value.code is Refusal.PLAYER_NOT_ON_TEAM


def test_reserves_are_listed_with_the_check_but_not_invited() -> None:
    given = (*TEAM_EVENTS, team.PlayerJoinedTeam(team_id=T, player=RAY, reserve=True))
    [snapshot] = team_decide(given, team.RequestTeamAttendance(team_id=T, check_id=C,
                                                               game_id=G))
    assert isinstance(snapshot, team.TeamAttendanceRequested)
    assert [i.name for i in snapshot.invitees] == ["Cap", "Ana"]
    assert snapshot.reserves == (Invitee(player_id="p-ray", name="Ray"),)


def test_the_reserve_time_is_a_setting_that_can_be_set_and_cleared() -> None:
    [changed] = team_decide(TEAM_EVENTS, team.ChangeTeamSettings(team_id=T,
                                                                 reserve_minutes=1440))
    assert isinstance(changed, team.TeamSettingsChanged)
    assert changed.settings.reserve_minutes == 1440
    [cleared] = team_decide((*TEAM_EVENTS, changed), team.ChangeTeamSettings(
        team_id=T, clear_reserve_minutes=True))
    assert isinstance(cleared, team.TeamSettingsChanged)
    assert cleared.settings.reserve_minutes is None


@pytest.mark.parametrize("minutes", [0, -5, 2880, 5000])
def test_reserves_must_be_asked_between_the_check_start_and_the_game(minutes: int) -> None:
    with pytest.raises(DomainError) as refused:
        team_decide(TEAM_EVENTS, team.ChangeTeamSettings(team_id=T, reserve_minutes=minutes))
    assert refused.value.code is Refusal.INVALID_SETTINGS
    assert "reserves" in refused.value.message


# -- the check --------------------------------------------------------------------------------
BEN, CAL, RAY_I, SKY, TEO = (Invitee(player_id=f"p-{n.lower()}", name=n)
                             for n in ("Ben", "Cal", "Ray", "Sky", "Teo"))


def opened(*invitees: Invitee, reserves: tuple[Invitee, ...] = (RAY_I, SKY),
           min_players: int | None = 3, max_players: int | None = None) -> tuple[object, ...]:
    return (
        check.CheckOpened(check_id=C, game_id=G, team_id=T, starts_at=KICKOFF,
                          min_players=min_players, max_players=max_players,
                          opened_at=NOW - timedelta(days=1), reserves=reserves),
        *(check.PlayerInvited(check_id=C, game_id=G, team_id=T, invitee=i) for i in invitees),
    )


def yes(who: Invitee) -> check.AnswerRecorded:
    return check.AnswerRecorded(check_id=C, player_id=who.player_id, answer=Answer.YES,
                                previous=None, note=None, source=AnswerSource.SLACK,
                                answered_at=NOW)


def asked(*reserves: Invitee, yes_count: int = 1) -> tuple[object, ...]:
    return (
        check.ReservesAsked(check_id=C, key=KEY, yes_count=yes_count, min_players=3,
                            player_ids=tuple(r.player_id for r in reserves)),
        *(check.PlayerInvited(check_id=C, game_id=G, team_id=T, invitee=r, reserve=True)
          for r in reserves),
    )


def decide(given: tuple[object, ...], command: object) -> list[object]:
    return list(check.decide(check.CHECK.replay(list(given)), command,  # type: ignore[arg-type]
                             now=NOW))


def answer(who: Invitee, said: Answer = Answer.YES) -> check.RecordAnswer:
    return check.RecordAnswer(check_id=C, player_id=who.player_id, answer=said,
                              source=AnswerSource.EMAIL)


def test_a_short_check_asks_every_listed_reserve() -> None:
    given = (*opened(BEN, CAL), yes(BEN))
    assert decide(given, check.AskReserves(check_id=C, key=KEY)) == list(asked(RAY_I, SKY))


def test_a_check_at_its_minimum_asks_nobody_but_uses_the_key() -> None:
    given = (*opened(BEN, CAL, TEO), yes(BEN), yes(CAL), yes(TEO))
    assert decide(given, check.AskReserves(check_id=C, key=KEY)) == [
        check.ReservesAsked(check_id=C, key=KEY, yes_count=3, min_players=3, player_ids=())]


def test_a_check_without_a_minimum_asks_nobody() -> None:
    given = opened(BEN, min_players=None)
    [done] = decide(given, check.AskReserves(check_id=C, key=KEY))
    assert isinstance(done, check.ReservesAsked) and done.player_ids == ()


def test_each_key_asks_once_and_a_closed_check_asks_nobody() -> None:
    given = (*opened(BEN), *asked(RAY_I, SKY, yes_count=0))
    assert decide(given, check.AskReserves(check_id=C, key=KEY)) == []
    closed = (*opened(BEN), check.CheckClosed(check_id=C, reason="game started", closed_at=NOW))
    assert decide(closed, check.AskReserves(check_id=C, key=KEY)) == []


def test_a_reserves_yes_takes_a_place_and_the_captain_hears_who_stepped_in() -> None:
    given = (*opened(BEN, CAL), yes(BEN), *asked(RAY_I, SKY))
    events = decide(given, answer(RAY_I))
    assert events[1:] == [check.ReserveSteppedIn(check_id=C, player_id="p-ray", yes_count=2,
                                                 min_players=3)]
    assert check.CHECK.replay([*given, *events]).confirmed == ("p-ben", "p-ray")


def test_reaching_the_minimum_releases_the_reserves_who_have_not_said_yes() -> None:
    given = (*opened(BEN, CAL, TEO), yes(BEN), *asked(RAY_I, SKY))
    given = (*given, *decide(given, answer(RAY_I)))  # 2 of 3
    events = decide(given, answer(CAL))  # a regular player makes it 3
    assert events[1:] == [
        check.CheckReachedMinimum(check_id=C, yes_count=3, min_players=3),
        check.ReservesReleased(check_id=C, player_ids=("p-sky",)),
    ]


def test_the_reserve_whose_yes_reaches_the_minimum_is_not_released() -> None:
    given = (*opened(BEN, CAL), yes(BEN), yes(CAL), *asked(RAY_I, SKY, yes_count=2))
    events = decide(given, answer(RAY_I))
    assert events[1:] == [
        check.CheckReachedMinimum(check_id=C, yes_count=3, min_players=3),
        check.ReserveSteppedIn(check_id=C, player_id="p-ray", yes_count=3, min_players=3),
        check.ReservesReleased(check_id=C, player_ids=("p-sky",)),
    ]


def test_a_released_reserve_is_told_the_team_is_full_and_not_reminded() -> None:
    given = (*opened(BEN, CAL), yes(BEN), yes(CAL), *asked(RAY_I, SKY, yes_count=2),
             check.ReservesReleased(check_id=C, player_ids=("p-sky",)))
    with pytest.raises(DomainError) as refused:
        decide(given, answer(SKY))
    assert refused.value.code is Refusal.RESERVE_NOT_NEEDED
    assert "the team is full now" in refused.value.message
    [reminded] = decide(given, check.RemindNonResponders(check_id=C, reminder_key="180"))
    assert isinstance(reminded, check.RemindersRequested)
    assert reminded.player_ids == ("p-ray",)


def test_a_reserves_yes_beyond_the_maximum_waits_like_anyone_elses() -> None:
    given = (*opened(BEN, CAL, min_players=3, max_players=2), yes(BEN), yes(CAL),
             *asked(RAY_I, yes_count=2))
    events = decide(given, answer(RAY_I))
    assert events[1:] == [check.PlayerWaitlisted(check_id=C, player_id="p-ray", position=1)]


def test_a_reserve_who_joins_while_reserves_are_asked_is_asked_at_once() -> None:
    given = (*opened(BEN), *asked(RAY_I, SKY, yes_count=0))
    assert decide(given, check.InvitePlayer(check_id=C, invitee=TEO, reserve=True)) == [
        check.PlayerInvited(check_id=C, game_id=G, team_id=T, invitee=TEO, reserve=True)]


def test_a_reserve_who_joins_before_reserves_are_asked_is_listed() -> None:
    given = opened(BEN)
    assert decide(given, check.InvitePlayer(check_id=C, invitee=TEO, reserve=True)) == [
        check.ReserveListed(check_id=C, invitee=TEO)]
    later = (*given, check.ReserveListed(check_id=C, invitee=TEO))
    [_, *invited] = decide(later, check.AskReserves(check_id=C, key=KEY))
    assert [e.invitee.name for e in invited] == ["Ray", "Sky", "Teo"]  # type: ignore[attr-defined]


def test_a_listed_reserve_who_leaves_the_team_is_not_asked() -> None:
    given = opened(BEN)
    withdrawn = decide(given, check.WithdrawInvitation(check_id=C, player_id="p-ray"))
    assert withdrawn == [check.InvitationWithdrawn(check_id=C, player_id="p-ray")]
    [_, *invited] = decide((*given, *withdrawn), check.AskReserves(check_id=C, key=KEY))
    assert [e.invitee.name for e in invited] == ["Sky"]  # type: ignore[attr-defined]


# -- the plan ---------------------------------------------------------------------------------
TIMING = TeamTiming(check_lead_minutes=48 * 60, reminder_minutes=(1440, 180),
                    game_length_minutes=120, min_players=6, reserve_minutes=20 * 60)


def test_reserves_are_asked_at_their_time_before_the_game() -> None:
    planned = plan_game(GameState(game_id=G, starts_at=KICKOFF), TIMING,
                        at=KICKOFF - timedelta(days=7))
    [item] = [p for p in planned if p.kind is DueKind.ASK_RESERVES]
    assert (item.key, item.due_at, item.expires_at) == (
        KEY, KICKOFF - timedelta(hours=20), KICKOFF)


@pytest.mark.parametrize("timing", [
    TeamTiming(check_lead_minutes=2880, reminder_minutes=(), game_length_minutes=120,
               min_players=None, reserve_minutes=1200),
    TeamTiming(check_lead_minutes=2880, reminder_minutes=(), game_length_minutes=120,
               min_players=6, reserve_minutes=None),
])
def test_reserves_are_asked_only_with_a_minimum_and_a_reserve_time(timing: TeamTiming) -> None:
    planned = plan_game(GameState(game_id=G, starts_at=KICKOFF), timing,
                        at=KICKOFF - timedelta(days=7))
    assert DueKind.ASK_RESERVES not in {p.kind for p in planned}


def test_a_game_scheduled_after_the_reserve_time_does_not_ask_them() -> None:
    planned = plan_game(GameState(game_id=G, starts_at=KICKOFF), TIMING,
                        at=KICKOFF - timedelta(hours=10))
    assert DueKind.ASK_RESERVES not in {p.kind for p in planned}

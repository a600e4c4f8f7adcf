"""Every domain message and every aggregate state survives storage as JSON.

Events and commands go through the :class:`MessageRegistry` (as the event store and outboxes
do); states go through the codec (as snapshots do). Each sample fills its optional fields, so
a field the codec cannot carry shows up here rather than in a restored snapshot.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone
from typing import Any

import pytest

from core.aggregates import check, game, series, team
from core.aggregates.common import Answer, AnswerSource, Channel, Invitee, PlayerProfile
from core.aggregates.registry import AGGREGATES, register_domain_messages
from core.codec import decoder_for, dumps, encoder_for, text_decoder_for
from core.messages import MessageRegistry

# Not UTC on purpose: a stored time must come back as the same instant.
AT = datetime(2026, 5, 2, 19, 0, tzinfo=timezone(timedelta(hours=2)))
ANA = PlayerProfile(
    player_id="p-ana", name="Ana", email="ana@example.org", slack_user="T1:U1", discord_user="111"
)
BEN = Invitee(player_id="p-ben", name="Ben")
SETTINGS = team.TeamSettings(
    timezone="Europe/Berlin",
    check_lead_minutes=600,
    reminder_minutes=(300, 60),
    min_players=5,
    max_players=9,
    game_length_minutes=90,
    reserve_minutes=300,
)

TEAM_MESSAGES: list[object] = [
    team.RegisterTeam(
        team_id="t1",
        name="Hawks",
        timezone="Europe/Berlin",
        captain=ANA,
        slack_workspace="T1",
        discord_guild="42",
        channel="C9",
    ),
    team.RenameTeam(team_id="t1", name="Owls"),
    team.AddPlayer(team_id="t1", player=ANA, reserve=True),
    team.UpdatePlayerContact(
        team_id="t1", player_id="p-ana", email="a@b.c", slack_user="T1:U2", discord_user="7"
    ),
    team.RemovePlayer(team_id="t1", player_id="p-ana"),
    team.AppointCaptain(team_id="t1", player_id="p-ana"),
    team.RelieveCaptain(team_id="t1", player_id="p-ana"),
    team.ChangeTeamSettings(
        team_id="t1",
        timezone="UTC",
        check_lead_minutes=60,
        reminder_minutes=(30,),
        min_players=3,
        max_players=4,
        game_length_minutes=80,
        reserve_minutes=20,
        clear_min_players=True,
        clear_max_players=True,
        clear_reserve_minutes=True,
    ),
    team.RequestTeamAttendance(team_id="t1", check_id="c1", game_id="g1"),
    team.UnsubscribeEmail(team_id="t1", player_id="p-ana"),
    team.ResubscribeEmail(team_id="t1", player_id="p-ana"),
    team.MarkContactUnreachable(
        team_id="t1", player_id="p-ana", channel=Channel.SLACK, reason="DMs closed"
    ),
    team.TeamRegistered(
        team_id="t1",
        name="Hawks",
        settings=SETTINGS,
        slack_workspace="T1",
        discord_guild="42",
        channel="C9",
    ),
    team.TeamRenamed(team_id="t1", name="Owls"),
    team.PlayerJoinedTeam(team_id="t1", player=ANA, reserve=True),
    team.PlayerContactUpdated(
        team_id="t1", player_id="p-ana", email="a@b.c", slack_user="T1:U2", discord_user="7"
    ),
    team.PlayerLeftTeam(team_id="t1", player_id="p-ana"),
    team.CaptainAppointed(team_id="t1", player_id="p-ana"),
    team.CaptainRelieved(team_id="t1", player_id="p-ana"),
    team.TeamSettingsChanged(team_id="t1", settings=SETTINGS),
    team.TeamAttendanceRequested(
        team_id="t1", check_id="c1", game_id="g1", invitees=(BEN,), min_players=5, max_players=9,
        reserves=(Invitee(player_id="p-ana", name="Ana"),),
    ),
    team.EmailUnsubscribed(team_id="t1", player_id="p-ana"),
    team.EmailResubscribed(team_id="t1", player_id="p-ana"),
    team.ContactMarkedUnreachable(
        team_id="t1", player_id="p-ana", channel=Channel.DISCORD, reason="user gone"
    ),
    team.SetReserve(team_id="t1", player_id="p-ana", reserve=True),
    team.PlayerReserveSet(team_id="t1", player_id="p-ana", reserve=True),
    team.BindTeamChannel(team_id="t1", platform="slack", channel_id="T1:C42"),
    team.TeamChannelBound(team_id="t1", platform="discord", channel_id="4000"),
    team.TeamChannelUnbound(team_id="t1"),
]
GAME_MESSAGES: list[object] = [
    game.ScheduleGame(
        game_id="g1",
        team_id="t1",
        starts_at=AT,
        location="Park",
        opponent="Owls",
        original_text="sat 7pm",
    ),
    game.RescheduleGame(game_id="g1", starts_at=AT, original_text="sun 7pm"),
    game.CancelGame(game_id="g1", reason="rain"),
    game.StartGame(game_id="g1"),
    game.EndGame(game_id="g1"),
    game.CheckAttendance(game_id="g1", team_id="t1", check_id="c1"),
    game.GameScheduled(
        game_id="g1",
        team_id="t1",
        starts_at=AT,
        location="Park",
        opponent="Owls",
        original_text="sat 7pm",
    ),
    game.GameRescheduled(
        game_id="g1", previous_starts_at=AT, starts_at=AT + timedelta(days=1), original_text="sun"
    ),
    game.GameCancelled(game_id="g1", reason="rain", cancelled_at=AT),
    game.GameStarted(game_id="g1", started_at=AT),
    game.GameEnded(game_id="g1", ended_at=AT),
    game.AttendanceCheckStarted(game_id="g1", team_id="t1", check_id="c1", starts_at=AT),
]
CHECK_MESSAGES: list[object] = [
    check.OpenCheck(
        check_id="c1",
        game_id="g1",
        team_id="t1",
        starts_at=AT,
        invitees=(BEN,),
        min_players=2,
        max_players=3,
        reserves=(Invitee(player_id="p-ana", name="Ana"),),
    ),
    check.InvitePlayer(check_id="c1", invitee=BEN, reserve=True),
    check.AskReserves(check_id="c1", key="g1:ask_reserves:20261205T1900Z"),
    check.ReserveListed(check_id="c1", invitee=BEN),
    check.ReservesAsked(check_id="c1", key="k", yes_count=1, min_players=3,
                        player_ids=("p-ben",)),
    check.ReserveSteppedIn(check_id="c1", player_id="p-ben", yes_count=2, min_players=3),
    check.ReservesReleased(check_id="c1", player_ids=("p-ana",)),
    check.WithdrawInvitation(check_id="c1", player_id="p-ana"),
    check.RecordAnswer(
        check_id="c1",
        player_id="p-ana",
        answer=Answer.MAYBE,
        source=AnswerSource.EMAIL,
        note="maybe late",
    ),
    check.RemindNonResponders(check_id="c1", reminder_key="1440"),
    check.AlertIfBelowMinimum(check_id="c1", key="g1:minimum_check:20261205T1900Z"),
    check.MinimumChecked(check_id="c1", key="k", yes_count=1, min_players=3),
    check.MoveCheck(check_id="c1", starts_at=AT),
    check.SetAnswerDeadline(check_id="c1", deadline=AT),
    check.ClearAnswerDeadline(check_id="c1"),
    check.CloseAtDeadline(check_id="c1", deadline=AT),
    check.CloseCheck(check_id="c1", reason="game ended"),
    check.RecordDelivery(
        check_id="c1",
        player_id="p-ana",
        message_key="invite",
        channel=Channel.DISCORD,
        reference="msg-1",
    ),
    check.RecordDeliveries(check_id="c1", deliveries=(
        check.RecordDelivery(check_id="c1", player_id="p-ana", message_key="invite",
                             channel=Channel.EMAIL),
        check.RecordDelivery(check_id="c1", player_id="p-ben", message_key="invite",
                             channel=Channel.SLACK, reference="T1:D1:1.0"))),
    check.RecordDeliveryFailure(
        check_id="c1",
        player_id="p-ana",
        message_key="invite",
        channel=Channel.DISCORD,
        reason="50007",
        permanent=True,
    ),
    check.CheckOpened(
        check_id="c1",
        game_id="g1",
        team_id="t1",
        starts_at=AT,
        min_players=2,
        max_players=3,
        opened_at=AT,
        reserves=(Invitee(player_id="p-ana", name="Ana"),),
    ),
    check.PlayerInvited(check_id="c1", game_id="g1", team_id="t1", invitee=BEN, reserve=True),
    check.InvitationWithdrawn(check_id="c1", player_id="p-ana"),
    check.AnswerRecorded(
        check_id="c1",
        player_id="p-ana",
        answer=Answer.NO,
        previous=Answer.YES,
        note="sick",
        source=AnswerSource.CAPTAIN,
        answered_at=AT,
    ),
    check.PlayerWaitlisted(check_id="c1", player_id="p-ana", position=2),
    check.PlayerPromoted(check_id="c1", player_id="p-ana"),
    check.CheckReachedMinimum(check_id="c1", yes_count=5, min_players=5),
    check.CheckBelowMinimum(check_id="c1", yes_count=4, min_players=5),
    check.LateDropOut(
        check_id="c1", player_id="p-ana", answer=Answer.MAYBE, hours_before_start=1.5
    ),
    check.RemindersRequested(check_id="c1", reminder_key="180", player_ids=("p-ana", "p-ben")),
    check.CheckMoved(check_id="c1", previous_starts_at=AT, starts_at=AT + timedelta(hours=1)),
    check.AnswerDeadlineSet(check_id="c1", deadline=AT - timedelta(hours=1)),
    check.AnswerDeadlineCleared(check_id="c1"),
    check.CheckClosed(check_id="c1", reason="game cancelled", closed_at=AT),
    check.MessageDelivered(
        check_id="c1",
        player_id="p-ana",
        message_key="invite",
        channel=Channel.DISCORD,
        reference="msg-1",
        delivered_at=AT,
    ),
    check.DeliveryFailed(
        check_id="c1",
        player_id="p-ana",
        message_key="invite",
        channel=Channel.DISCORD,
        reason="50007",
        permanent=True,
        failed_at=AT,
    ),
]
# Series of games
RULE = series.Recurrence(weekday=5, hour=19, minute=0, timezone="America/Toronto",
                         first_day=date(2027, 1, 9), every_weeks=2, last_day=date(2027, 3, 27),
                         count=6)
SERIES_GAMES = (series.SeriesGame(game_id="g1", starts_at=AT),
                series.SeriesGame(game_id="g2", starts_at=AT + timedelta(weeks=2)))
SERIES_MESSAGES: list[object] = [
    series.ScheduleSeries(series_id="s1", team_id="t1", rule=RULE, games=SERIES_GAMES,
                          location="Park", opponent="TBD", original_text="every sat 7pm"),
    series.RescheduleSeries(series_id="s1", rule=RULE, games=SERIES_GAMES[1:],
                            original_text="sun 6pm"),
    series.CancelSeries(series_id="s1", game_ids=("g2",), reason="folded"),
    series.SeriesScheduled(series_id="s1", team_id="t1", rule=RULE, games=SERIES_GAMES,
                           location="Park", opponent="TBD", original_text="every sat 7pm"),
    series.SeriesRescheduled(series_id="s1", team_id="t1", rule=RULE, games=SERIES_GAMES[1:],
                             original_text="sun 6pm"),
    series.SeriesCancelled(series_id="s1", team_id="t1", game_ids=("g2",), reason="folded",
                           cancelled_at=AT),
]
MESSAGES = [*TEAM_MESSAGES, *GAME_MESSAGES, *CHECK_MESSAGES, *SERIES_MESSAGES]


@pytest.fixture(scope="module")
def registry() -> MessageRegistry:
    registry = MessageRegistry()
    register_domain_messages(registry)
    return registry


def stored(value: Any) -> Any:
    return json.loads(json.dumps(value))


def test_the_samples_cover_every_event_and_command() -> None:
    registered = {cls for a in AGGREGATES for cls in (*a.events, *a.commands)}
    assert {type(m) for m in MESSAGES} == registered
    assert len(MESSAGES) == len(registered)


@pytest.mark.parametrize("message", MESSAGES, ids=lambda m: type(m).__name__)
def test_a_message_round_trips_through_json(registry: MessageRegistry, message: object) -> None:
    entry = registry.of(message)
    assert entry.name == type(message).__name__  # stored names are short and stable
    text = entry.write_json(message)  # what the event store writes
    assert text == dumps(entry.encode(message))
    restored = registry.named(entry.name).load(json.loads(text), entry.version)
    assert restored == message
    assert repr(text_decoder_for(type(message))(text)) == repr(restored)  # the store's way


def test_times_are_stored_in_utc(registry: MessageRegistry) -> None:
    started = game.GameStarted(game_id="g1", started_at=AT)
    assert registry.of(started).encode(started)["started_at"] == "2026-05-02T17:00:00+00:00"


TEAM_STATE = team.TEAM.replay(
    [
        team.TeamRegistered(team_id="t1", name="Hawks", settings=SETTINGS, slack_workspace="T1"),
        team.PlayerJoinedTeam(team_id="t1", player=ANA),
        team.CaptainAppointed(team_id="t1", player_id="p-ana"),
        team.TeamAttendanceRequested(team_id="t1", check_id="c1", game_id="g1", invitees=(BEN,)),
        team.EmailUnsubscribed(team_id="t1", player_id="p-ana"),
        team.ContactMarkedUnreachable(
            team_id="t1", player_id="p-ana", channel=Channel.SLACK, reason="DMs closed"
        ),
    ]
)
GAME_STATE = game.GAME.replay(
    [
        game.GameScheduled(game_id="g1", team_id="t1", starts_at=AT, location="Park"),
        game.GameRescheduled(game_id="g1", previous_starts_at=AT, starts_at=AT + timedelta(days=1)),
        game.AttendanceCheckStarted(game_id="g1", team_id="t1", check_id="c1", starts_at=AT),
        game.GameStarted(game_id="g1", started_at=AT),
        game.GameCancelled(game_id="g1", reason="storm", cancelled_at=AT),
    ]
)
CHECK_STATE = check.CHECK.replay(
    [
        check.CheckOpened(
            check_id="c1",
            game_id="g1",
            team_id="t1",
            starts_at=AT,
            min_players=1,
            max_players=1,
            opened_at=AT,
        ),
        check.PlayerInvited(check_id="c1", game_id="g1", team_id="t1", invitee=BEN),
        check.PlayerInvited(
            check_id="c1",
            game_id="g1",
            team_id="t1",
            invitee=Invitee(player_id="p-ana", name="Ana"),
        ),
        check.AnswerRecorded(
            check_id="c1",
            player_id="p-ben",
            answer=Answer.YES,
            previous=None,
            note="bringing the ball",
            source=AnswerSource.SLACK,
            answered_at=AT,
        ),
        check.AnswerRecorded(
            check_id="c1",
            player_id="p-ana",
            answer=Answer.YES,
            previous=None,
            note=None,
            source=AnswerSource.DISCORD,
            answered_at=AT,
        ),
        check.PlayerWaitlisted(check_id="c1", player_id="p-ana", position=1),
        check.RemindersRequested(check_id="c1", reminder_key="180", player_ids=()),
        check.AnswerDeadlineSet(check_id="c1", deadline=AT - timedelta(hours=1)),
        check.MessageDelivered(
            check_id="c1",
            player_id="p-ben",
            message_key="invite",
            channel=Channel.SLACK,
            reference="ts-1",
            delivered_at=AT,
        ),
        check.DeliveryFailed(
            check_id="c1",
            player_id="p-ana",
            message_key="invite",
            channel=Channel.DISCORD,
            reason="50007",
            permanent=True,
            failed_at=AT,
        ),
        check.CheckClosed(check_id="c1", reason="game cancelled", closed_at=AT),
    ]
)
SERIES_STATE = series.SERIES.replay(SERIES_MESSAGES[3:])
STATES: list[Any] = [*(a.initial for a in AGGREGATES), TEAM_STATE, GAME_STATE, CHECK_STATE,
                     SERIES_STATE]


@pytest.mark.parametrize("state", STATES, ids=lambda s: type(s).__name__)
def test_a_state_round_trips_through_a_snapshot(state: Any) -> None:
    restored = decoder_for(type(state))(stored(encoder_for(type(state))(state)))
    assert restored == state


def test_the_sample_states_carry_the_parts_a_snapshot_must_keep() -> None:
    ana = TEAM_STATE.member("p-ana")
    assert ana is not None and ana.captain and ana.email_unsubscribed
    assert ana.unreachable == (Channel.SLACK,) and TEAM_STATE.requested_checks == ("c1",)
    assert GAME_STATE.status is game.GameStatus.CANCELLED and GAME_STATE.check_id == "c1"
    assert (CHECK_STATE.confirmed, CHECK_STATE.waitlist) == (("p-ben",), ("p-ana",))
    assert CHECK_STATE.closed and len(CHECK_STATE.deliveries) == 2
    assert CHECK_STATE.delivered("p-ben", "invite")  # the index a snapshot carries
    assert not CHECK_STATE.delivered("p-ana", "invite")
    assert CHECK_STATE.reminders_sent == ("180",)
    assert SERIES_STATE.rule == RULE and SERIES_STATE.cancelled
    assert SERIES_STATE.game_ids == ("g1", "g2")

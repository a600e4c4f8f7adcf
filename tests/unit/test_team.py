"""Team: given past events, when a command, then these events or this refusal."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from core.aggregates.common import Channel, Invitee, PlayerProfile
from core.aggregates.team import (
    TEAM,
    AddPlayer,
    AppointCaptain,
    CaptainAppointed,
    CaptainRelieved,
    ChangeTeamSettings,
    ContactMarkedUnreachable,
    EmailResubscribed,
    EmailUnsubscribed,
    MarkContactUnreachable,
    PlayerContactUpdated,
    PlayerJoinedTeam,
    PlayerLeftTeam,
    RegisterTeam,
    RelieveCaptain,
    RemovePlayer,
    RenameTeam,
    RequestTeamAttendance,
    ResubscribeEmail,
    TeamAttendanceRequested,
    TeamRegistered,
    TeamRenamed,
    TeamSettings,
    TeamSettingsChanged,
    TeamState,
    UnsubscribeEmail,
    UpdatePlayerContact,
)
from core.errors import DomainError

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
T = "t1"
ANA = PlayerProfile(
    player_id="p-ana", name="Ana", email="ana@example.org", slack_user="T1:U1", discord_user="111"
)
BEN = PlayerProfile(player_id="p-ben", name="Ben", email="Ben@Example.org")
CAL = PlayerProfile(player_id="p-cal", name="Cal", slack_user="T1:U3")
SETTINGS = TeamSettings(timezone="Europe/Berlin")
REGISTERED = (
    TeamRegistered(team_id=T, name="Hawks", settings=SETTINGS),
    PlayerJoinedTeam(team_id=T, player=ANA),
    CaptainAppointed(team_id=T, player_id="p-ana"),
)
WITH_BEN = (*REGISTERED, PlayerJoinedTeam(team_id=T, player=BEN))


def given(*events: object) -> TeamState:
    return TEAM.replay(events)


def when(state: TeamState, command: object) -> list[object]:
    events = list(TEAM.decide(state, command, now=NOW))
    TEAM.replay(events, state)  # whatever decide emits, evolve must accept
    return events


def refused(state: TeamState, command: object) -> str:
    with pytest.raises(DomainError) as caught:
        TEAM.decide(state, command, now=NOW)
    assert caught.value.message.strip()
    return caught.value.code


# Registering


def test_registering_makes_the_captain_the_first_player_with_default_settings() -> None:
    command = RegisterTeam(
        team_id=T,
        name="Hawks",
        timezone="Europe/Berlin",
        captain=ANA,
        slack_workspace="T1",
        channel="C9",
    )
    assert when(given(), command) == [
        TeamRegistered(
            team_id=T,
            name="Hawks",
            settings=TeamSettings(
                timezone="Europe/Berlin",
                check_lead_minutes=2880,
                reminder_minutes=(1440, 180),
                min_players=None,
                max_players=None,
                game_length_minutes=120,
            ),
            slack_workspace="T1",
            discord_guild=None,
            channel="C9",
        ),
        PlayerJoinedTeam(team_id=T, player=ANA),
        CaptainAppointed(team_id=T, player_id="p-ana"),
    ]


def test_a_team_is_registered_once() -> None:
    command = RegisterTeam(team_id=T, name="Hawks", timezone="UTC", captain=BEN)
    assert refused(given(*REGISTERED), command) == "team_already_registered"


@pytest.mark.parametrize("name", ["", "   "])
def test_a_team_needs_a_name(name: str) -> None:
    command = RegisterTeam(team_id=T, name=name, timezone="UTC", captain=ANA)
    assert refused(given(), command) == "name_required"
    assert refused(given(*REGISTERED), RenameTeam(team_id=T, name=name)) == "name_required"


@pytest.mark.parametrize(
    "command",
    [
        RenameTeam(team_id=T, name="Owls"),
        AddPlayer(team_id=T, player=BEN),
        UpdatePlayerContact(team_id=T, player_id="p-ana"),
        RemovePlayer(team_id=T, player_id="p-ana"),
        AppointCaptain(team_id=T, player_id="p-ana"),
        RelieveCaptain(team_id=T, player_id="p-ana"),
        ChangeTeamSettings(team_id=T, min_players=5),
        RequestTeamAttendance(team_id=T, check_id="c1", game_id="g1"),
        UnsubscribeEmail(team_id=T, player_id="p-ana"),
        ResubscribeEmail(team_id=T, player_id="p-ana"),
        MarkContactUnreachable(team_id=T, player_id="p-ana", channel=Channel.SLACK, reason="x"),
    ],
    ids=lambda c: type(c).__name__,
)
def test_an_unregistered_team_refuses_everything_but_registering(command: object) -> None:
    assert refused(given(), command) == "team_not_found"


def test_renaming_to_the_same_name_records_nothing() -> None:
    state = given(*REGISTERED)
    assert when(state, RenameTeam(team_id=T, name="Owls")) == [TeamRenamed(team_id=T, name="Owls")]
    assert when(state, RenameTeam(team_id=T, name="Hawks")) == []


# Players


def test_a_new_player_joins() -> None:
    assert when(given(*REGISTERED), AddPlayer(team_id=T, player=BEN)) == [
        PlayerJoinedTeam(team_id=T, player=BEN)
    ]


@pytest.mark.parametrize(
    "newcomer",
    [
        PlayerProfile(player_id="p-ana", name="Ana again"),
        PlayerProfile(player_id="p-x", name="Ann", email="ANA@example.ORG"),
        PlayerProfile(player_id="p-x", name="Ann", slack_user="T1:U1"),
        PlayerProfile(player_id="p-x", name="Ann", discord_user="111"),
    ],
    ids=["same id", "same email in other case", "same slack user", "same discord user"],
)
def test_a_player_joins_once(newcomer: PlayerProfile) -> None:
    command = AddPlayer(team_id=T, player=newcomer)
    assert refused(given(*REGISTERED), command) == "player_already_on_team"


def test_updating_contacts_replaces_all_three() -> None:
    command = UpdatePlayerContact(team_id=T, player_id="p-ben", discord_user="222")
    assert when(given(*WITH_BEN), command) == [
        PlayerContactUpdated(
            team_id=T, player_id="p-ben", email=None, slack_user=None, discord_user="222"
        )
    ]


def test_updating_to_the_same_contacts_records_nothing() -> None:
    command = UpdatePlayerContact(team_id=T, player_id="p-ben", email="Ben@Example.org")
    assert when(given(*WITH_BEN), command) == []


def test_a_contact_another_player_uses_is_refused() -> None:
    command = UpdatePlayerContact(team_id=T, player_id="p-ben", slack_user="T1:U1")
    assert refused(given(*WITH_BEN), command) == "contact_in_use"


def test_only_a_player_on_the_team_can_leave_or_change() -> None:
    state = given(*REGISTERED)
    assert refused(state, RemovePlayer(team_id=T, player_id="p-ben")) == "player_not_on_team"
    assert refused(state, AppointCaptain(team_id=T, player_id="p-ben")) == "player_not_on_team"
    command = UpdatePlayerContact(team_id=T, player_id="p-ben")
    assert refused(state, command) == "player_not_on_team"


def test_a_player_leaves() -> None:
    assert when(given(*WITH_BEN), RemovePlayer(team_id=T, player_id="p-ben")) == [
        PlayerLeftTeam(team_id=T, player_id="p-ben")
    ]


def test_a_player_who_left_can_join_again() -> None:
    state = given(*WITH_BEN, PlayerLeftTeam(team_id=T, player_id="p-ben"))
    assert when(state, AddPlayer(team_id=T, player=BEN)) == [
        PlayerJoinedTeam(team_id=T, player=BEN)
    ]


# Captains


def test_the_only_captain_can_be_neither_removed_nor_relieved() -> None:
    state = given(*WITH_BEN)
    assert refused(state, RemovePlayer(team_id=T, player_id="p-ana")) == "last_captain"
    assert refused(state, RelieveCaptain(team_id=T, player_id="p-ana")) == "last_captain"


def test_a_captain_who_leaves_is_relieved_first() -> None:
    state = given(*WITH_BEN, CaptainAppointed(team_id=T, player_id="p-ben"))
    assert when(state, RemovePlayer(team_id=T, player_id="p-ana")) == [
        CaptainRelieved(team_id=T, player_id="p-ana"),
        PlayerLeftTeam(team_id=T, player_id="p-ana"),
    ]


def test_a_captain_is_relieved_while_another_remains() -> None:
    state = given(*WITH_BEN, CaptainAppointed(team_id=T, player_id="p-ben"))
    assert when(state, RelieveCaptain(team_id=T, player_id="p-ana")) == [
        CaptainRelieved(team_id=T, player_id="p-ana")
    ]


def test_appointing_a_captain_again_records_nothing() -> None:
    state = given(*WITH_BEN)
    assert when(state, AppointCaptain(team_id=T, player_id="p-ben")) == [
        CaptainAppointed(team_id=T, player_id="p-ben")
    ]
    assert when(state, AppointCaptain(team_id=T, player_id="p-ana")) == []


def test_relieving_a_player_who_is_not_captain_is_refused() -> None:
    command = RelieveCaptain(team_id=T, player_id="p-ben")
    assert refused(given(*WITH_BEN), command) == "not_a_captain"


# Settings


def test_changing_settings_records_the_full_new_settings() -> None:
    command = ChangeTeamSettings(
        team_id=T, min_players=5, max_players=8, reminder_minutes=(60, 720, 60)
    )
    assert when(given(*REGISTERED), command) == [
        TeamSettingsChanged(
            team_id=T,
            settings=TeamSettings(
                timezone="Europe/Berlin",
                check_lead_minutes=2880,
                reminder_minutes=(720, 60),
                min_players=5,
                max_players=8,
                game_length_minutes=120,
            ),
        )
    ]


def test_a_player_limit_can_be_cleared() -> None:
    limited = TeamSettings(timezone="UTC", min_players=5, max_players=8)
    state = given(*REGISTERED, TeamSettingsChanged(team_id=T, settings=limited))
    command = ChangeTeamSettings(team_id=T, clear_min_players=True, clear_max_players=True)
    assert when(state, command) == [
        TeamSettingsChanged(team_id=T, settings=TeamSettings(timezone="UTC"))
    ]


def test_unchanged_settings_record_nothing() -> None:
    command = ChangeTeamSettings(team_id=T, timezone="Europe/Berlin", check_lead_minutes=2880)
    assert when(given(*REGISTERED), command) == []


@pytest.mark.parametrize(
    "command",
    [
        ChangeTeamSettings(team_id=T, timezone=" "),
        ChangeTeamSettings(team_id=T, check_lead_minutes=0),
        ChangeTeamSettings(team_id=T, reminder_minutes=(0,)),
        ChangeTeamSettings(team_id=T, reminder_minutes=(2880,)),
        ChangeTeamSettings(team_id=T, check_lead_minutes=600),  # default reminder 1440 > lead
        ChangeTeamSettings(team_id=T, min_players=0),
        ChangeTeamSettings(team_id=T, max_players=0),
        ChangeTeamSettings(team_id=T, min_players=6, max_players=5),
        ChangeTeamSettings(team_id=T, game_length_minutes=0),
        ChangeTeamSettings(team_id=T, min_players=4, clear_min_players=True),
    ],
    ids=[
        "blank zone",
        "lead 0",
        "reminder 0",
        "reminder at lead",
        "lead below reminder",
        "min 0",
        "max 0",
        "max below min",
        "length 0",
        "set and clear",
    ],
)
def test_invalid_settings_are_refused(command: ChangeTeamSettings) -> None:
    assert refused(given(*REGISTERED), command) == "invalid_settings"


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"timezone": " "}, "Please give the team's time zone, like Europe/Berlin."),
        ({"check_lead_minutes": -5}, "The check must start some time before the game."),
        ({"reminder_minutes": (60, 0)},
         "Reminders must fall between the start of the check and the game."),
        ({"check_lead_minutes": 600},  # the default reminder a day ahead falls before it
         "Reminders must fall between the start of the check and the game."),
        ({"min_players": 0}, "The minimum number of players must be at least 1."),
        ({"min_players": 6, "max_players": 5},
         "The maximum number of players can't be below the minimum."),
        ({"game_length_minutes": 0}, "A game must last some time."),
    ],
    ids=["blank zone", "lead below 0", "reminder 0", "lead below reminder", "min 0",
         "max below min", "length 0"],
)
def test_settings_that_make_no_sense_cannot_be_made(values: dict[str, object],
                                                    message: str) -> None:
    with pytest.raises(DomainError) as caught:
        TeamSettings(**{"timezone": "UTC", **values})  # type: ignore[arg-type]
    assert (caught.value.code, caught.value.message) == ("invalid_settings", message)


def test_settings_keep_reminders_latest_first_once_each() -> None:
    typed = TeamSettings(timezone="UTC", reminder_minutes=(60, 720, 60))
    assert typed.reminder_minutes == (720, 60)
    assert typed == TeamSettings(timezone="UTC", reminder_minutes=(720, 60))


def test_registering_in_a_blank_time_zone_is_refused() -> None:
    captain = PlayerProfile(player_id="p-ana", name="Ana")
    command = RegisterTeam(team_id=T, name="Hawks", timezone="", captain=captain)
    assert refused(TeamState(), command) == "invalid_settings"


# Attendance


def test_requesting_attendance_snapshots_the_current_roster_and_limits() -> None:
    limited = TeamSettings(timezone="UTC", min_players=2, max_players=3)
    state = given(
        *WITH_BEN,
        PlayerJoinedTeam(team_id=T, player=CAL),
        PlayerLeftTeam(team_id=T, player_id="p-ben"),
        TeamSettingsChanged(team_id=T, settings=limited),
    )
    assert when(state, RequestTeamAttendance(team_id=T, check_id="c1", game_id="g1")) == [
        TeamAttendanceRequested(
            team_id=T,
            check_id="c1",
            game_id="g1",
            invitees=(
                Invitee(player_id="p-ana", name="Ana"),
                Invitee(player_id="p-cal", name="Cal"),
            ),
            min_players=2,
            max_players=3,
        )
    ]


def test_attendance_is_requested_once_per_check() -> None:
    state = given(
        *REGISTERED,
        TeamAttendanceRequested(
            team_id=T,
            check_id="c1",
            game_id="g1",
            invitees=(Invitee(player_id="p-ana", name="Ana"),),
        ),
    )
    assert when(state, RequestTeamAttendance(team_id=T, check_id="c1", game_id="g1")) == []
    assert len(when(state, RequestTeamAttendance(team_id=T, check_id="c2", game_id="g2"))) == 1


# Email and reachability


def test_unsubscribing_and_resubscribing_are_idempotent() -> None:
    state = given(*WITH_BEN)
    unsubscribe = UnsubscribeEmail(team_id=T, player_id="p-ben")
    resubscribe = ResubscribeEmail(team_id=T, player_id="p-ben")
    assert when(state, resubscribe) == []
    assert when(state, unsubscribe) == [EmailUnsubscribed(team_id=T, player_id="p-ben")]
    state = given(*WITH_BEN, EmailUnsubscribed(team_id=T, player_id="p-ben"))
    member = state.member("p-ben")
    assert member is not None and member.email_unsubscribed
    assert when(state, unsubscribe) == []
    assert when(state, resubscribe) == [EmailResubscribed(team_id=T, player_id="p-ben")]


def test_an_unreachable_contact_is_marked_once_and_reset_by_a_new_identity() -> None:
    mark = MarkContactUnreachable(
        team_id=T, player_id="p-ana", channel=Channel.SLACK, reason="DMs closed"
    )
    marked = ContactMarkedUnreachable(
        team_id=T, player_id="p-ana", channel=Channel.SLACK, reason="DMs closed"
    )
    assert when(given(*REGISTERED), mark) == [marked]
    assert when(given(*REGISTERED, marked), mark) == []
    discord_changed = PlayerContactUpdated(
        team_id=T, player_id="p-ana", email=ANA.email, slack_user="T1:U1", discord_user="999"
    )
    assert when(given(*REGISTERED, marked, discord_changed), mark) == []
    slack_changed = PlayerContactUpdated(
        team_id=T, player_id="p-ana", email=ANA.email, slack_user="T1:U9", discord_user="111"
    )
    assert when(given(*REGISTERED, marked, slack_changed), mark) == [marked]

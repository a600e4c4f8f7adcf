"""``decide``: the team's rules, from a command and the state to new events."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import TypeVar, assert_never

from core.aggregates.common import Invitee, PlayerProfile
from core.aggregates.team.commands import (
    AddPlayer,
    AppointCaptain,
    BindTeamChannel,
    ChangeTeamSettings,
    MarkContactUnreachable,
    RegisterTeam,
    RelieveCaptain,
    RemovePlayer,
    RenameTeam,
    RequestTeamAttendance,
    ResubscribeEmail,
    SetReserve,
    TeamCommand,
    UnsubscribeEmail,
    UpdatePlayerContact,
)
from core.aggregates.team.events import (
    CaptainAppointed,
    CaptainRelieved,
    ContactMarkedUnreachable,
    EmailResubscribed,
    EmailUnsubscribed,
    PlayerContactUpdated,
    PlayerJoinedTeam,
    PlayerLeftTeam,
    PlayerReserveSet,
    TeamAttendanceRequested,
    TeamChannelBound,
    TeamChannelUnbound,
    TeamEvent,
    TeamRegistered,
    TeamRenamed,
    TeamSettingsChanged,
)
from core.aggregates.team.settings import TeamSettings
from core.aggregates.team.state import UNREGISTERED_SETTINGS, TeamMember, TeamState
from core.errors import DomainError, Refusal

T = TypeVar("T")


def decide(state: TeamState, command: TeamCommand, *, now: datetime) -> list[TeamEvent]:
    if isinstance(command, RegisterTeam):
        return _register(state, command)
    if state.team_id is None:
        raise DomainError(Refusal.TEAM_NOT_FOUND, "That team isn't registered yet.")
    team_id = state.team_id
    match command:
        case RenameTeam(name=name):
            _require_name(name)
            return [] if name == state.name else [TeamRenamed(team_id=team_id, name=name)]
        case AddPlayer(player=player, reserve=reserve):
            _require_name(player.name)
            if reserve:
                _refuse_player_as_reserve(state, player)
            _refuse_clash(state, player, Refusal.PLAYER_ALREADY_ON_TEAM)
            return [PlayerJoinedTeam(team_id=team_id, player=player, reserve=reserve)]
        case UpdatePlayerContact(player_id=player_id):
            member = _member(state, player_id)
            updated = replace(
                member.profile,
                email=command.email,
                slack_user=command.slack_user,
                discord_user=command.discord_user,
            )
            if updated == member.profile:
                return []
            _refuse_clash(state, updated, Refusal.CONTACT_IN_USE, ignore=player_id)
            return [
                PlayerContactUpdated(
                    team_id=team_id,
                    player_id=player_id,
                    email=command.email,
                    slack_user=command.slack_user,
                    discord_user=command.discord_user,
                )
            ]
        case RemovePlayer(player_id=player_id):
            member = _member(state, player_id)
            left = PlayerLeftTeam(team_id=team_id, player_id=player_id)
            if not member.captain:
                return [left]
            _refuse_last_captain(state, member, "remove")
            return [CaptainRelieved(team_id=team_id, player_id=player_id), left]
        case AppointCaptain(player_id=player_id):
            if _member(state, player_id).captain:
                return []
            return [CaptainAppointed(team_id=team_id, player_id=player_id)]
        case RelieveCaptain(player_id=player_id):
            member = _member(state, player_id)
            if not member.captain:
                raise DomainError(Refusal.NOT_A_CAPTAIN, f"{member.profile.name} isn't a captain.")
            _refuse_last_captain(state, member, "relieve")
            return [CaptainRelieved(team_id=team_id, player_id=player_id)]
        case ChangeTeamSettings():
            settings = _changed_settings(state.settings, command)
            if not settings.dms and state.settings.dms and state.chat_channel is None:
                raise DomainError(Refusal.NO_TEAM_CHANNEL, "DMs can be turned off only for "
                                  "a team with a channel: type /attend channel here in it first.")
            if settings == state.settings:
                return []
            return [TeamSettingsChanged(team_id=team_id, settings=settings)]
        case RequestTeamAttendance(check_id=check_id, game_id=game_id):
            if check_id in state.requested_checks:
                return []
            return [
                TeamAttendanceRequested(
                    team_id=team_id,
                    check_id=check_id,
                    game_id=game_id,
                    invitees=tuple(
                        Invitee(player_id=m.profile.player_id, name=m.profile.name)
                        for m in state.members if not m.reserve
                    ),
                    min_players=state.settings.min_players,
                    max_players=state.settings.max_players,
                    reserves=tuple(
                        Invitee(player_id=m.profile.player_id, name=m.profile.name)
                        for m in state.members if m.reserve
                    ),
                )
            ]
        case UnsubscribeEmail(player_id=player_id):
            if _member(state, player_id).email_unsubscribed:
                return []
            return [EmailUnsubscribed(team_id=team_id, player_id=player_id)]
        case ResubscribeEmail(player_id=player_id):
            if not _member(state, player_id).email_unsubscribed:
                return []
            return [EmailResubscribed(team_id=team_id, player_id=player_id)]
        case MarkContactUnreachable(player_id=player_id, channel=channel, reason=reason):
            if channel in _member(state, player_id).unreachable:
                return []
            return [
                ContactMarkedUnreachable(
                    team_id=team_id, player_id=player_id, channel=channel, reason=reason
                )
            ]
        case SetReserve(player_id=player_id, reserve=reserve):
            if _member(state, player_id).reserve == reserve:
                return []
            return [PlayerReserveSet(team_id=team_id, player_id=player_id, reserve=reserve)]
        case BindTeamChannel():
            return _bind_channel(state, team_id, command)
        case _:
            assert_never(command)


def _register(state: TeamState, command: RegisterTeam) -> list[TeamEvent]:
    if state.team_id is not None:
        raise DomainError(Refusal.TEAM_ALREADY_REGISTERED, f"{state.name} is already registered.")
    _require_name(command.name)
    _require_name(command.captain.name)
    settings = replace(UNREGISTERED_SETTINGS, timezone=command.timezone)  # checks the zone
    captain = command.captain.player_id
    return [
        TeamRegistered(
            team_id=command.team_id,
            name=command.name,
            settings=settings,
            slack_workspace=command.slack_workspace,
            discord_guild=command.discord_guild,
            channel=command.channel,
        ),
        PlayerJoinedTeam(team_id=command.team_id, player=command.captain),
        CaptainAppointed(team_id=command.team_id, player_id=captain),
    ]


def _bind_channel(state: TeamState, team_id: str,
                  command: BindTeamChannel) -> list[TeamEvent]:
    if command.channel_id is None:
        return [] if state.chat_channel is None else [TeamChannelUnbound(team_id=team_id)]
    if not command.platform or not command.channel_id.strip():
        raise DomainError(Refusal.NO_TEAM_CHANNEL, "Say which chat channel, from inside it.")
    if (command.platform, command.channel_id) == (state.chat_platform, state.chat_channel):
        return []
    return [TeamChannelBound(team_id=team_id, platform=command.platform,
                             channel_id=command.channel_id)]


def _require_name(name: str) -> None:
    if not name.strip():
        raise DomainError(Refusal.NAME_REQUIRED, "Please give a name.")


def _member(state: TeamState, player_id: str) -> TeamMember:
    member = state.member(player_id)
    if member is None:
        raise DomainError(Refusal.PLAYER_NOT_ON_TEAM, "That player isn't on this team.")
    return member


def _refuse_clash(
    state: TeamState, player: PlayerProfile, code: Refusal, *, ignore: str | None = None
) -> None:
    for member in state.members:
        known = member.profile
        if known.player_id == ignore:
            continue
        if known.player_id == player.player_id:
            raise DomainError(code, f"{known.name} is already on this team.")
        if player.email and known.email and player.email.casefold() == known.email.casefold():
            raise DomainError(code, f"{known.name} already uses the email {known.email}.")
        if player.slack_user and player.slack_user == known.slack_user:
            raise DomainError(code, f"{known.name} already uses that Slack account.")
        if player.discord_user and player.discord_user == known.discord_user:
            raise DomainError(code, f"{known.name} already uses that Discord account.")


def _refuse_player_as_reserve(state: TeamState, player: PlayerProfile) -> None:
    """A reserve is someone not on the team yet: a player on it is asked every game."""
    probe = TeamState(members=tuple(m for m in state.members if not m.reserve))
    try:
        _refuse_clash(probe, player, Refusal.RESERVE_ALREADY_PLAYER)
    except DomainError as error:
        raise DomainError(Refusal.RESERVE_ALREADY_PLAYER, f"{error.message} A reserve who is "
                          "already a player can't be added: they are asked every game "
                          "anyway.") from None


def _refuse_last_captain(state: TeamState, member: TeamMember, verb: str) -> None:
    if state.captains == (member.profile.player_id,):
        raise DomainError(Refusal.LAST_CAPTAIN,
            f"{member.profile.name} is the only captain; appoint another captain "
            f"before you {verb} them.",
        )


def _changed_settings(current: TeamSettings, command: ChangeTeamSettings) -> TeamSettings:
    """The settings after ``command``; :class:`TeamSettings` refuses values that make no sense."""
    if (command.clear_min_players and command.min_players is not None) or (
        command.clear_max_players and command.max_players is not None
    ) or (command.clear_reserve_minutes and command.reserve_minutes is not None):
        raise DomainError(
            Refusal.INVALID_SETTINGS, "Either set a player limit or clear it, not both.")
    return TeamSettings(
        timezone=_given(command.timezone, current.timezone),
        check_lead_minutes=_given(command.check_lead_minutes, current.check_lead_minutes),
        reminder_minutes=_given(command.reminder_minutes, current.reminder_minutes),
        min_players=(
            None if command.clear_min_players else _given(command.min_players, current.min_players)
        ),
        max_players=(
            None if command.clear_max_players else _given(command.max_players, current.max_players)
        ),
        game_length_minutes=_given(command.game_length_minutes, current.game_length_minutes),
        reserve_minutes=(
            None if command.clear_reserve_minutes
            else _given(command.reserve_minutes, current.reserve_minutes)
        ),
        dms=_given(command.dms, current.dms),
    )


def _given(new: T | None, old: T) -> T:
    return old if new is None else new

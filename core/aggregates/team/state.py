"""What a team remembers, and ``evolve``: how each event changes it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import assert_never

from core.aggregates.common import Channel, PlayerProfile
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


@dataclass(frozen=True, kw_only=True, slots=True)
class TeamMember:
    profile: PlayerProfile
    captain: bool = False
    email_unsubscribed: bool = False
    unreachable: tuple[Channel, ...] = ()  # DMs here fail: send by email instead
    reserve: bool = False  # asked only when a game is short


UNREGISTERED_SETTINGS = TeamSettings(timezone="UTC")


@dataclass(frozen=True, kw_only=True, slots=True)
class TeamState:
    team_id: str | None = None  # None until registered
    name: str = ""
    slack_workspace: str | None = None
    discord_guild: str | None = None
    channel: str | None = None
    settings: TeamSettings = UNREGISTERED_SETTINGS
    members: tuple[TeamMember, ...] = ()  # in joining order
    requested_checks: tuple[str, ...] = ()
    chat_platform: str | None = None  # the team's channel, where boards are posted
    chat_channel: str | None = None

    @property
    def captains(self) -> tuple[str, ...]:
        return tuple(m.profile.player_id for m in self.members if m.captain)

    def member(self, player_id: str) -> TeamMember | None:
        return next((m for m in self.members if m.profile.player_id == player_id), None)


def evolve(state: TeamState, event: TeamEvent) -> TeamState:
    match event:
        case TeamRegistered():
            return replace(
                state,
                team_id=event.team_id,
                name=event.name,
                settings=event.settings,
                slack_workspace=event.slack_workspace,
                discord_guild=event.discord_guild,
                channel=event.channel,
            )
        case TeamRenamed(name=name):
            return replace(state, name=name)
        case PlayerJoinedTeam(player=player, reserve=reserve):
            member = TeamMember(profile=player, reserve=reserve)
            return replace(state, members=(*state.members, member))
        case PlayerContactUpdated():
            return _update_member(state, event.player_id, _with_contacts(event))
        case PlayerLeftTeam(player_id=player_id):
            return replace(
                state, members=tuple(m for m in state.members if m.profile.player_id != player_id)
            )
        case CaptainAppointed(player_id=player_id):
            return _update_member(state, player_id, lambda m: replace(m, captain=True))
        case CaptainRelieved(player_id=player_id):
            return _update_member(state, player_id, lambda m: replace(m, captain=False))
        case TeamSettingsChanged(settings=settings):
            return replace(state, settings=settings)
        case TeamAttendanceRequested(check_id=check_id):
            return replace(state, requested_checks=(*state.requested_checks, check_id))
        case EmailUnsubscribed(player_id=player_id):
            return _update_member(state, player_id, lambda m: replace(m, email_unsubscribed=True))
        case EmailResubscribed(player_id=player_id):
            return _update_member(state, player_id, lambda m: replace(m, email_unsubscribed=False))
        case ContactMarkedUnreachable(player_id=player_id, channel=channel):
            return _update_member(
                state, player_id, lambda m: replace(m, unreachable=(*m.unreachable, channel))
            )
        case PlayerReserveSet(player_id=player_id, reserve=reserve):
            return _update_member(state, player_id, lambda m: replace(m, reserve=reserve))
        case TeamChannelBound(platform=platform, channel_id=channel_id):
            return replace(state, chat_platform=platform, chat_channel=channel_id)
        case TeamChannelUnbound():
            return replace(state, chat_platform=None, chat_channel=None)
        case _:
            assert_never(event)


def _update_member(
    state: TeamState, player_id: str, change: Callable[[TeamMember], TeamMember]
) -> TeamState:
    return replace(
        state,
        members=tuple(change(m) if m.profile.player_id == player_id else m for m in state.members),
    )


def _with_contacts(event: PlayerContactUpdated) -> Callable[[TeamMember], TeamMember]:
    """New contacts; a channel whose identity changed is worth trying again."""

    def change(member: TeamMember) -> TeamMember:
        old = member.profile
        profile = replace(
            old, email=event.email, slack_user=event.slack_user, discord_user=event.discord_user
        )
        kept = {
            Channel.EMAIL: old.email == profile.email,
            Channel.SLACK: old.slack_user == profile.slack_user,
            Channel.DISCORD: old.discord_user == profile.discord_user,
        }
        return replace(
            member, profile=profile, unreachable=tuple(c for c in member.unreachable if kept[c])
        )

    return change

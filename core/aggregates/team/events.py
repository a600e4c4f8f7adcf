"""The events a team records, and their union ``TeamEvent``."""

from __future__ import annotations

from dataclasses import dataclass

from core.aggregates.common import Channel, Invitee, PlayerProfile
from core.aggregates.team.settings import TeamSettings


@dataclass(frozen=True, kw_only=True, slots=True)
class TeamRegistered:
    team_id: str
    name: str
    settings: TeamSettings
    slack_workspace: str | None = None
    discord_guild: str | None = None
    channel: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class TeamRenamed:
    team_id: str
    name: str


@dataclass(frozen=True, kw_only=True, slots=True)
class PlayerJoinedTeam:
    team_id: str
    player: PlayerProfile
    reserve: bool = False


@dataclass(frozen=True, kw_only=True, slots=True)
class PlayerContactUpdated:
    team_id: str
    player_id: str
    email: str | None = None
    slack_user: str | None = None
    discord_user: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class PlayerLeftTeam:
    team_id: str
    player_id: str


@dataclass(frozen=True, kw_only=True, slots=True)
class CaptainAppointed:
    team_id: str
    player_id: str


@dataclass(frozen=True, kw_only=True, slots=True)
class CaptainRelieved:
    team_id: str
    player_id: str


@dataclass(frozen=True, kw_only=True, slots=True)
class TeamSettingsChanged:
    team_id: str
    settings: TeamSettings


@dataclass(frozen=True, kw_only=True, slots=True)
class TeamAttendanceRequested:
    team_id: str
    check_id: str
    game_id: str
    invitees: tuple[Invitee, ...]
    min_players: int | None = None
    max_players: int | None = None
    reserves: tuple[Invitee, ...] = ()  # not invited: asked only if the check is short


@dataclass(frozen=True, kw_only=True, slots=True)
class EmailUnsubscribed:
    team_id: str
    player_id: str


@dataclass(frozen=True, kw_only=True, slots=True)
class EmailResubscribed:
    team_id: str
    player_id: str


@dataclass(frozen=True, kw_only=True, slots=True)
class ContactMarkedUnreachable:
    team_id: str
    player_id: str
    channel: Channel
    reason: str


@dataclass(frozen=True, kw_only=True, slots=True)
class PlayerReserveSet:
    """A player moved to the reserves (``reserve``) or back; checks from then on follow."""

    team_id: str
    player_id: str
    reserve: bool
# -- the team's channel (issue 16.2) ------------------------------------------------------------
@dataclass(frozen=True, kw_only=True, slots=True)
class TeamChannelBound:
    team_id: str
    platform: str
    channel_id: str


@dataclass(frozen=True, kw_only=True, slots=True)
class TeamChannelUnbound:
    team_id: str


TeamEvent = (
    TeamRegistered
    | TeamRenamed
    | PlayerJoinedTeam
    | PlayerContactUpdated
    | PlayerLeftTeam
    | CaptainAppointed
    | CaptainRelieved
    | TeamSettingsChanged
    | TeamAttendanceRequested
    | EmailUnsubscribed
    | EmailResubscribed
    | ContactMarkedUnreachable
    | PlayerReserveSet
    | TeamChannelBound
    | TeamChannelUnbound
)

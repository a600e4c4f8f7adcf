"""The commands a team takes, and their union ``TeamCommand``."""

from __future__ import annotations

from dataclasses import dataclass

from core.aggregates.common import Channel, PlayerProfile


@dataclass(frozen=True, kw_only=True, slots=True)
class RegisterTeam:
    team_id: str
    name: str
    timezone: str
    captain: PlayerProfile
    slack_workspace: str | None = None
    discord_guild: str | None = None
    channel: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class RenameTeam:
    team_id: str
    name: str


@dataclass(frozen=True, kw_only=True, slots=True)
class AddPlayer:
    team_id: str
    player: PlayerProfile
    reserve: bool = False  # on the roster, asked only when a game is short


@dataclass(frozen=True, kw_only=True, slots=True)
class UpdatePlayerContact:
    """Replaces all three contacts; ``None`` removes one."""

    team_id: str
    player_id: str
    email: str | None = None
    slack_user: str | None = None
    discord_user: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class RemovePlayer:
    team_id: str
    player_id: str


@dataclass(frozen=True, kw_only=True, slots=True)
class AppointCaptain:
    team_id: str
    player_id: str


@dataclass(frozen=True, kw_only=True, slots=True)
class RelieveCaptain:
    team_id: str
    player_id: str


@dataclass(frozen=True, kw_only=True, slots=True)
class ChangeTeamSettings:
    """``None`` keeps a setting; ``clear_min_players`` / ``clear_max_players`` remove a limit."""

    team_id: str
    timezone: str | None = None
    check_lead_minutes: int | None = None
    reminder_minutes: tuple[int, ...] | None = None
    min_players: int | None = None
    max_players: int | None = None
    game_length_minutes: int | None = None
    reserve_minutes: int | None = None
    clear_min_players: bool = False
    clear_max_players: bool = False
    clear_reserve_minutes: bool = False
    dms: bool | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class RequestTeamAttendance:
    team_id: str
    check_id: str
    game_id: str


@dataclass(frozen=True, kw_only=True, slots=True)
class UnsubscribeEmail:
    team_id: str
    player_id: str


@dataclass(frozen=True, kw_only=True, slots=True)
class ResubscribeEmail:
    team_id: str
    player_id: str


@dataclass(frozen=True, kw_only=True, slots=True)
class MarkContactUnreachable:
    team_id: str
    player_id: str
    channel: Channel
    reason: str


@dataclass(frozen=True, kw_only=True, slots=True)
class SetReserve:
    """Move a player to the reserves (asked only when a game is short) or back."""

    team_id: str
    player_id: str
    reserve: bool
# -- the team's channel (issue 16.2) ------------------------------------------------------------
@dataclass(frozen=True, kw_only=True, slots=True)
class BindTeamChannel:
    """Post each check's board in this chat channel; ``channel_id`` None unbinds.

    ``platform`` and ``channel_id`` are the edge's plain strings (``"slack"`` with
    ``"<workspace>:<channel>"``, ``"discord"`` with the channel's id): the core only keeps them.
    """

    team_id: str
    platform: str | None = None
    channel_id: str | None = None


TeamCommand = (
    RegisterTeam
    | RenameTeam
    | AddPlayer
    | UpdatePlayerContact
    | RemovePlayer
    | AppointCaptain
    | RelieveCaptain
    | ChangeTeamSettings
    | RequestTeamAttendance
    | UnsubscribeEmail
    | ResubscribeEmail
    | MarkContactUnreachable
    | SetReserve
    | BindTeamChannel
)

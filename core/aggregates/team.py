"""Team: its roster, captains, settings, and the roster snapshot taken for each check.

Stream ``team-<team_id>``. A team keeps at least one captain; a player (by id, email, Slack or
Discord identity) is on it at most once.

Decisions the rules leave open:
- ``UpdatePlayerContact`` replaces all three contacts (``None`` removes one); a contact used by
  another player is refused with ``contact_in_use``. A changed identity clears that channel's
  unreachable mark.
- Removing a captain (who is not the last) records ``CaptainRelieved`` before ``PlayerLeftTeam``.
- Reminder times are stored sorted, latest first, without duplicates. Unchanged settings,
  names or contacts record nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TypeVar, assert_never

from core.aggregates import Aggregate
from core.aggregates.common import Channel, Invitee, PlayerProfile
from core.errors import DomainError

T = TypeVar("T")


@dataclass(frozen=True, kw_only=True, slots=True)
class TeamSettings:
    """Everything a captain can tune. ``reminder_minutes`` are minutes before the start."""

    timezone: str
    check_lead_minutes: int = 2880
    reminder_minutes: tuple[int, ...] = (1440, 180)
    min_players: int | None = None
    max_players: int | None = None
    game_length_minutes: int = 120


# Commands


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
    clear_min_players: bool = False
    clear_max_players: bool = False


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


# Events


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


# State


@dataclass(frozen=True, kw_only=True, slots=True)
class TeamMember:
    profile: PlayerProfile
    captain: bool = False
    email_unsubscribed: bool = False
    unreachable: tuple[Channel, ...] = ()  # DMs here fail: send by email instead


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

    @property
    def captains(self) -> tuple[str, ...]:
        return tuple(m.profile.player_id for m in self.members if m.captain)

    def member(self, player_id: str) -> TeamMember | None:
        return next((m for m in self.members if m.profile.player_id == player_id), None)


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
)
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
)


def decide(state: TeamState, command: TeamCommand, *, now: datetime) -> list[TeamEvent]:
    if isinstance(command, RegisterTeam):
        return _register(state, command)
    if state.team_id is None:
        raise DomainError("team_not_found", "That team isn't registered yet.")
    team_id = state.team_id
    match command:
        case RenameTeam(name=name):
            _require_name(name)
            return [] if name == state.name else [TeamRenamed(team_id=team_id, name=name)]
        case AddPlayer(player=player):
            _require_name(player.name)
            _refuse_clash(state, player, "player_already_on_team")
            return [PlayerJoinedTeam(team_id=team_id, player=player)]
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
            _refuse_clash(state, updated, "contact_in_use", ignore=player_id)
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
                raise DomainError("not_a_captain", f"{member.profile.name} isn't a captain.")
            _refuse_last_captain(state, member, "relieve")
            return [CaptainRelieved(team_id=team_id, player_id=player_id)]
        case ChangeTeamSettings():
            settings = _changed_settings(state.settings, command)
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
                        for m in state.members
                    ),
                    min_players=state.settings.min_players,
                    max_players=state.settings.max_players,
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
        case _:
            assert_never(command)


def _register(state: TeamState, command: RegisterTeam) -> list[TeamEvent]:
    if state.team_id is not None:
        raise DomainError("team_already_registered", f"{state.name} is already registered.")
    _require_name(command.name)
    _require_name(command.captain.name)
    settings = replace(UNREGISTERED_SETTINGS, timezone=command.timezone)
    _validate(settings)
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


def _require_name(name: str) -> None:
    if not name.strip():
        raise DomainError("name_required", "Please give a name.")


def _member(state: TeamState, player_id: str) -> TeamMember:
    member = state.member(player_id)
    if member is None:
        raise DomainError("player_not_on_team", "That player isn't on this team.")
    return member


def _refuse_clash(
    state: TeamState, player: PlayerProfile, code: str, *, ignore: str | None = None
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


def _refuse_last_captain(state: TeamState, member: TeamMember, verb: str) -> None:
    if state.captains == (member.profile.player_id,):
        raise DomainError(
            "last_captain",
            f"{member.profile.name} is the only captain; appoint another captain "
            f"before you {verb} them.",
        )


def _changed_settings(current: TeamSettings, command: ChangeTeamSettings) -> TeamSettings:
    if (command.clear_min_players and command.min_players is not None) or (
        command.clear_max_players and command.max_players is not None
    ):
        raise DomainError("invalid_settings", "Either set a player limit or clear it, not both.")

    settings = TeamSettings(
        timezone=_given(command.timezone, current.timezone),
        check_lead_minutes=_given(command.check_lead_minutes, current.check_lead_minutes),
        reminder_minutes=tuple(
            sorted(set(_given(command.reminder_minutes, current.reminder_minutes)), reverse=True)
        ),
        min_players=(
            None if command.clear_min_players else _given(command.min_players, current.min_players)
        ),
        max_players=(
            None if command.clear_max_players else _given(command.max_players, current.max_players)
        ),
        game_length_minutes=_given(command.game_length_minutes, current.game_length_minutes),
    )
    _validate(settings)
    return settings


def _given(new: T | None, old: T) -> T:
    return old if new is None else new


def _validate(settings: TeamSettings) -> None:
    problem = _settings_problem(settings)
    if problem:
        raise DomainError("invalid_settings", problem)


def _settings_problem(s: TeamSettings) -> str | None:
    if not s.timezone.strip():
        return "Please give the team's time zone, like Europe/Berlin."
    if s.check_lead_minutes <= 0:
        return "The check must start some time before the game."
    if any(r <= 0 or r >= s.check_lead_minutes for r in s.reminder_minutes):
        return "Reminders must fall between the start of the check and the game."
    if s.min_players is not None and s.min_players < 1:
        return "The minimum number of players must be at least 1."
    if s.max_players is not None and s.max_players < max(1, s.min_players or 1):
        return "The maximum number of players can't be below the minimum."
    if s.game_length_minutes <= 0:
        return "A game must last some time."
    return None


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
        case PlayerJoinedTeam(player=player):
            return replace(state, members=(*state.members, TeamMember(profile=player)))
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


TEAM: Aggregate[TeamState] = Aggregate(
    name="team",
    initial=TeamState(),
    decide=decide,
    evolve=evolve,
    commands={
        RegisterTeam: "team_id",
        RenameTeam: "team_id",
        AddPlayer: "team_id",
        UpdatePlayerContact: "team_id",
        RemovePlayer: "team_id",
        AppointCaptain: "team_id",
        RelieveCaptain: "team_id",
        ChangeTeamSettings: "team_id",
        RequestTeamAttendance: "team_id",
        UnsubscribeEmail: "team_id",
        ResubscribeEmail: "team_id",
        MarkContactUnreachable: "team_id",
    },
    events=(
        TeamRegistered,
        TeamRenamed,
        PlayerJoinedTeam,
        PlayerContactUpdated,
        PlayerLeftTeam,
        CaptainAppointed,
        CaptainRelieved,
        TeamSettingsChanged,
        TeamAttendanceRequested,
        EmailUnsubscribed,
        EmailResubscribed,
        ContactMarkedUnreachable,
    ),
)

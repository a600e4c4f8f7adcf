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
- Reserves are on the roster but left out of a check's invitees (listed with the check as
  reserves instead). Adding as a reserve someone who is a player already is refused with
  ``reserve_already_player``; a captain moves a player to the reserves or back with
  ``SetReserve``, which changes checks requested from then on.

The package's modules: ``settings`` ``TeamSettings``, a value object that refuses values that
make no sense; ``commands`` commands (and their union); ``events`` events (and their union);
``state`` the state and ``evolve``; ``rules`` ``decide`` and the rules it enforces.
"""

from __future__ import annotations

from core.aggregates import Aggregate, message_types
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
from core.aggregates.team.rules import decide
from core.aggregates.team.settings import TeamSettings
from core.aggregates.team.state import UNREGISTERED_SETTINGS, TeamMember, TeamState, evolve

TEAM: Aggregate[TeamState] = Aggregate(
    name="team",
    initial=TeamState(),
    decide=decide,
    evolve=evolve,
    commands=dict.fromkeys(message_types(TeamCommand), "team_id"),
    events=message_types(TeamEvent),
)

__all__ = [
    "TEAM",
    "UNREGISTERED_SETTINGS",
    "AddPlayer",
    "AppointCaptain",
    "BindTeamChannel",
    "CaptainAppointed",
    "CaptainRelieved",
    "ChangeTeamSettings",
    "ContactMarkedUnreachable",
    "EmailResubscribed",
    "EmailUnsubscribed",
    "MarkContactUnreachable",
    "PlayerContactUpdated",
    "PlayerJoinedTeam",
    "PlayerLeftTeam",
    "PlayerReserveSet",
    "RegisterTeam",
    "RelieveCaptain",
    "RemovePlayer",
    "RenameTeam",
    "RequestTeamAttendance",
    "ResubscribeEmail",
    "SetReserve",
    "TeamAttendanceRequested",
    "TeamChannelBound",
    "TeamChannelUnbound",
    "TeamCommand",
    "TeamEvent",
    "TeamMember",
    "TeamRegistered",
    "TeamRenamed",
    "TeamSettings",
    "TeamSettingsChanged",
    "TeamState",
    "UnsubscribeEmail",
    "UpdatePlayerContact",
    "decide",
    "evolve",
]

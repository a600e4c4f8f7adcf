"""Directory: who someone is on each team, found by email, Slack or Discord identity.

Adapters resolve the person behind a request here. Emails are stored casefolded, the way the
team compares them, so ``Ada@Example.org`` finds ``ada@example.org``.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, Table, bindparam, delete, insert, or_, select, update

from core.aggregates.team import (
    CaptainAppointed,
    CaptainRelieved,
    PlayerContactUpdated,
    PlayerJoinedTeam,
    PlayerLeftTeam,
    TeamRegistered,
    TeamRenamed,
)
from core.eventstore import HandlerTransaction, RecordedEvent
from core.projections.tables import directory_members, directory_teams


@dataclass(frozen=True, kw_only=True, slots=True)
class Membership:
    team_id: str
    team_name: str
    player_id: str
    player_name: str
    captain: bool


def normalise_email(email: str | None) -> str | None:
    normalised = (email or "").strip().casefold()
    return normalised or None


class DirectoryProjection:
    name = "directory"
    events: frozenset[type] = frozenset({
        TeamRegistered, TeamRenamed, PlayerJoinedTeam, PlayerContactUpdated, PlayerLeftTeam,
        CaptainAppointed, CaptainRelieved,
    })
    tables: tuple[Table, ...] = (directory_teams, directory_members)

    def handle(self, tx: HandlerTransaction, recorded: RecordedEvent) -> None:
        conn: Connection = tx.connection
        t, m = directory_teams.c, directory_members.c
        match recorded.event:
            case TeamRegistered(team_id=team_id, name=name):
                conn.execute(insert(directory_teams).values(team_id=team_id, name=name))
            case TeamRenamed(team_id=team_id, name=name):
                conn.execute(update(directory_teams).where(t.team_id == team_id)
                             .values(name=name))
            case PlayerJoinedTeam(team_id=team_id, player=player):
                conn.execute(insert(directory_members).values(
                    team_id=team_id, player_id=player.player_id, player_name=player.name,
                    email=normalise_email(player.email), slack_user=player.slack_user,
                    discord_user=player.discord_user, captain=False))
            case PlayerContactUpdated() as e:
                conn.execute(update(directory_members)
                             .where(m.team_id == e.team_id, m.player_id == e.player_id)
                             .values(email=normalise_email(e.email), slack_user=e.slack_user,
                                     discord_user=e.discord_user))
            case PlayerLeftTeam(team_id=team_id, player_id=player_id):
                conn.execute(delete(directory_members).where(m.team_id == team_id,
                                                             m.player_id == player_id))
            case CaptainAppointed(team_id=team_id, player_id=player_id):
                conn.execute(update(directory_members)
                             .where(m.team_id == team_id, m.player_id == player_id)
                             .values(captain=True))
            case CaptainRelieved(team_id=team_id, player_id=player_id):
                conn.execute(update(directory_members)
                             .where(m.team_id == team_id, m.player_id == player_id)
                             .values(captain=False))


_MEMBERSHIPS = (
    select(directory_members.c.team_id, directory_teams.c.name, directory_members.c.player_id,
           directory_members.c.player_name, directory_members.c.captain)
    .join_from(directory_members, directory_teams,
               directory_members.c.team_id == directory_teams.c.team_id)
    .order_by(directory_teams.c.name, directory_members.c.team_id))
_BY_IDENTITY = {kind: _MEMBERSHIPS.where(directory_members.c[kind] == bindparam("identity"))
                for kind in ("email", "slack_user", "discord_user")}


def memberships(conn: Connection, *, email: str | None = None, slack_user: str | None = None,
                discord_user: str | None = None) -> list[Membership]:
    """Every team membership matching any of the identities given, by team name."""
    m = directory_members.c
    matches = []
    if (wanted := normalise_email(email)) is not None:
        matches.append(m.email == wanted)
    if slack_user:
        matches.append(m.slack_user == slack_user)
    if discord_user:
        matches.append(m.discord_user == discord_user)
    if not matches:
        return []
    if len(matches) == 1:  # the usual case, one identity: a statement built once
        kind, value = next((k, v) for k, v in (("email", wanted), ("slack_user", slack_user),
                                               ("discord_user", discord_user)) if v)
        rows = conn.execute(_BY_IDENTITY[kind], {"identity": value})
    else:
        rows = conn.execute(_MEMBERSHIPS.where(or_(*matches)))
    return [Membership(team_id=r.team_id, team_name=r.name, player_id=r.player_id,
                       player_name=r.player_name, captain=r.captain) for r in rows]

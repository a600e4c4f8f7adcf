"""Roster: teams, their settings, and the players on them with their contacts.

A player who leaves is deleted: the roster is who is on the team now (boards and the season
keep their own copy of names).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, Table, bindparam, delete, insert, select, update

from core.aggregates.common import Channel
from core.aggregates.team import (
    CaptainAppointed,
    CaptainRelieved,
    ContactMarkedUnreachable,
    EmailResubscribed,
    EmailUnsubscribed,
    PlayerContactUpdated,
    PlayerJoinedTeam,
    PlayerLeftTeam,
    PlayerReserveSet,
    TeamChannelBound,
    TeamChannelUnbound,
    TeamRegistered,
    TeamRenamed,
    TeamSettings,
    TeamSettingsChanged,
)
from core.eventstore import HandlerTransaction, RecordedEvent
from core.eventstore.database import DriverSqlIn
from core.projections.tables import roster_players, roster_teams
from core.projections.types import from_db_time


@dataclass(frozen=True, kw_only=True, slots=True)
class TeamView:
    team_id: str
    name: str
    timezone: str
    check_lead_minutes: int
    reminder_minutes: tuple[int, ...]
    min_players: int | None
    max_players: int | None
    game_length_minutes: int
    slack_workspace: str | None
    discord_guild: str | None
    channel: str | None
    registered_at: datetime
    reserve_minutes: int | None = None  # ask the reserves this long before a short game
    chat_platform: str | None = None  # the team's channel (issue 16.2)
    chat_channel: str | None = None
    dms: bool = True  # False: invitations only in the team's channel


@dataclass(frozen=True, kw_only=True, slots=True)
class PlayerView:
    team_id: str
    player_id: str
    name: str
    email: str | None
    slack_user: str | None
    discord_user: str | None
    captain: bool
    email_unsubscribed: bool
    unreachable: tuple[Channel, ...]  # channels whose DMs failed: use email instead
    joined_at: datetime
    reserve: bool = False  # asked only when a game is short


class RosterProjection:
    name = "roster"
    events: frozenset[type] = frozenset({
        TeamRegistered, TeamRenamed, TeamSettingsChanged, PlayerJoinedTeam,
        PlayerContactUpdated, PlayerLeftTeam, CaptainAppointed, CaptainRelieved,
        EmailUnsubscribed, EmailResubscribed, ContactMarkedUnreachable, PlayerReserveSet,
        EmailUnsubscribed, EmailResubscribed, ContactMarkedUnreachable,
        TeamChannelBound, TeamChannelUnbound,
    })
    tables: tuple[Table, ...] = (roster_teams, roster_players)

    def handle(self, tx: HandlerTransaction, recorded: RecordedEvent) -> None:
        conn: Connection = tx.connection
        t, p = roster_teams.c, roster_players.c
        match recorded.event:
            case TeamRegistered() as e:
                conn.execute(insert(roster_teams).values(
                    team_id=e.team_id, name=e.name, slack_workspace=e.slack_workspace,
                    discord_guild=e.discord_guild, channel=e.channel,
                    registered_at=recorded.metadata.recorded_at, **_settings(e.settings)))
            case TeamRenamed(team_id=team_id, name=name):
                conn.execute(update(roster_teams).where(t.team_id == team_id).values(name=name))
            case TeamSettingsChanged(team_id=team_id, settings=settings):
                conn.execute(update(roster_teams).where(t.team_id == team_id)
                             .values(**_settings(settings)))
            case PlayerJoinedTeam(team_id=team_id, player=player):
                conn.execute(insert(roster_players).values(
                    team_id=team_id, player_id=player.player_id, seq=recorded.position,
                    name=player.name, email=player.email, slack_user=player.slack_user,
                    discord_user=player.discord_user, captain=False, email_unsubscribed=False,
                    unreachable=[], joined_at=recorded.metadata.recorded_at,
                    reserve=recorded.event.reserve))
            case PlayerContactUpdated() as e:
                _update_contacts(conn, e)
            case PlayerLeftTeam(team_id=team_id, player_id=player_id):
                conn.execute(delete(roster_players).where(p.team_id == team_id,
                                                          p.player_id == player_id))
            case CaptainAppointed(team_id=team_id, player_id=player_id):
                _set(conn, team_id, player_id, captain=True)
            case CaptainRelieved(team_id=team_id, player_id=player_id):
                _set(conn, team_id, player_id, captain=False)
            case EmailUnsubscribed(team_id=team_id, player_id=player_id):
                _set(conn, team_id, player_id, email_unsubscribed=True)
            case EmailResubscribed(team_id=team_id, player_id=player_id):
                _set(conn, team_id, player_id, email_unsubscribed=False)
            case PlayerReserveSet(team_id=team_id, player_id=player_id, reserve=reserve):
                _set(conn, team_id, player_id, reserve=reserve)
            case ContactMarkedUnreachable(team_id=team_id, player_id=player_id, channel=channel):
                marked = _unreachable(conn, team_id, player_id)
                if channel.value not in marked:
                    _set(conn, team_id, player_id, unreachable=[*marked, channel.value])
            case TeamChannelBound(team_id=team_id, platform=platform, channel_id=channel_id):
                conn.execute(update(roster_teams).where(t.team_id == team_id).values(
                    chat_platform=platform, chat_channel=channel_id))
            case TeamChannelUnbound(team_id=team_id):
                conn.execute(update(roster_teams).where(t.team_id == team_id).values(
                    chat_platform=None, chat_channel=None))


def _settings(settings: TeamSettings) -> dict[str, Any]:
    return {
        "timezone": settings.timezone, "check_lead_minutes": settings.check_lead_minutes,
        "reminder_minutes": list(settings.reminder_minutes),
        "min_players": settings.min_players, "max_players": settings.max_players,
        "game_length_minutes": settings.game_length_minutes,
        "reserve_minutes": settings.reserve_minutes, "dms": settings.dms,
    }


def _set(conn: Connection, team_id: str, player_id: str, **values: Any) -> None:
    p = roster_players.c
    conn.execute(update(roster_players).where(p.team_id == team_id, p.player_id == player_id)
                 .values(**values))


def _unreachable(conn: Connection, team_id: str, player_id: str) -> list[str]:
    p = roster_players.c
    value = conn.execute(select(p.unreachable).where(p.team_id == team_id,
                                                     p.player_id == player_id)).scalar()
    return list(value or [])


def _update_contacts(conn: Connection, e: PlayerContactUpdated) -> None:
    """New contacts; a channel whose identity changed is worth trying again (as the team)."""
    p = roster_players.c
    old = conn.execute(select(p.email, p.slack_user, p.discord_user, p.unreachable).where(
        p.team_id == e.team_id, p.player_id == e.player_id)).first()
    if old is None:
        return
    kept = {"email": old.email == e.email, "slack": old.slack_user == e.slack_user,
            "discord": old.discord_user == e.discord_user}
    _set(conn, e.team_id, e.player_id, email=e.email, slack_user=e.slack_user,
         discord_user=e.discord_user, unreachable=[c for c in old.unreachable if kept[c]])


# -- queries ---------------------------------------------------------------------------------
# Built once: every request resolves who is asking with these two.
_TEAM = select(roster_teams).where(roster_teams.c.team_id == bindparam("team_id"))
_PLAYER = select(roster_players).where(roster_players.c.team_id == bindparam("team_id"),
                                       roster_players.c.player_id == bindparam("player_id"))


# On the driver: a delivery worker reads these for every batch it claims.
_PLAYERS = DriverSqlIn(
    "SELECT team_id, player_id, name, email, slack_user, discord_user, captain, "
    "email_unsubscribed, unreachable, joined_at, reserve FROM roster_players "
    "WHERE team_id = %s AND player_id {one_of}")


def team(conn: Connection, team_id: str) -> TeamView | None:
    row = conn.execute(_TEAM, {"team_id": team_id}).first()
    return None if row is None else _team(row)


def teams(conn: Connection) -> list[TeamView]:
    rows = conn.execute(select(roster_teams).order_by(roster_teams.c.name,
                                                      roster_teams.c.team_id))
    return [_team(row) for row in rows]


def roster(conn: Connection, team_id: str) -> list[PlayerView]:
    """Everyone on the team, in joining order."""
    p = roster_players.c
    rows = conn.execute(select(roster_players).where(p.team_id == team_id).order_by(p.seq))
    return [_player(row) for row in rows]


def player(conn: Connection, team_id: str, player_id: str) -> PlayerView | None:
    row = conn.execute(_PLAYER, {"team_id": team_id, "player_id": player_id}).first()
    return None if row is None else _player(row)


def players(conn: Connection, team_id: str, player_ids: Iterable[str]) -> dict[str, PlayerView]:
    """These players of the team, by id: one query (on the key) for a batch of deliveries."""
    ids = sorted(set(player_ids))
    if not ids:
        return {}
    return {row[1]: _player_of(*row) for row in _PLAYERS.rows_in(conn, team_id, values=ids)}


def captains(conn: Connection, team_id: str) -> list[PlayerView]:
    p = roster_players.c
    rows = conn.execute(select(roster_players).where(p.team_id == team_id, p.captain)
                        .order_by(p.seq))
    return [_player(row) for row in rows]


def _team(row: Row[Any]) -> TeamView:
    return TeamView(
        team_id=row.team_id, name=row.name, timezone=row.timezone,
        check_lead_minutes=row.check_lead_minutes,
        reminder_minutes=tuple(row.reminder_minutes), min_players=row.min_players,
        max_players=row.max_players, game_length_minutes=row.game_length_minutes,
        slack_workspace=row.slack_workspace, discord_guild=row.discord_guild,
        channel=row.channel, registered_at=row.registered_at,
        reserve_minutes=row.reserve_minutes,
        chat_platform=row.chat_platform, chat_channel=row.chat_channel, dms=row.dms)


def _player(row: Row[Any]) -> PlayerView:
    return _player_of(row.team_id, row.player_id, row.name, row.email, row.slack_user,
                      row.discord_user, row.captain, row.email_unsubscribed, row.unreachable,
                      row.joined_at, row.reserve)


def _player_of(team_id: str, player_id: str, name: str, email: str | None,
               slack_user: str | None, discord_user: str | None, captain: Any,
               unsubscribed: Any, unreachable: Any, joined_at: Any, reserve: Any) -> PlayerView:
    """A player from its columns, as SQLAlchemy gives them or as the driver does (SQLite's
    booleans as numbers, its JSON as text, its times as text)."""
    channels = json.loads(unreachable) if isinstance(unreachable, str) else unreachable
    joined = from_db_time(joined_at)
    assert joined is not None
    return PlayerView(
        team_id=team_id, player_id=player_id, name=name, email=email, slack_user=slack_user,
        discord_user=discord_user, captain=bool(captain), email_unsubscribed=bool(unsubscribed),
        unreachable=tuple(Channel(c) for c in channels), joined_at=joined,
        reserve=bool(reserve))

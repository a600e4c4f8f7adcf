"""Requests about the team: creating it, its players, captains and settings."""

from __future__ import annotations

from typing import Any

from attend.core.actors import Actor, ActorKind
from attend.core.aggregates import team
from attend.core.aggregates.common import PlayerProfile
from attend.core.errors import DomainError
from attend.core.limits import MAX_NAME
from attend.core.projections import roster
from attend.core.projections.roster import PlayerView, TeamView
from attend.core.router import new_id
from attend.core.service.base import ServiceBase
from attend.core.service.checks import clean_email, clean_text, known_zone
from attend.core.service.views import Context


class TeamRequests(ServiceBase):
    """Team requests; captains only, but for creating a team and unsubscribing."""

    def create_team(self, actor: Actor, name: str, timezone: str,
                    player_name: str | None = None) -> Context:
        name = clean_text(name, "team name", MAX_NAME)
        known_zone(timezone)
        profile = self._profile(actor, player_name or actor.name)
        team_id = new_id()
        result = self._dispatch(actor, team.RegisterTeam(
            team_id=team_id, name=name, timezone=timezone, captain=profile,
            slack_workspace=actor.ref.split(":")[0] if actor.kind is ActorKind.SLACK else None))
        self._settle(result.position, ("roster", "directory"))
        return self.context(actor, team_id)

    def add_player(self, actor: Actor, name: str, *, email: str | None = None,
                   slack_user: str | None = None, discord_user: str | None = None,
                   team_id: str | None = None) -> PlayerView:
        ctx = self.captain_context(actor, team_id, "add players")
        name = clean_text(name, "player name", MAX_NAME)
        email = clean_email(email) if email else None
        if not (email or slack_user or discord_user):
            raise DomainError("no_contact", f"How do we reach {name}? Give an email address "
                              "or a Slack or Discord mention.")
        player_id = new_id()
        result = self._dispatch(actor, team.AddPlayer(team_id=ctx.team.team_id, player=(
            PlayerProfile(player_id=player_id, name=name, email=email, slack_user=slack_user,
                          discord_user=discord_user))))
        self._settle(result.position, ("roster", "directory"))
        added = self._read(roster.player, ctx.team.team_id, player_id)
        assert added is not None
        return added

    def remove_player(self, actor: Actor, who: str, team_id: str | None = None) -> PlayerView:
        ctx = self.captain_context(actor, team_id, "remove players")
        target = self.find_player(ctx, who)
        result = self._dispatch(actor, team.RemovePlayer(team_id=ctx.team.team_id,
                                                         player_id=target.player_id))
        self._settle(result.position, ("roster", "directory"))
        return target

    def appoint_captain(self, actor: Actor, who: str, team_id: str | None = None) -> PlayerView:
        ctx = self.captain_context(actor, team_id, "appoint captains")
        target = self.find_player(ctx, who)
        result = self._dispatch(actor, team.AppointCaptain(team_id=ctx.team.team_id,
                                                           player_id=target.player_id))
        self._settle(result.position, ("roster", "directory"))
        return target

    def relieve_captain(self, actor: Actor, who: str, team_id: str | None = None) -> PlayerView:
        ctx = self.captain_context(actor, team_id, "relieve captains")
        target = self.find_player(ctx, who)
        result = self._dispatch(actor, team.RelieveCaptain(team_id=ctx.team.team_id,
                                                           player_id=target.player_id))
        self._settle(result.position, ("roster", "directory"))
        return target

    def change_settings(self, actor: Actor, *, team_id: str | None = None,
                        **changes: Any) -> TeamView:
        ctx = self.captain_context(actor, team_id, "change team settings")
        if changes.get("timezone") is not None:
            known_zone(changes["timezone"])
        result = self._dispatch(actor, team.ChangeTeamSettings(team_id=ctx.team.team_id,
                                                               **changes))
        self._settle(result.position, ("roster",))
        updated = self._read(roster.team, ctx.team.team_id)
        assert updated is not None
        return updated

    def unsubscribe_email(self, team_id: str, player_id: str) -> None:
        result = self._dispatch(Actor.player(team_id, player_id), team.UnsubscribeEmail(
            team_id=team_id, player_id=player_id))
        self._settle(result.position, ("roster",))

    def _profile(self, actor: Actor, name: str | None) -> PlayerProfile:
        player_id = new_id()
        if actor.kind is ActorKind.CONSOLE:
            email = clean_email(actor.ref)
            display = name or email.split("@")[0].replace(".", " ").title()
            return PlayerProfile(player_id=player_id, name=clean_text(display, "name", MAX_NAME),
                                 email=email)
        if actor.kind is ActorKind.SLACK:
            return PlayerProfile(player_id=player_id, name=name or "Captain",
                                 slack_user=actor.ref)
        if actor.kind is ActorKind.DISCORD:
            return PlayerProfile(player_id=player_id, name=name or "Captain",
                                 discord_user=actor.ref)
        raise DomainError("cannot_create_team", "Teams are created from chat or the console.")

"""Requests about the team: creating it, its players, captains and settings."""

from __future__ import annotations

from typing import Any

from core.actors import Actor, ActorKind
from core.addresses import clean_email
from core.aggregates import team
from core.aggregates.common import PlayerProfile
from core.errors import DomainError, Refusal
from core.limits import MAX_NAME
from core.projections import directory, roster
from core.projections.roster import PlayerView, TeamView
from core.router import new_id
from core.safe_text import shown
from core.service.base import ServiceBase
from core.service.refusals import clean_text, known_zone
from core.service.views import Context


class TeamRequests(ServiceBase):
    """Team requests; captains only, but for creating a team and unsubscribing."""

    def create_team(self, actor: Actor, name: str, timezone: str,
                    player_name: str | None = None) -> Context:
        name = clean_text(name, "team name", MAX_NAME)
        known_zone(timezone)
        if any(m.team_name.casefold() == name.casefold() for m in self.memberships(actor)):
            raise DomainError(Refusal.TEAM_NAME_TAKEN, f"You're already on a team called {name}. "
                              "Pick another name, so --team can tell the two apart.")
        profile = self._profile(actor, player_name or actor.name)
        team_id = new_id()
        result = self._dispatch(actor, team.RegisterTeam(
            team_id=team_id, name=name, timezone=timezone, captain=profile,
            slack_workspace=actor.ref.split(":")[0] if actor.kind is ActorKind.SLACK else None))
        self._catch_up(result.position, ("roster", "directory"))
        return self.context(actor, team_id)

    def add_player(self, actor: Actor, name: str, *, email: str | None = None,
                   slack_user: str | None = None, discord_user: str | None = None,
                   team_id: str | None = None, reserve: bool = False) -> PlayerView:
        """A new player; with ``reserve``, one asked only when a game is short."""
        ctx = self.captain_context(actor, team_id, "add players")
        name = clean_text(name, "player name", MAX_NAME)
        email = clean_email(email) if email else None
        if not (email or slack_user or discord_user):
            raise DomainError(Refusal.NO_CONTACT, f"How do we reach {name}? Give an email address "
                              "or a Slack or Discord mention.")
        self._refuse_namesake(ctx, name, email=email, slack_user=slack_user,
                              discord_user=discord_user)
        player_id = new_id()
        result = self._dispatch(actor, team.AddPlayer(team_id=ctx.team.team_id, player=(
            PlayerProfile(player_id=player_id, name=name, email=email, slack_user=slack_user,
                          discord_user=discord_user)), reserve=reserve))
        self._catch_up(result.position, ("roster", "directory"))
        added = self._read(roster.player, ctx.team.team_id, player_id)
        assert added is not None
        return added

    def add_or_reach_player(self, actor: Actor, name: str, *, email: str | None = None,
                            slack_user: str | None = None, discord_user: str | None = None,
                            team_id: str | None = None,
                            reserve: bool = False) -> tuple[PlayerView, bool]:
        """``team add``: a new player, or, when one of the contacts given is a player's
        already, the others added to that player's (their Slack account beside their email,
        say). Returns the player and whether they are new."""
        ctx = self.captain_context(actor, team_id, "add players")
        email = clean_email(email) if email else None
        known = {p.player_id: p for p in self._read(roster.roster, ctx.team.team_id)
                 if (email and p.email and p.email.casefold() == email.casefold())
                 or (slack_user and p.slack_user == slack_user)
                 or (discord_user and p.discord_user == discord_user)}
        if not known:
            return self.add_player(actor, name, email=email, slack_user=slack_user,
                                   discord_user=discord_user, team_id=ctx.team.team_id,
                                   reserve=reserve), True
        if len(known) > 1:
            names = " and ".join(sorted(p.name for p in known.values()))
            raise DomainError(Refusal.CONTACTS_OF_SEVERAL, f"Those contacts belong to {names}; "
                              "give one player's at a time.")
        [player] = known.values()
        if reserve and not player.reserve:
            raise DomainError(Refusal.RESERVE_ALREADY_PLAYER, f"{player.name} is already a "
                              f"player on {ctx.team.name}. A reserve who is already a player "
                              "can't be added: they are asked every game anyway.")
        given = {"email": email, "Slack": slack_user, "Discord": discord_user}
        has = {"email": player.email, "Slack": player.slack_user,
               "Discord": player.discord_user}
        changed = {k for k, v in given.items() if v and not _same(has[k], v)}
        if not changed:
            raise DomainError(Refusal.PLAYER_ALREADY_ON_TEAM, f"{player.name} is already on "
                              f"{ctx.team.name}, reached that way.")
        if clash := sorted(k for k in changed if has[k]):
            raise DomainError(Refusal.CONTACT_IN_USE, f"{player.name} already has a different "
                              f"{' and '.join(clash)}; remove them and add them again to "
                              "change it.")
        self._refuse_namesake(ctx, player.name, email=email, slack_user=slack_user,
                              discord_user=discord_user)
        result = self._dispatch(actor, team.UpdatePlayerContact(
            team_id=ctx.team.team_id, player_id=player.player_id,
            email=email or player.email, slack_user=slack_user or player.slack_user,
            discord_user=discord_user or player.discord_user))
        self._catch_up(result.position, ("roster", "directory"))
        updated = self._read(roster.player, ctx.team.team_id, player.player_id)
        assert updated is not None
        return updated, False

    def remove_player(self, actor: Actor, who: str, team_id: str | None = None) -> PlayerView:
        ctx = self.captain_context(actor, team_id, "remove players")
        target = self.find_player(ctx, who)
        result = self._dispatch(actor, team.RemovePlayer(team_id=ctx.team.team_id,
                                                         player_id=target.player_id))
        self._catch_up(result.position, ("roster", "directory"))
        return target

    def appoint_captain(self, actor: Actor, who: str, team_id: str | None = None) -> PlayerView:
        ctx = self.captain_context(actor, team_id, "appoint captains")
        target = self.find_player(ctx, who)
        result = self._dispatch(actor, team.AppointCaptain(team_id=ctx.team.team_id,
                                                           player_id=target.player_id))
        self._catch_up(result.position, ("roster", "directory"))
        return target

    def relieve_captain(self, actor: Actor, who: str, team_id: str | None = None) -> PlayerView:
        ctx = self.captain_context(actor, team_id, "relieve captains")
        target = self.find_player(ctx, who)
        result = self._dispatch(actor, team.RelieveCaptain(team_id=ctx.team.team_id,
                                                           player_id=target.player_id))
        self._catch_up(result.position, ("roster", "directory"))
        return target

    def set_reserve(self, actor: Actor, who: str, reserve: bool,
                    team_id: str | None = None) -> PlayerView:
        """Move a player to the reserves, or (``reserve=False``) back among the players;
        checks already open keep who they asked."""
        ctx = self.captain_context(actor, team_id, "move players to or from the reserves")
        target = self.find_player(ctx, who)
        result = self._dispatch(actor, team.SetReserve(team_id=ctx.team.team_id,
                                                       player_id=target.player_id,
                                                       reserve=reserve))
        self._catch_up(result.position, ("roster",))
        moved = self._read(roster.player, ctx.team.team_id, target.player_id)
        assert moved is not None
        return moved

    def change_settings(self, actor: Actor, *, team_id: str | None = None,
                        **changes: Any) -> TeamView:
        ctx = self.captain_context(actor, team_id, "change team settings")
        if changes.get("timezone") is not None:
            known_zone(changes["timezone"])
        result = self._dispatch(actor, team.ChangeTeamSettings(team_id=ctx.team.team_id,
                                                               **changes))
        self._catch_up(result.position, ("roster",))
        updated = self._read(roster.team, ctx.team.team_id)
        assert updated is not None
        return updated

    def unsubscribe_email(self, team_id: str, player_id: str) -> None:
        result = self._dispatch(Actor.player(team_id, player_id), team.UnsubscribeEmail(
            team_id=team_id, player_id=player_id))
        self._catch_up(result.position, ("roster",))

    def _refuse_namesake(self, ctx: Context, name: str, **contacts: str | None) -> None:
        """A person on two teams of one name couldn't say which they mean with --team."""
        theirs = self._read(directory.memberships, **contacts)
        if any(m.team_id != ctx.team.team_id and m.team_name.casefold()
               == ctx.team.name.casefold() for m in theirs):
            raise DomainError(Refusal.TEAM_NAME_TAKEN, f"{name} is already on another team called "
                              f"{ctx.team.name}, so --team couldn't tell the two apart for "
                              "them.")

    def _profile(self, actor: Actor, name: str | None) -> PlayerProfile:
        player_id = new_id()
        if actor.kind is ActorKind.CONSOLE:
            email = clean_email(actor.ref)
            display = name or email.split("@")[0].replace(".", " ").title()
            return PlayerProfile(player_id=player_id, name=clean_text(display, "name", MAX_NAME),
                                 email=email)
        if actor.kind is ActorKind.SLACK:
            return PlayerProfile(player_id=player_id, name=_platform_name(name),
                                 slack_user=actor.ref)
        if actor.kind is ActorKind.DISCORD:
            return PlayerProfile(player_id=player_id, name=_platform_name(name),
                                 discord_user=actor.ref)
        raise DomainError(Refusal.CANNOT_CREATE_TEAM, "Teams are created from chat or the console.")


def _platform_name(name: str | None) -> str:
    """The name Slack or Discord gave (not typed here, so cleaned rather than refused)."""
    cleaned = " ".join(shown(name or "", " ").split())[:MAX_NAME]
    return cleaned or "Captain"


def _same(known: str | None, given: str) -> bool:
    """Whether a contact on file is the one given (emails in any case)."""
    return known is not None and known.casefold() == given.casefold()

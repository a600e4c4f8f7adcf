"""Requests about the team's chat channel, where each check's board is posted (issue 16.2)."""

from __future__ import annotations

from core.actors import Actor
from core.aggregates import team
from core.projections import roster
from core.projections.roster import TeamView
from core.service.base import ServiceBase


class ChannelRequests(ServiceBase):
    """Binding the team to a channel; captains only."""

    def bind_channel(self, actor: Actor, platform: str | None, channel_id: str | None, *,
                     team_id: str | None = None) -> TeamView:
        """Post boards in ``channel_id`` on ``platform`` from now on; ``None`` unbinds.
        Returns the team as it is now (``chat_channel`` says where, if anywhere)."""
        ctx = self.captain_context(actor, team_id, "choose the team's channel")
        result = self._dispatch(actor, team.BindTeamChannel(
            team_id=ctx.team.team_id, platform=platform if channel_id else None,
            channel_id=channel_id))
        self._catch_up(result.position, ("roster",))
        updated = self._read(roster.team, ctx.team.team_id)
        assert updated is not None
        return updated

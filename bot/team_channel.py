"""``/attend channel here|none``: binding a team to the chat channel it is typed in.

The channel comes from the platform (Slack's slash-command payload, Discord's interaction),
never from what was typed, as a :class:`Place`. Slack channels are kept as
``"<workspace>:<channel>"``, as Slack users are, so a board can be posted with that
workspace's token.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot import text
from core.actors import Actor
from core.errors import DomainError, Refusal
from core.service import AttendService

PERMISSIONS = {
    "slack": "invite Attend to the channel (/invite @Attend); it needs chat:write",
    "discord": "give Attend View Channel, Send Messages and Read Message History there",
}


@dataclass(frozen=True, kw_only=True, slots=True)
class Place:
    """Where a command was typed: ``direct`` for a DM with the bot."""

    platform: str  # "slack" or "discord"
    channel_id: str
    direct: bool = False


def run(service: AttendService, actor: Actor, *, bind: bool, place: Place | None,
        team_id: str | None) -> str:
    if not bind:
        before = service.context(actor, team_id).team
        team = service.bind_channel(actor, None, None, team_id=team_id)
        if before.chat_channel is None:
            return f"{team.name} has no channel; nothing changed."
        return f"{team.name}'s games are no longer posted in a channel."
    if place is None or place.direct:
        raise DomainError(Refusal.NO_TEAM_CHANNEL, "Type /attend channel here in the Slack or "
                          "Discord channel where the team talks (not in a DM or the console).")
    team = service.bind_channel(actor, place.platform, place.channel_id, team_id=team_id)
    return (f"Each game's board for {team.name} will be posted in this channel when its check "
            f"opens. To post here, {PERMISSIONS.get(place.platform, 'Attend needs access')}.\n"
            f"• channel: {text.channel_name(team)}")

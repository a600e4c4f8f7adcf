"""Who did something on Discord, as the core knows people: an :class:`Actor`."""

from __future__ import annotations

import discord

from core.actors import Actor


def actor(user: discord.User | discord.Member) -> Actor:
    """The Discord account that ran a command or tapped a button."""
    return Actor.discord(str(user.id), name=user.display_name)

"""The aggregates, and their messages' stored names."""

from __future__ import annotations

from typing import Any

from core.aggregates import Aggregate
from core.aggregates.check import CHECK
from core.aggregates.game import GAME
from core.aggregates.series import SERIES
from core.aggregates.team import TEAM
from core.messages import MessageRegistry

AGGREGATES: tuple[Aggregate[Any], ...] = (TEAM, GAME, CHECK, SERIES)


def register_domain_messages(registry: MessageRegistry) -> None:
    """Register every event, and every command (process managers keep commands in an outbox).

    Stored names are the class names, version 1; a changed shape gets a new version and an
    upcaster here, never a new name.
    """
    for aggregate in AGGREGATES:
        registry.register_all(*aggregate.events, *aggregate.commands)

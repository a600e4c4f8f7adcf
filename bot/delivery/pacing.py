"""How fast each channel's lane may send."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from core.aggregates.common import Channel


@dataclass(frozen=True, kw_only=True, slots=True)
class Pacing:
    """How a lane spends a platform's patience."""

    concurrency: int = 1  # sends in flight at once (email: SMTP connections)
    interval: float = 0.0  # seconds between the starts of two sends
    per_recipient: float = 0.0  # seconds between two messages to the same person
    batch: int = 1  # messages per call, for channels with ``send_many`` (one connection)
    queue: int = 200  # waiting messages; more go back to the table for a few seconds


# Email: SMTP connections at once (ATTEND_SMTP_CONNECTIONS). Mail servers for senders take
# several (newsletter tools default to about ten); Microsoft 365 takes 3 per mailbox.
SMTP_CONNECTIONS = 8

# Slack: about 1 message a second per DM channel, plus unpublished workspace limits.
# Discord: 50 requests a second per bot, but mass DMs get bots flagged: about 2 a second.
DEFAULT_PACING: Mapping[Channel, Pacing] = {
    Channel.SLACK: Pacing(interval=0.2, per_recipient=1.0),
    Channel.DISCORD: Pacing(interval=0.5, per_recipient=1.0),
    Channel.EMAIL: Pacing(concurrency=SMTP_CONNECTIONS, batch=10, queue=400),
}


def pacing_for(smtp_connections: int) -> dict[Channel, Pacing]:
    """The default pacing, with email over ``smtp_connections`` connections."""
    return {**DEFAULT_PACING, Channel.EMAIL: replace(DEFAULT_PACING[Channel.EMAIL],
                                                     concurrency=smtp_connections)}

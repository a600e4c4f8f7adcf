"""The captains' trouble report: every player of a check who could not be reached, in one
message per captain, not one each.

A report is a delivery job per captain, key ``trouble:<n>``, whose ``details["players"]``
lists the players it is about. A player who cannot be reached joins the check's latest
report while that report is still waiting to go (pending and never claimed), else opens the
next one, due :data:`REPORT_HOLD` later so that the rest of a fan-out's failures join it. A
player already in one of the check's reports is not reported again. Both writers (the
notifier, in its handler transaction, and the delivery worker, with the row it settles) do
this in one transaction with what they record, so a repeat adds nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, select, update

from core.deliveries import PENDING, NewJob, add_jobs, deliveries
from core.notifications import NotificationKind

REPORT_HOLD = timedelta(seconds=20)  # failures this close after the first share a report
KEY_PREFIX = "trouble:"


@dataclass(frozen=True, kw_only=True, slots=True)
class Trouble:
    """One player of a check who could not be reached, and why."""

    check_id: str
    team_id: str
    game_id: str | None
    player_id: str
    player_name: str | None
    reason: str
    channel: str | None  # the channel that failed, if one did
    message_key: str  # the message that did not reach them
    position: int  # of the event behind it


def report_trouble(conn: Connection, trouble: Trouble, *, captains: Sequence[str],
                   now: datetime) -> None:
    """Put ``trouble`` in the check's open report to ``captains``, or open the next one."""
    d = deliveries.c
    rows = conn.execute(
        select(d.id, d.message_key, d.status, d.owner, d.details)
        .where(d.scope == trouble.check_id, d.message_key.startswith(KEY_PREFIX))
        .with_for_update()).all()
    if any(p.get("player_id") == trouble.player_id
           for row in rows for p in row.details.get("players", ())):
        return  # already reported about this check
    entry: dict[str, Any] = {"player_id": trouble.player_id, "name": trouble.player_name,
                             "reason": trouble.reason, "channel": trouble.channel,
                             "message_key": trouble.message_key}
    latest = max((_number(row.message_key) for row in rows), default=0)
    still_open = [row for row in rows if _number(row.message_key) == latest]
    if still_open and all(r.status == PENDING and r.owner is None for r in still_open):
        for row in still_open:
            players = [*row.details.get("players", ()), entry]
            conn.execute(update(deliveries).where(d.id == row.id)
                         .values(details={**row.details, "players": players}))
        return
    add_jobs(conn, [NewJob(
        scope=trouble.check_id, recipient_id=captain,
        message_key=f"{KEY_PREFIX}{latest + 1}", kind=NotificationKind.CAPTAIN_DELIVERY_FAILED,
        team_id=trouble.team_id, game_id=trouble.game_id, check_id=trouble.check_id,
        details={"players": [entry]}, not_before=now + REPORT_HOLD, position=trouble.position)
        for captain in captains if captain != trouble.player_id])


def _number(message_key: str) -> int:
    return int(message_key.removeprefix(KEY_PREFIX))

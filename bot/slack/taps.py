"""A tap on one of Attend's buttons in Slack (a DM, a channel's board, the App Home):
recorded for whoever Slack says tapped, before Slack hears the tap was received."""

from __future__ import annotations

import asyncio
from typing import Any

from slack_bolt.async_app import AsyncAck

from core.actors import Actor
from core.aggregates.common import Answer
from core.errors import DomainError
from core.service import AnswerResult, AttendService


def tapper(body: dict[str, Any]) -> Actor:
    """Who tapped: the button's value names the check only, never the player."""
    user = body["user"]
    return Actor.slack(user.get("team_id") or body["team"]["id"], user["id"],
                       name=user.get("name"))


async def record_tap(service: AttendService, body: dict[str, Any], action: dict[str, Any], *,
                     prefix: str, ack: AsyncAck,
                     ack_budget: float) -> AnswerResult | DomainError:
    """Record the answer the button (``prefix`` + yes/no/maybe) stands for, then ack; the
    result (once the board shows it), or the refusal to show the tapper."""
    answer = Answer(action["action_id"].removeprefix(prefix))
    loop = asyncio.get_running_loop()
    in_log: asyncio.Future[None] = loop.create_future()

    def mark() -> None:
        if not in_log.done():
            in_log.set_result(None)

    def recorded() -> None:  # in the worker thread
        loop.call_soon_threadsafe(mark)

    work: asyncio.Future[AnswerResult] = asyncio.ensure_future(asyncio.to_thread(
        service.answer_in_check, tapper(body), str(action.get("value", "")), answer,
        recorded=recorded))
    # Acknowledged once the answer is in the log (or refused), not later: the message
    # showing it goes by response_url after the board has it. Not sooner either, unless
    # recording takes too long: Slack does not resend a tap it saw acknowledged, so one
    # acknowledged and then lost in a crash would be an answer the player thinks they gave.
    first: set[asyncio.Future[Any]] = {work, in_log}
    await asyncio.wait(first, timeout=ack_budget, return_when=asyncio.FIRST_COMPLETED)
    in_log.cancel()
    await ack()
    try:
        return await work
    except DomainError as error:
        return error

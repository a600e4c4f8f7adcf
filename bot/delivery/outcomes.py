"""What a send comes to, and the row updates that settle a job."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection

from core.aggregates.common import Channel
from core.deliveries import mark_retry, mark_skipped
from core.notifications import DeliveryError, TransientDeliveryError

log = logging.getLogger(__package__)  # one logger for the whole delivery worker

Outcome = str | DeliveryError | None  # sent (the platform's reference, if any), or why not
Update = Callable[[Connection], None]  # a change to one job row, made in a write transaction

MIN_REQUEUE = timedelta(seconds=1)  # the least wait before a job put back is claimed again
NAMES = {Channel.SLACK: "Slack", Channel.DISCORD: "Discord", Channel.EMAIL: "email"}


def unexpected(channel: Channel, error: BaseException) -> DeliveryError:
    """A channel's own failure (a bug, or a library's surprise) for one message: logged with
    its traceback, and retried like any transient failure."""
    log.error("the %s channel failed unexpectedly", channel, exc_info=error)
    return TransientDeliveryError(f"{NAMES[channel]} failed unexpectedly: {error!r}")


def call(function: Callable[..., None], *args: Any, **kwargs: Any) -> Update:
    return lambda conn: function(conn, *args, **kwargs)


def skip(job_id: int, reason: str, now: datetime) -> Update:
    return call(mark_skipped, job_id, reason=reason, now=now)


def retry(job_id: int, *, not_before: datetime, error: str | None, now: datetime,
          count_attempt: bool = True, channel: Channel | None = None) -> Update:
    """Back to the table until ``not_before``; ``count_attempt=False`` when it was not the
    message's fault (a rate limit, a full lane, read models not there yet)."""
    return call(mark_retry, job_id, not_before=not_before, error=error, now=now,
                count_attempt=count_attempt, channel=channel)

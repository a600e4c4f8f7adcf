"""The delivery worker: sends the notifier's jobs through Slack, Discord and email.

It runs as asyncio tasks inside ``attend serve``'s event loop. It claims a few due jobs at a
time (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so several processes share the work), builds
each :class:`Notification` from the read models *at send time* (the latest game time, the
current answer), picks the channel, and hands it to that channel's **lane**. Each lane is its
own set of tasks with its own bounded queue and pacing, so a slow or rate-limited platform
only ever holds up its own messages: a full lane, a ``Retry-After`` or a per-person pause
puts the job back in the table for later instead of sleeping on it.

Claims belong to a live process: the worker renews them while it holds them, a dead
process's claims lapse within :data:`CLAIM_LEASE`, and a restarted server (which keeps its
owner identity, see ``owner``) takes its own back at once. Each outcome is recorded as soon
as its message is sent, before the next one goes on that connection, so a crash sends again
at most the messages in flight (:attr:`DeliveryWorker.in_flight_limit`), with the same
Message-ID. A job taken up again (``in_doubt``) is first looked up in its check's
deliveries, so one recorded before a crash is not sent again. Whatever goes wrong with one
message (any exception, building or sending it) is that message's outcome alone.

The modules: ``worker`` (claiming, renewing, routing), ``jobs`` (what a claimed job comes
to) and ``reads`` (its read-model lookups), ``lanes`` (a channel's queue, pacing and
senders), ``recording`` (outcomes to events and rows), ``owner`` (the claims' owner
identity), ``pacing`` (how fast each channel goes) and ``outcomes`` (what a send comes to,
and the row updates that settle a job).
"""

from bot.delivery.jobs import READ_MODEL_GRACE, Ready
from bot.delivery.lanes import CLAIM_MARGIN
from bot.delivery.outcomes import MIN_REQUEUE, Outcome, Update
from bot.delivery.owner import OwnerSlot
from bot.delivery.pacing import DEFAULT_PACING, Pacing
from bot.delivery.recording import ACTOR
from bot.delivery.worker import LANE_FULL_DELAY, WAKE_FOLLOW_UP, DeliveryWorker
from core.deliveries import CLAIM_LEASE

__all__ = ["ACTOR", "CLAIM_LEASE", "CLAIM_MARGIN", "DEFAULT_PACING", "LANE_FULL_DELAY",
           "MIN_REQUEUE", "READ_MODEL_GRACE", "WAKE_FOLLOW_UP", "DeliveryWorker",
           "Outcome", "OwnerSlot", "Pacing", "Ready", "Update"]

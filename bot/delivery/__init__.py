"""The delivery worker: sends the notifier's jobs through Slack, Discord and email.

It runs as asyncio tasks inside ``attend serve``'s event loop. A dispatcher claims due jobs
(``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so several processes share the work), builds each
:class:`Notification` from the read models *at send time* (the latest game time, the current
answer), picks the channel, and hands it to that channel's **lane**. Each lane is its own
task with its own bounded queue and pacing, so a slow or rate-limited platform only ever
holds up its own messages: a full lane, a ``Retry-After`` or a per-person pause puts the job
back in the table for later instead of sleeping on it.

Outcomes of player messages about a check are recorded as check events, with command ids
derived from the job (a repeat records nothing), and then the job row is updated:
- delivered -> ``RecordDelivery`` with the platform's message reference;
- refused for good -> ``MarkContactUnreachable`` for that channel and ``RecordDeliveryFailure``
  (the notifier turns it into a captain alert); the same message then goes out at once on the
  next channel, which for a DM is email. An address whose server refuses mail (5xx) is marked
  the same way, so later messages skip it until the player's email changes;
- transient -> retried after :func:`backoff`; after ``max_attempts`` it fails and is recorded
  the same way, so the captain hears of it;
- nobody to reach (unsubscribed, no contact left) -> skipped, and the captains get a
  ``captain_unreachable`` alert, once per player and check.
Captain alerts are not check events: their job row is their only record.

At least once, with one known gap: a crash after a platform accepted a message and before the
outcome was recorded sends that one message again when the claim lapses. A job taken up again
(``in_doubt``) is first looked up in its check's deliveries, so a crash *after* recording
sends nothing twice.

The modules: ``worker`` (:class:`DeliveryWorker`: claiming, dispatching, recording),
``jobs`` (what a claimed job comes to) and ``reads`` (its read-model lookups), ``lanes`` (a
channel's queue, pacing and senders), ``pacing`` (how fast each channel goes) and
``outcomes`` (what a send comes to, and the row updates that settle a job).
"""

from bot.delivery.jobs import READ_MODEL_GRACE, Ready
from bot.delivery.lanes import CLAIM_MARGIN
from bot.delivery.outcomes import MIN_REQUEUE, Outcome, Update
from bot.delivery.pacing import DEFAULT_PACING, Pacing
from bot.delivery.worker import ACTOR, LANE_FULL_DELAY, WAKE_FOLLOW_UP, DeliveryWorker

__all__ = ["ACTOR", "CLAIM_MARGIN", "DEFAULT_PACING", "LANE_FULL_DELAY", "MIN_REQUEUE",
           "READ_MODEL_GRACE", "WAKE_FOLLOW_UP", "DeliveryWorker", "Outcome", "Pacing", "Ready",
           "Update"]

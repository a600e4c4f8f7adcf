"""The delivery worker, as players and captains notice it: who gets which message, by which
channel, once; and what the captain is told when someone cannot be reached.

Email goes to the real local outbox; Slack and Discord are stand-ins that deliver, refuse
(DMs closed), rate-limit or hang. The clock is a fake moved by hand, so retries and backoff
take no real time. Runs on every backend.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.delivery import DeliveryWorker, Pacing
from bot.email.channel import EmailChannel
from bot.email.outbox import OutboxMailer, list_messages, read_message
from bot.links import LinkSigner
from bot.when import describe
from core.actors import Actor
from core.aggregates import check, team
from core.aggregates.common import Answer, Channel
from core.bootstrap import App, bootstrap
from core.deliveries import Job, claim_due, jobs
from core.notifications import (
    DeliveryError,
    Notification,
    NotificationChannel,
    NotificationKind,
    PermanentDeliveryError,
    TransientDeliveryError,
)
from core.projections.roster import PlayerView
from core.trouble import REPORT_HOLD
from tests.support.clock import FakeClock

CAPTAIN = Actor.console("cap@example.org")
KEYS = ("delivery-test-key-0123456789abcdef",)


class FakeDM:
    """A Slack or Discord stand-in: delivers, or raises what it is told to, per recipient."""

    def __init__(self, channel: Channel, failures: dict[str, list[DeliveryError]] | None = None
                 ) -> None:
        self.channel = channel
        self.failures = failures or {}
        self.sent: list[Notification] = []
        self.tries = 0

    async def send(self, notification: Notification) -> str | None:
        self.tries += 1
        pending = self.failures.get(notification.recipient.name, [])
        if pending:
            raise pending.pop(0)
        self.sent.append(notification)
        return f"{self.channel}-{len(self.sent)}"


class StuckDM(FakeDM):
    """A platform that never answers (until released)."""

    def __init__(self, channel: Channel) -> None:
        super().__init__(channel)
        self.started: list[Notification] = []
        self.release = asyncio.Event()

    async def send(self, notification: Notification) -> str | None:
        self.started.append(notification)
        await self.release.wait()
        return await super().send(notification)


class FlakyOutbox(OutboxMailer):
    """The local outbox, except that mail to the named addresses fails, transiently."""

    def __init__(self, directory: Path, clock: FakeClock, failing: dict[str, int]) -> None:
        super().__init__(directory, clock=clock)
        self.failing = failing

    async def send(self, message: Any) -> str:
        to = message.recipient
        if self.failing.get(to, 0) > 0:
            self.failing[to] -= 1
            raise TransientDeliveryError("451 4.3.0 try again later")
        return await super().send(message)


class Tigers:
    """Cap (captain, email) and the players each test adds, through the service."""

    def __init__(self, app: App, clock: FakeClock, outbox: Path) -> None:
        self.app, self.clock, self.outbox = app, clock, outbox
        self.service = app.service
        self.cap = self.service.create_team(CAPTAIN, "Tigers", "America/Toronto",
                                            player_name="Cap").player

    def add(self, name: str, *, email: bool = True, slack: str | None = None,
            discord: str | None = None) -> PlayerView:
        return self.service.add_player(CAPTAIN, name, slack_user=slack, discord_user=discord,
                                       email=f"{name.lower()}@example.org" if email else None)

    def check(self) -> None:
        self.service.schedule_game(CAPTAIN, self.clock.now + timedelta(days=2),
                                   opponent="Hawks")
        self.service.start_check(CAPTAIN, "G1")

    @property
    def check_id(self) -> str:
        found = self.service.status(CAPTAIN, "G1").game.check_id
        assert found is not None
        return found

    def worker(self, channels: list[NotificationChannel] | None = None,
               mailer: OutboxMailer | None = None, **options: Any) -> DeliveryWorker:
        email = EmailChannel(mailer or OutboxMailer(self.outbox, clock=self.clock),
                             LinkSigner(KEYS), base_url="https://attend.example.org",
                             sender="Attend <attend@example.org>", clock=self.clock)
        by_channel = {c.channel: c for c in [*(channels or []), email]}
        # No waiting between DMs; email in small batches over two connections.
        quick = {c: Pacing(concurrency=2, batch=5) if c is Channel.EMAIL else Pacing()
                 for c in by_channel}
        return DeliveryWorker(self.app.db, self.app.router, by_channel, clock=self.clock,
                              pacing=quick, **options)

    def mail(self) -> list[tuple[str, str]]:
        """(to, subject) of every mail in the outbox, oldest first."""
        return [(m.to, m.subject) for m in list_messages(self.outbox)]

    def mailed(self) -> list[str]:
        return sorted(to.split("<")[-1].rstrip(">") for to, _ in self.mail())

    def jobs(self) -> list[Job]:
        with self.app.db.read() as conn:
            return jobs(conn)

    def job(self, player: PlayerView, kind: NotificationKind) -> Job:
        (found,) = [j for j in self.jobs() if j.recipient_id == player.player_id
                    and j.kind is kind]
        return found

    def events(self, stream: str) -> list[Any]:
        return [r.event for r in self.app.store.read_stream(stream)]

    def settle(self) -> None:
        self.app.run_handlers()

    def report_due(self) -> None:
        """Let the time pass that a captain's trouble report waits for more failures."""
        self.clock.advance(seconds=REPORT_HOLD.total_seconds() + 1)


def run(worker: DeliveryWorker, clock: FakeClock) -> int:
    return asyncio.run(worker.run_once(clock.now))


@pytest.fixture
def app(database_url: str, clock: FakeClock) -> Iterator[App]:
    built = bootstrap(database_url, clock=clock)
    yield built
    built.close()


@pytest.fixture
def tigers(app: App, clock: FakeClock, tmp_path: Path) -> Tigers:
    return Tigers(app, clock, tmp_path / "outbox")


def test_closed_discord_dms_fall_back_to_email_and_the_captain_is_told(tigers: Tigers) -> None:
    dana = tigers.add("Dana", discord="4242")
    tigers.add("Eve", discord="4343")
    closed = PermanentDeliveryError("403 Forbidden (error code: 50007): Cannot send messages "
                                    "to this user")
    discord = FakeDM(Channel.DISCORD, {"Dana": [closed]})
    worker = tigers.worker([discord])
    tigers.check()

    run(worker, tigers.clock)

    assert [n.recipient.name for n in discord.sent] == ["Eve"]
    assert tigers.mailed() == ["cap@example.org", "dana@example.org"]
    assert tigers.job(dana, NotificationKind.INVITATION).channel is Channel.EMAIL
    marked = [e for e in tigers.events(f"team-{dana.team_id}")
              if isinstance(e, team.ContactMarkedUnreachable)]
    assert [(e.player_id, e.channel) for e in marked] == [(dana.player_id, Channel.DISCORD)]
    outcomes = [(type(e).__name__, e.channel) for e in tigers.events(f"check-{tigers.check_id}")
                if isinstance(e, check.DeliveryFailed | check.MessageDelivered)
                and e.player_id == dana.player_id]
    assert outcomes == [("DeliveryFailed", Channel.DISCORD), ("MessageDelivered", Channel.EMAIL)]

    tigers.settle()  # the notifier puts the failure in the captain's report
    tigers.report_due()
    run(worker, tigers.clock)

    to, subject = tigers.mail()[-1]
    assert "cap@example.org" in to and subject.startswith("Trouble reaching Dana about")
    alert = list_messages(tigers.outbox)[-1]
    assert alert.links and alert.links[0].startswith("https://attend.example.org/b/")

    tigers.service.remind(CAPTAIN, "G1")
    run(worker, tigers.clock)
    assert discord.tries == 3  # Dana is not DMed again: the reminder went by email
    assert tigers.mailed().count("dana@example.org") == 2


def test_the_captains_alert_says_the_message_went_by_email_instead(tigers: Tigers) -> None:
    tigers.add("Dana", discord="4242")
    discord = FakeDM(Channel.DISCORD, {"Dana": [PermanentDeliveryError("DMs closed")]})
    worker = tigers.worker([discord])
    tigers.check()
    run(worker, tigers.clock)
    tigers.settle()
    tigers.report_due()
    run(worker, tigers.clock)

    (alert,) = [p for p in tigers.outbox.iterdir() if "Trouble reaching" in p.read_text()]
    text = alert.read_text()
    assert "Discord: DMs closed. We sent it by email instead." in text


def test_a_transient_failure_is_retried_after_a_backoff_then_delivered(tigers: Tigers) -> None:
    ana = tigers.add("Ana")
    mailer = FlakyOutbox(tigers.outbox, tigers.clock, {"ana@example.org": 1})
    worker = tigers.worker(mailer=mailer)
    tigers.check()

    run(worker, tigers.clock)
    assert tigers.mailed() == ["cap@example.org"]
    waiting = tigers.job(ana, NotificationKind.INVITATION)
    assert (waiting.status, waiting.attempts) == ("pending", 1)

    assert run(worker, tigers.clock) == 0  # not yet: backing off
    tigers.clock.advance(seconds=31)
    run(worker, tigers.clock)

    assert tigers.mailed() == ["ana@example.org", "cap@example.org"]
    assert tigers.job(ana, NotificationKind.INVITATION).status == "delivered"
    delivered = [e for e in tigers.events(f"check-{tigers.check_id}")
                 if isinstance(e, check.MessageDelivered) and e.player_id == ana.player_id]
    assert len(delivered) == 1


def test_after_the_last_try_the_captain_is_told(tigers: Tigers) -> None:
    ana = tigers.add("Ana")
    mailer = FlakyOutbox(tigers.outbox, tigers.clock, {"ana@example.org": 99})
    worker = tigers.worker(mailer=mailer, max_attempts=2)
    tigers.check()

    run(worker, tigers.clock)
    tigers.clock.advance(minutes=5)
    run(worker, tigers.clock)

    failed = tigers.job(ana, NotificationKind.INVITATION)
    assert failed.status == "failed" and "gave up after 2 tries" in (failed.last_error or "")
    tigers.settle()
    tigers.report_due()
    run(worker, tigers.clock)
    assert tigers.mail()[-1][1].startswith("Trouble reaching Ana")


def test_a_rate_limited_platform_is_asked_again_when_it_says(tigers: Tigers) -> None:
    sam = tigers.add("Sam", email=False, slack="T1:U1")
    tigers.add("Tom", email=False, slack="T1:U2")
    slack = FakeDM(Channel.SLACK,
                   {"Sam": [TransientDeliveryError("ratelimited", retry_after=20)]})
    worker = tigers.worker([slack])
    tigers.check()

    run(worker, tigers.clock)
    assert tigers.mailed() == ["cap@example.org"]  # email is not held up
    assert slack.tries == 1  # nor is Slack asked again, for Tom, before it said
    held = tigers.job(sam, NotificationKind.INVITATION)
    assert (held.status, held.attempts) == ("pending", 0)  # a rate limit is not a failure

    tigers.clock.advance(seconds=10)
    assert run(worker, tigers.clock) == 0
    tigers.clock.advance(seconds=11)
    run(worker, tigers.clock)
    assert sorted(n.recipient.name for n in slack.sent) == ["Sam", "Tom"]


def test_a_slow_platform_does_not_hold_up_email(tigers: Tigers) -> None:
    tigers.add("Sam", email=False, slack="T1:U1")
    tigers.add("Ana")
    tigers.add("Ben")
    slack = StuckDM(Channel.SLACK)
    tigers.check()

    async def scenario() -> None:
        worker = tigers.worker([slack], poll_interval=0.01)
        worker.start()
        try:
            for _ in range(500):
                if len(tigers.mail()) == 3:
                    break
                await asyncio.sleep(0.01)
            assert [n.recipient.name for n in slack.started] == ["Sam"]
            assert slack.sent == []  # Slack still has not answered
            assert tigers.mailed() == ["ana@example.org", "ben@example.org",
                                       "cap@example.org"]
        finally:
            await worker.stop()

    asyncio.run(scenario())


def test_an_unsubscribed_player_gets_no_email_and_the_captain_is_told(tigers: Tigers) -> None:
    ana = tigers.add("Ana")
    tigers.add("Ben")
    tigers.service.unsubscribe_email(ana.team_id, ana.player_id)
    tigers.check()

    worker = tigers.worker()
    run(worker, tigers.clock)
    tigers.report_due()
    run(worker, tigers.clock)

    assert "ana@example.org" not in tigers.mailed()
    skipped = tigers.job(ana, NotificationKind.INVITATION)
    assert skipped.status == "skipped" and "unsubscribed" in (skipped.last_error or "")
    alert = tigers.job(tigers.cap, NotificationKind.CAPTAIN_DELIVERY_FAILED)
    assert alert.status == "delivered"
    assert any(subject.startswith("Trouble reaching Ana") for _, subject in tigers.mail())


def test_a_restarted_worker_sends_nothing_again(tigers: Tigers, database_url: str) -> None:
    tigers.add("Ana")
    tigers.check()
    run(tigers.worker(), tigers.clock)
    assert len(tigers.mail()) == 2

    again = bootstrap(database_url, clock=tigers.clock)
    try:
        again.run_handlers()
        tigers.clock.advance(hours=1)
        restarted = Tigers.__new__(Tigers)
        restarted.app, restarted.clock, restarted.outbox = again, tigers.clock, tigers.outbox
        assert run(restarted.worker(), tigers.clock) == 0
    finally:
        again.close()
    assert len(tigers.mail()) == 2


def test_a_job_recorded_before_a_crash_is_not_sent_twice(tigers: Tigers) -> None:
    ana = tigers.add("Ana")
    tigers.check()
    invitation = tigers.job(ana, NotificationKind.INVITATION)
    with tigers.app.db.write() as conn:  # a worker claims everything ...
        claim_due(conn, now=tigers.clock.now, limit=100, owner="crashed")
    tigers.app.router.dispatch(check.RecordDelivery(  # ... sends Ana's, records it, and dies
        check_id=tigers.check_id, player_id=ana.player_id, message_key="invite",
        channel=Channel.EMAIL, reference="<sent-before-the-crash>"), actor="system:delivery")

    tigers.clock.advance(minutes=6)  # the claim lapses
    run(tigers.worker(), tigers.clock)

    assert tigers.mailed() == ["cap@example.org"]  # Ana's was taken up in doubt, not resent
    recovered = tigers.job(ana, NotificationKind.INVITATION)
    assert (recovered.status, recovered.reference) == ("delivered", "<sent-before-the-crash>")
    assert invitation.status == "pending"


def test_a_reminder_is_not_sent_to_someone_who_answered_meanwhile(tigers: Tigers) -> None:
    ana = tigers.add("Ana")
    tigers.check()
    worker = tigers.worker()
    run(worker, tigers.clock)
    tigers.service.remind(CAPTAIN, "G1")
    tigers.service.answer(Actor.console("ana@example.org"), Answer.YES, ref="G1")

    run(worker, tigers.clock)

    reminder = tigers.job(ana, NotificationKind.REMINDER)
    assert reminder.status == "skipped"
    assert tigers.mailed().count("ana@example.org") == 1


def test_invitations_and_reminders_say_when_the_captain_closes_answers(tigers: Tigers) -> None:
    tigers.add("Ana")
    tigers.check()
    start = tigers.service.status(CAPTAIN, "G1").game.starts_at
    tigers.service.set_deadline(CAPTAIN, "G1", start - timedelta(hours=2))
    worker = tigers.worker()
    run(worker, tigers.clock)
    tigers.service.clear_deadline(CAPTAIN, "G1")
    tigers.service.remind(CAPTAIN, "G1")
    run(worker, tigers.clock)

    to_ana = [m for m in list_messages(tigers.outbox) if "ana@example.org" in m.to]
    assert [m.subject.startswith("Reminder:") for m in to_ana] == [False, True]
    invitation, reminder = (read_message(tigers.outbox, m.filename).text for m in to_ana)
    closes = describe(start - timedelta(hours=2), ZoneInfo("America/Toronto"))
    assert f"Answers close {closes}." in invitation
    assert "Answers close" not in reminder  # the captain cleared the deadline meanwhile


def test_players_hear_only_the_latest_time_of_a_game_moved_twice(tigers: Tigers) -> None:
    tigers.add("Ana")
    tigers.check()
    worker = tigers.worker()
    run(worker, tigers.clock)
    start = tigers.service.status(CAPTAIN, "G1").game.starts_at
    tigers.service.reschedule_game(CAPTAIN, "G1", start + timedelta(hours=1))
    tigers.service.reschedule_game(CAPTAIN, "G1", start + timedelta(hours=2))

    run(worker, tigers.clock)

    moved = [s for _, s in tigers.mail() if s.startswith("New time")]
    assert len(moved) == 2  # one each for Cap and Ana
    assert all("12:00 PM" in s for s in moved)


def test_workers_claiming_at_once_never_take_the_same_job(tigers: Tigers) -> None:
    for name in ("Ana", "Ben", "Cal", "Dee", "Eve", "Fay", "Gus"):
        tigers.add(name)
    tigers.check()
    start = threading.Barrier(4)
    claimed: list[list[int]] = [[] for _ in range(4)]

    def claim(i: int) -> None:
        start.wait()
        for _ in range(4):
            with tigers.app.db.write() as conn:
                got = claim_due(conn, now=tigers.clock.now, limit=1, owner=f"worker-{i}")
            claimed[i] += [job.id for job in got]

    threads = [threading.Thread(target=claim, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    everything = [job_id for mine in claimed for job_id in mine]
    assert len(everything) == len(set(everything)) == 8  # Cap and seven players


class BouncingOutbox(OutboxMailer):
    """The local outbox, except that the named addresses are refused for good (5xx)."""

    def __init__(self, directory: Path, clock: FakeClock, refused: set[str]) -> None:
        super().__init__(directory, clock=clock)
        self.refused = refused

    async def send(self, message: Any) -> str:
        if message.recipient in self.refused:
            raise PermanentDeliveryError("550 5.1.1 no such user")
        return await super().send(message)


def test_a_refused_address_is_not_tried_again_and_the_captain_is_told_once(
        tigers: Tigers) -> None:
    ana = tigers.add("Ana")
    worker = tigers.worker(mailer=BouncingOutbox(tigers.outbox, tigers.clock,
                                                 {"ana@example.org"}))
    tigers.check()
    run(worker, tigers.clock)

    assert tigers.job(ana, NotificationKind.INVITATION).status == "failed"
    failed = [e for e in tigers.events(f"check-{tigers.check_id}")
              if isinstance(e, check.DeliveryFailed)]
    assert [(e.player_id, e.channel, e.permanent) for e in failed] == [
        (ana.player_id, Channel.EMAIL, True)]
    tigers.settle()
    tigers.report_due()
    run(worker, tigers.clock)
    alert = [p for p in tigers.outbox.iterdir() if "Trouble reaching Ana" in p.read_text()]
    assert len(alert) == 1 and "550 5.1.1 no such user" in alert[0].read_text()

    tigers.service.remind(CAPTAIN, "G1")  # Ana's address is known to refuse mail now
    run(worker, tigers.clock)
    reminder = tigers.job(ana, NotificationKind.REMINDER)
    assert reminder.status == "skipped" and "refuses mail" in (reminder.last_error or "")
    tigers.settle()
    tigers.report_due()
    run(worker, tigers.clock)
    assert len([p for p in tigers.outbox.iterdir() if "Trouble reaching" in p.read_text()]) == 1


def test_a_serving_process_hears_of_new_jobs_once_they_can_be_claimed(
        database_url: str, clock: FakeClock, tmp_path: Path) -> None:
    # attend serve's worker looks as soon as a check's invitations are planned, not at its
    # next poll: on SQLite nothing else would tell it.
    serving = bootstrap(database_url, clock=clock, background=True, poll_interval=0.05)
    written: list[int] = []
    told = threading.Event()

    def look() -> None:
        with serving.db.read() as conn:
            written.append(len(jobs(conn)))
        told.set()

    serving.on_new_jobs(look)
    serving.start()
    try:
        tigers = Tigers(serving, clock, tmp_path / "outbox")
        tigers.add("Ann")
        tigers.check()
        assert told.wait(5), "the process was not told of its new jobs"
        assert written[0] == 2  # the captain's invitation and Ann's, committed
    finally:
        serving.close()

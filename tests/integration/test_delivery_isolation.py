"""One message's failure is that message's alone: a poisoned address or a channel's surprise
for one player fails only that player's message; every other one of the batch arrives at a
real local SMTP server, and the captain hears about all of a check's failures in one report.

Poisoned addresses are stored through events directly, as old data (from before addresses
were checked at input) could be. The clock is a fake moved by hand. Runs on every backend.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from datetime import timedelta

import pytest

from bot.delivery import DeliveryWorker, Pacing
from bot.email.channel import EmailChannel
from bot.email.smtp import KEEP_ALIVE, SmtpMailer, SmtpSettings
from bot.links import LinkSigner
from core.actors import Actor
from core.aggregates import team
from core.aggregates.common import Channel, PlayerProfile
from core.bootstrap import App, bootstrap
from core.deliveries import jobs
from core.eventstore import EventMetadata, NewEvent
from core.notifications import Notification, NotificationChannel, NotificationKind
from core.trouble import REPORT_HOLD
from tests.support.clock import FakeClock
from tests.support.smtp_sink import Inbox

CAPTAIN = Actor.console("cap@example.org")
KEYS = ("isolation-test-key-0123456789abcdef",)


@pytest.fixture
def app(database_url: str, clock: FakeClock) -> Iterator[App]:
    built = bootstrap(database_url, clock=clock)
    yield built
    built.close()


def team_of(app: App, players: int) -> str:
    """Cap and ``players`` players on email; the team id."""
    team_id = app.service.create_team(CAPTAIN, "Tigers", "America/Toronto",
                                      player_name="Cap").team.team_id
    for i in range(players):
        app.service.add_player(CAPTAIN, f"Player {i:02d}", email=f"p{i:02d}@example.org")
    return team_id


def join_as_stored(app: App, clock: FakeClock, team_id: str, name: str, email: str) -> str:
    """A player whose address never passed any check at input: appended as an event."""
    version, _ = app.router.state_of(team.TEAM, team_id)
    player_id = uuid.uuid4().hex
    metadata = EventMetadata(event_id=uuid.uuid4().hex, command_id=uuid.uuid4().hex,
                             causation_id="old-data", correlation_id="old-data",
                             actor=CAPTAIN.key, recorded_at=clock.now)
    app.store.append(f"team-{team_id}", [NewEvent(team.PlayerJoinedTeam(
        team_id=team_id, player=PlayerProfile(player_id=player_id, name=name, email=email)),
        metadata)], expected_version=version)
    app.run_handlers()
    return player_id


def start_check(app: App, clock: FakeClock) -> None:
    app.service.schedule_game(CAPTAIN, clock.now + timedelta(days=2), opponent="Hawks")
    app.service.start_check(CAPTAIN, "G1")


def email_channel(clock: FakeClock, port: int) -> EmailChannel:
    """Over SMTP, connections kept between batches as ``attend serve`` keeps them."""
    mailer = SmtpMailer(SmtpSettings(host="127.0.0.1", port=port, starttls=False,
                                     timeout=5.0, local_hostname="localhost"),
                        keep_alive=KEEP_ALIVE, kept=2)
    return EmailChannel(mailer, LinkSigner(KEYS), base_url="https://attend.example.org",
                        sender="Attend <attend@example.org>", clock=clock)


def worker(app: App, clock: FakeClock, port: int, *channels: NotificationChannel,
           **options: object) -> DeliveryWorker:
    email = email_channel(clock, port)
    by_channel = {c.channel: c for c in [*channels, email]}
    pacing = {c: Pacing(concurrency=2, batch=20) if c is Channel.EMAIL else Pacing()
              for c in by_channel}
    return DeliveryWorker(app.db, app.router, by_channel, clock=clock,
                          pacing=pacing, **options)  # type: ignore[arg-type]


def deliver(app: App, clock: FakeClock, delivery: DeliveryWorker) -> None:
    """Everything due now, then the captain's report once its hold has passed."""
    asyncio.run(delivery.run_once(clock.now))
    app.run_handlers()  # the notifier puts the failures in the captain's report
    clock.advance(seconds=REPORT_HOLD.total_seconds() + 1)
    asyncio.run(delivery.run_once(clock.now))


def reports(inbox: Inbox) -> list[tuple[list[str], str]]:
    return [(rcpts, str(mail["Subject"])) for rcpts, mail in inbox.mails
            if str(mail["Subject"]).startswith("Trouble reaching")]


def test_an_address_that_cannot_be_put_in_a_header_fails_alone(
        app: App, clock: FakeClock, smtp_inbox: tuple[Inbox, int]) -> None:
    inbox, port = smtp_inbox
    team_id = team_of(app, 38)
    poisoned = join_as_stored(app, clock, team_id, "Alice Smith", "alice..smith@x.test")
    start_check(app, clock)

    deliver(app, clock, worker(app, clock, port))

    invited = [rcpts[0] for rcpts, mail in inbox.mails if "are you in?" in str(mail["Subject"])]
    assert len(invited) == 39 and "alice..smith@x.test" not in invited
    assert sorted(invited) == sorted(["cap@example.org",
                                      *(f"p{i:02d}@example.org" for i in range(38))])
    with app.db.read() as conn:
        (failed,) = [j for j in jobs(conn) if j.recipient_id == poisoned]
    assert failed.status == "failed" and "can't be used" in (failed.last_error or "")
    ((to, subject),) = reports(inbox)
    assert to == ["cap@example.org"] and subject.startswith("Trouble reaching Alice Smith about")


def test_a_fan_out_keeps_its_few_connections_and_quits_them_when_the_worker_stops(
        app: App, clock: FakeClock, smtp_inbox: tuple[Inbox, int]) -> None:
    inbox, port = smtp_inbox
    team_of(app, 39)
    start_check(app, clock)
    email = email_channel(clock, port)
    # Two connections at once, five mails per batch: eight batches.
    delivery = DeliveryWorker(app.db, app.router, {Channel.EMAIL: email}, clock=clock,
                              pacing={Channel.EMAIL: Pacing(concurrency=2, batch=5)})

    asyncio.run(delivery.run_once(clock.now))  # stops the worker at the end

    assert len(inbox.mails) == 40
    assert 1 <= len(set(inbox.ports)) <= 2  # not a connection per batch
    assert sorted(inbox.quits) == sorted(set(inbox.ports))  # each said goodbye


class Surprising:
    """A Discord stand-in that raises a type no channel is expected to raise, for one player."""

    channel = Channel.DISCORD

    def __init__(self, victim: str) -> None:
        self.victim = victim
        self.sent: list[str] = []

    async def send(self, notification: Notification) -> str | None:
        if notification.recipient.name == self.victim:
            raise KeyError("a bug in a channel")
        self.sent.append(notification.recipient.name)
        return f"dm-{len(self.sent)}"


def test_several_failures_of_one_check_reach_the_captain_in_one_message(
        app: App, clock: FakeClock, smtp_inbox: tuple[Inbox, int]) -> None:
    inbox, port = smtp_inbox
    team_id = team_of(app, 30)
    for name, address in (("Alice Smith", "alice..smith@x.test"),
                          ("Bob Space", "bob space@x.test")):
        join_as_stored(app, clock, team_id, name, address)
    for name, user in (("Dana", "4242"), ("Eve", "4343")):
        app.service.add_player(CAPTAIN, name, discord_user=user)
    discord = Surprising("Dana")
    start_check(app, clock)

    deliver(app, clock, worker(app, clock, port, discord, max_attempts=1))

    assert discord.sent == ["Eve"]
    invited = [rcpts[0] for rcpts, mail in inbox.mails if "are you in?" in str(mail["Subject"])]
    assert len(invited) == 31  # Cap and the thirty players with good addresses
    (report,) = reports(inbox)
    assert report[0] == ["cap@example.org"]
    assert all(name in report[1] for name in ("Alice Smith", "Bob Space", "Dana"))
    with app.db.read() as conn:
        sent = [j for j in jobs(conn) if j.kind is NotificationKind.CAPTAIN_DELIVERY_FAILED]
    assert [j.status for j in sent] == ["delivered"]


def test_a_captain_is_not_told_twice_about_the_same_player(
        app: App, clock: FakeClock, smtp_inbox: tuple[Inbox, int]) -> None:
    inbox, port = smtp_inbox
    team_id = team_of(app, 2)
    join_as_stored(app, clock, team_id, "Alice Smith", "alice..smith@x.test")
    start_check(app, clock)
    delivery = worker(app, clock, port)
    deliver(app, clock, delivery)
    app.service.remind(CAPTAIN, "G1")  # Alice's address is known to fail now: skipped

    deliver(app, clock, delivery)

    assert len(reports(inbox)) == 1

"""Invitations by real SMTP: a check for three email players lands three mails in a local
SMTP server (aiosmtpd), each with working answer links and one-click unsubscribe headers.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from bot.config import load_config
from bot.delivery import DeliveryWorker
from bot.email.channel import EmailChannel
from bot.email.smtp import SmtpMailer, SmtpSettings
from bot.links import LinkSigner
from bot.serve import delivery_worker
from core.actors import Actor
from core.aggregates.common import Channel
from core.bootstrap import bootstrap
from core.trouble import REPORT_HOLD
from tests.support.clock import FakeClock
from tests.support.smtp_sink import Inbox, smtp_server

KEYS = ("e2e-email-key-0123456789abcdefgh",)
BASE = "https://attend.example.org"
CAPTAIN = Actor.console("cap@example.org")


def test_a_check_for_three_email_players_sends_three_working_invitations(
        database_url: str, clock: FakeClock, smtp_inbox: tuple[Inbox, int]) -> None:
    inbox, port = smtp_inbox
    app = bootstrap(database_url, clock=clock)
    try:
        service = app.service
        service.create_team(CAPTAIN, "Alchemists", "America/Toronto", player_name="Cap")
        players = [service.add_player(CAPTAIN, name, email=f"{name.lower()}@example.org")
                   for name in ("Alice", "Bob")]
        service.schedule_game(CAPTAIN, clock.now + timedelta(days=3), opponent="Hawks",
                              location="Monarch Park")
        game = service.start_check(CAPTAIN, "G1").game
        signer = LinkSigner(KEYS)
        mailer = SmtpMailer(SmtpSettings(host="127.0.0.1", port=port, starttls=False,
                                         timeout=5.0, local_hostname="localhost"))
        channel = EmailChannel(mailer, signer, base_url=BASE, sender="Attend <attend@example.org>",
                               clock=clock)
        worker = DeliveryWorker(app.db, app.router, {Channel.EMAIL: channel}, clock=clock)

        assert asyncio.run(worker.run_once()) == 3
    finally:
        app.close()

    assert sorted(to for (to,), _ in inbox.mails) == [
        "alice@example.org", "bob@example.org", "cap@example.org"]
    ids = {p.email: p.player_id for p in players}
    for (to,), mail in inbox.mails:
        assert mail.get_content_type() == "multipart/alternative"
        assert [part.get_content_type() for part in mail.iter_parts()] == [
            "text/plain", "text/html"]
        assert mail["Subject"].endswith("are you in?") and "Hawks" in mail["Subject"]
        text = mail.get_body(preferencelist=("plain",))
        assert isinstance(text, EmailMessage)
        links = [w for w in text.get_content().split() if w.startswith(f"{BASE}/r/")]
        assert [parse_qs(urlsplit(u).query)["a"] for u in links] == [["yes"], ["no"], ["maybe"]]
        grant = signer.read_answer_token(urlsplit(links[0]).path.removeprefix("/r/"),
                                         now=clock.now)
        assert grant.check_id == game.check_id
        if to in ids:
            assert grant.player_id == ids[to]
        unsubscribe = mail["List-Unsubscribe"].strip("<>")
        assert unsubscribe.startswith(f"{BASE}/u/")
        assert signer.read_unsubscribe_token(unsubscribe.removeprefix(f"{BASE}/u/")).team_id \
            == game.team_id
        assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


@pytest.mark.parametrize("offered", [True, False], ids=["smtputf8", "no-smtputf8"])
def test_an_internationalised_address_among_others_spoils_nothing(
        database_url: str, clock: FakeClock, offered: bool) -> None:
    inbox = Inbox()
    app = bootstrap(database_url, clock=clock)
    try:
        service = app.service
        service.create_team(CAPTAIN, "Alchemists", "America/Toronto", player_name="Cap")
        for name in ("Alice", "José", "Bob"):
            service.add_player(CAPTAIN, name, email=f"{name.lower()}@example.org")
        service.schedule_game(CAPTAIN, clock.now + timedelta(days=3), opponent="Hawks")
        service.start_check(CAPTAIN, "G1")
        with smtp_server(inbox, smtputf8=offered) as port:
            mailer = SmtpMailer(SmtpSettings(host="127.0.0.1", port=port, starttls=False,
                                             timeout=5.0, local_hostname="localhost"))
            channel = EmailChannel(mailer, LinkSigner(KEYS), base_url=BASE,
                                   sender="Attend <attend@example.org>", clock=clock)
            worker = DeliveryWorker(app.db, app.router, {Channel.EMAIL: channel}, clock=clock)
            for _ in range(3):  # the invitations, then the captain's report of a failure
                app.run_handlers()
                asyncio.run(worker.run_once())
                clock.advance(seconds=REPORT_HOLD.total_seconds())  # the report waits
    finally:
        app.close()

    invited = sorted(to for (to,), mail in inbox.mails if "are you in?" in mail["Subject"])
    expected = ["alice@example.org", "bob@example.org", "cap@example.org"]
    if offered:
        assert invited == sorted([*expected, "josé@example.org"])
        [mail] = [m for (to,), m in inbox.mails if to == "josé@example.org"]
        assert str(mail["To"]) == "José <josé@example.org>"
    else:
        assert invited == expected
        alerts = [m for (to,), m in inbox.mails if "Trouble reaching" in m["Subject"]]
        assert [a["To"].addresses[0].addr_spec for a in alerts] == ["cap@example.org"]
        assert "José" in alerts[0]["Subject"]


def test_mail_goes_over_as_many_connections_as_the_operator_allows(
        database_url: str, clock: FakeClock, smtp_inbox: tuple[Inbox, int],
        tmp_path: Path) -> None:
    """``ATTEND_SMTP_CONNECTIONS=2`` (a mail server that takes two at once): a fan-out to 30
    goes over two connections, kept between batches, each closed with QUIT at the end."""
    inbox, port = smtp_inbox
    config = load_config({"ATTEND_DATABASE_URL": database_url, "ATTEND_SMTP_HOST": "127.0.0.1",
                          "ATTEND_SMTP_PORT": str(port), "ATTEND_SMTP_STARTTLS": "false",
                          "ATTEND_SMTP_CONNECTIONS": "2", "ATTEND_SECRET_KEYS": KEYS[0],
                          "ATTEND_OUTBOX_DIR": str(tmp_path / "outbox")})
    app = bootstrap(database_url, clock=clock)
    try:
        app.service.create_team(CAPTAIN, "Alchemists", "America/Toronto", player_name="Cap")
        for i in range(29):
            app.service.add_player(CAPTAIN, f"Player {i}", email=f"p{i}@example.org")
        app.service.schedule_game(CAPTAIN, clock.now + timedelta(days=3), opponent="Hawks")
        app.service.start_check(CAPTAIN, "G1")
        worker = delivery_worker(app, config)

        assert worker.in_flight_limit == 2
        assert asyncio.run(worker.run_once()) == 30
    finally:
        app.close()

    assert len(inbox.mails) == 30
    assert len(set(inbox.ports)) == 2  # two at once, each kept for the next batches
    assert sorted(inbox.quits) == sorted(set(inbox.ports))

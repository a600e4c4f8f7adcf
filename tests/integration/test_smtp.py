"""SmtpMailer against a real SMTP server (aiosmtpd) on a loopback port."""

import asyncio
import email.policy
from collections.abc import Callable, Iterator
from contextlib import aclosing
from email.parser import BytesParser
from typing import Any

import pytest

from bot.email.errors import PermanentDeliveryError, TransientDeliveryError
from bot.email.models import GameEmail, GameEmailKind
from bot.email.render import build_message
from bot.email.smtp import SmtpMailer, SmtpSettings
from bot.email.wire import Mail
from tests.support.smtp_sink import free_loopback_port
from tests.support.smtp_sink import smtp_server as running_smtp_server

UNSUBSCRIBE = "https://attend.example.org/u/" + "U" * 120


class Collect:
    def __init__(self) -> None:
        self.envelopes: list[Any] = []
        self.peers: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.envelopes.append(envelope)
        self.peers.append(session.peer)
        return "250 OK"


class RefuseSome(Collect):
    """Answers RCPT with ``reply`` for addresses starting with ``nobody``."""

    def __init__(self, reply: str) -> None:
        super().__init__()
        self.reply = reply

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if address.startswith("nobody"):
            return self.reply
        envelope.rcpt_tos.append(address)
        return "250 OK"


class Log(Collect):
    """What the server was told, in order: each recipient given, each mail taken, each QUIT,
    with the client's port (one per connection)."""

    def __init__(self) -> None:
        super().__init__()
        self.log: list[tuple[str, str, int]] = []

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        self.log.append(("rcpt", address, session.peer[1]))
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.log.append(("mail", envelope.rcpt_tos[0], session.peer[1]))
        return await super().handle_DATA(server, session, envelope)

    async def handle_QUIT(self, server: Any, session: Any, envelope: Any) -> str:
        self.log.append(("quit", "", session.peer[1]))
        return "221 Bye"

    def connections(self) -> list[int]:
        """The client ports that sent mail, each once, in order."""
        return list(dict.fromkeys(port for what, _, port in self.log if what == "mail"))


class Stall(Collect):
    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        await asyncio.sleep(2)
        return "250 OK"


@pytest.fixture
def smtp_server(request: pytest.FixtureRequest) -> Iterator[tuple[Collect, int]]:
    handler: Collect = getattr(request, "param", None) or Collect()
    with running_smtp_server(handler) as port:
        yield handler, port


def mailer(port: int, timeout: float = 5.0, keep_alive: float = 0.0) -> SmtpMailer:
    return SmtpMailer(
        SmtpSettings(
            host="127.0.0.1",
            port=port,
            starttls=False,
            timeout=timeout,
            local_hostname="attend.test",
        ),
        keep_alive=keep_alive,
    )


async def until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.01)


def invitation(to_address: str = "zoe@example.org") -> Mail:
    model = GameEmail(
        kind=GameEmailKind.INVITATION,
        to_address=to_address,
        to_name="Zoë Park",
        team_name="Tigers",
        opponent="Hawks",
        location="Monarch Park",
        local_when="Sat Dec 5, 7:00 PM EST",
        current_answer=None,
        answer_urls={a: f"https://attend.example.org/r/T?a={a}" for a in ("yes", "no", "maybe")},
        unsubscribe_url=UNSUBSCRIBE,
    )
    return build_message(model, sender="Attend <attend@example.org>", message_domain="example.org")


async def test_a_message_arrives_as_multipart_alternative_with_its_headers(
    smtp_server: tuple[Collect, int],
) -> None:
    handler, port = smtp_server
    message = invitation()
    message_id = await mailer(port).send(message)

    assert message_id == message.message_id
    (envelope,) = handler.envelopes
    assert envelope.mail_from == "attend@example.org"
    assert envelope.rcpt_tos == ["zoe@example.org"]
    received = BytesParser(policy=email.policy.default).parsebytes(envelope.content)
    assert received.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in received.iter_parts()] == ["text/plain", "text/html"]
    assert received["Message-ID"] == message_id
    assert received["Subject"] == "Sat Dec 5, 7:00 PM EST vs Hawks — are you in?"
    assert received["To"] == "Zoë Park <zoe@example.org>"
    assert received["List-Unsubscribe"] == f"<{UNSUBSCRIBE}>"
    assert received["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


@pytest.mark.parametrize("smtp_server", [RefuseSome("550 5.1.1 no such user")], indirect=True)
async def test_a_5xx_refused_recipient_is_a_permanent_failure(
    smtp_server: tuple[Collect, int],
) -> None:
    _, port = smtp_server
    with pytest.raises(PermanentDeliveryError) as caught:
        await mailer(port).send(invitation("nobody@example.org"))
    assert caught.value.permanent
    assert "550 5.1.1 no such user" in caught.value.reason


@pytest.mark.parametrize("smtp_server", [RefuseSome("451 4.3.0 try again later")], indirect=True)
async def test_a_4xx_reply_is_a_transient_failure(smtp_server: tuple[Collect, int]) -> None:
    _, port = smtp_server
    with pytest.raises(TransientDeliveryError) as caught:
        await mailer(port).send(invitation("nobody@example.org"))
    assert not caught.value.permanent
    assert "451" in caught.value.reason


async def test_a_closed_port_is_a_transient_failure() -> None:
    with pytest.raises(TransientDeliveryError):
        await mailer(free_loopback_port()).send(invitation())


@pytest.mark.parametrize("smtp_server", [Stall()], indirect=True)
async def test_a_server_that_stops_answering_is_a_transient_failure(
    smtp_server: tuple[Collect, int],
) -> None:
    _, port = smtp_server
    with pytest.raises(TransientDeliveryError, match="timed out"):
        await mailer(port, timeout=0.3).send(invitation())


class OneOfThem(Collect):
    """Takes every mail, but answers the one to ``address`` after ``delay`` seconds, with
    ``reply`` if one is given."""

    def __init__(self, address: str, *, delay: float = 0.0, reply: str | None = None) -> None:
        super().__init__()
        self.address, self.delay, self.reply = address, delay, reply

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if envelope.rcpt_tos == [self.address]:
            await asyncio.sleep(self.delay)
            if self.reply is not None:
                return self.reply
        return await super().handle_DATA(server, session, envelope)


@pytest.mark.parametrize("smtp_server", [OneOfThem("slow@example.org", delay=1)],
                         indirect=True)
async def test_a_reply_that_comes_too_late_is_never_taken_for_the_next_mails(
    smtp_server: tuple[Collect, int],
) -> None:
    _, port = smtp_server
    batch = [invitation(), invitation("slow@example.org"), invitation("ann@example.org")]
    first, late, after = [result async for result in mailer(port, timeout=0.2).send_many(batch)]

    assert first == batch[0].message_id
    assert isinstance(late, TransientDeliveryError) and "timed out" in late.reason
    # The connection is out of step: closed, and the next mail is tried again later.
    assert isinstance(after, TransientDeliveryError) and "connection" in after.reason


@pytest.mark.parametrize("smtp_server", [RefuseSome("550 5.1.1 no such user")], indirect=True)
async def test_a_batch_shares_one_connection_and_one_refusal_spoils_nothing_else(
    smtp_server: tuple[Collect, int],
) -> None:
    handler, port = smtp_server
    batch = [invitation("a@example.org"), invitation("nobody@example.org"), invitation()]
    first, refused, last = [result async for result in mailer(port).send_many(batch)]

    assert first == batch[0].message_id and last == batch[2].message_id
    assert isinstance(refused, PermanentDeliveryError)
    assert [e.rcpt_tos for e in handler.envelopes] == [["a@example.org"], ["zoe@example.org"]]
    assert handler.peers[0] == handler.peers[1]  # same client port: one connection


@pytest.mark.parametrize("offered", [True, False], ids=["smtputf8", "no-smtputf8"])
async def test_an_internationalised_address_goes_with_smtputf8_or_fails_alone(
    offered: bool,
) -> None:
    handler = Collect()
    with running_smtp_server(handler, smtputf8=offered) as port:
        results = [result async for result in mailer(port).send_many(
            [invitation("josé@example.org"), invitation("zoe@example.org")])]

    # The plain address is delivered either way, in the same batch.
    assert isinstance(results[1], str)
    if offered:
        assert isinstance(results[0], str)
        assert [e.rcpt_tos for e in handler.envelopes] == [["josé@example.org"],
                                                           ["zoe@example.org"]]
        assert "SMTPUTF8" in handler.envelopes[0].mail_options
        received = BytesParser(policy=email.policy.default).parsebytes(
            handler.envelopes[0].content)
        assert received["To"] == "Zoë Park <josé@example.org>"
    else:
        failed = results[0]
        assert isinstance(failed, PermanentDeliveryError)
        assert "SMTPUTF8" in failed.reason and "josé@example.org" in failed.reason
        assert [e.rcpt_tos for e in handler.envelopes] == [["zoe@example.org"]]


@pytest.mark.parametrize("line_end", ["\r\n", "\n"], ids=["crlf", "bare-lf"])
async def test_lines_that_start_with_a_dot_arrive_as_written(
    smtp_server: tuple[Collect, int], line_end: str,
) -> None:
    # SMTP ends a mail at a line holding one dot: the client doubles leading dots and the
    # server takes them off again. A mail not written by Attend (bare line ends) too.
    handler, port = smtp_server
    lines = ["Subject: dots", "", ".", "..two", ".hidden", "a.b", "last"]
    data = line_end.join(lines).encode() + line_end.encode()
    mail = Mail(message_id="<dots@example.org>", sender="attend@example.org",
                recipient="zoe@example.org", data=data, smtputf8=False)
    assert await mailer(port).send(mail) == "<dots@example.org>"
    (envelope,) = handler.envelopes
    assert envelope.original_content.split(b"\r\n") == [*(x.encode() for x in lines), b""]


@pytest.mark.parametrize("smtp_server", [
    OneOfThem("spam@example.org", reply="554 5.7.1 message rejected")], indirect=True)
async def test_refused_content_fails_that_mail_and_the_next_still_goes(
    smtp_server: tuple[Collect, int],
) -> None:
    handler, port = smtp_server
    batch = [invitation("spam@example.org"), invitation()]
    refused, sent = [result async for result in mailer(port).send_many(batch)]

    assert isinstance(refused, PermanentDeliveryError)
    assert "554 5.7.1 message rejected" in refused.reason
    assert sent == batch[1].message_id
    assert [e.rcpt_tos for e in handler.envelopes] == [["zoe@example.org"]]


class RefuseSender(Collect):
    async def handle_MAIL(self, server: Any, session: Any, envelope: Any, address: str,
                          options: Any) -> str:
        return "553 5.7.1 sender not allowed"


@pytest.mark.parametrize("smtp_server", [RefuseSender()], indirect=True)
async def test_a_refused_sender_is_our_setup_and_blames_no_address(
    smtp_server: tuple[Collect, int],
) -> None:
    handler, port = smtp_server
    with pytest.raises(TransientDeliveryError, match=r"553 5\.7\.1 sender not allowed"):
        await mailer(port).send(invitation())
    assert handler.envelopes == []


async def test_an_address_with_a_quoted_local_part_reaches_the_server_as_written(
    smtp_server: tuple[Collect, int],
) -> None:
    handler, port = smtp_server
    batch = [invitation('"zoe park"@example.org'), invitation()]
    results = [result async for result in mailer(port).send_many(batch)]

    assert results == [m.message_id for m in batch]
    assert [e.rcpt_tos for e in handler.envelopes] == [['"zoe park"@example.org'],
                                                       ["zoe@example.org"]]


@pytest.mark.parametrize("smtp_server", [Log()], indirect=True)
async def test_a_mail_is_handed_over_only_when_its_result_is_asked_for(
    smtp_server: tuple[Log, int],
) -> None:
    """The caller records each outcome before the next mail exists at the server (a crash
    then repeats at most the mail in hand), while the next envelope (MAIL FROM, RCPT TO,
    DATA) is already on its way."""
    handler, port = smtp_server
    batch = [invitation("a@example.org"), invitation("b@example.org"), invitation()]
    async with aclosing(mailer(port).send_many(batch)) as results:
        assert await anext(results) == batch[0].message_id
        await until(lambda: ("rcpt", "b@example.org") in [(w, a) for w, a, _ in handler.log])
        await asyncio.sleep(0.2)  # time enough for a mail to arrive, were it sent
        assert [a for w, a, _ in handler.log if w == "mail"] == ["a@example.org"]

        assert await anext(results) == batch[1].message_id
        assert [a for w, a, _ in handler.log if w == "mail"] == ["a@example.org",
                                                                 "b@example.org"]
        assert await anext(results) == batch[2].message_id
    assert len(handler.envelopes) == 3 and len(handler.connections()) == 1


@pytest.mark.parametrize("smtp_server", [Log()], indirect=True)
async def test_a_caller_that_stops_early_leaves_the_next_mail_unsent(
    smtp_server: tuple[Log, int],
) -> None:
    handler, port = smtp_server
    batch = [invitation("a@example.org"), invitation("b@example.org")]
    kept = mailer(port, keep_alive=5)
    async with aclosing(kept.send_many(batch)) as results:
        assert await anext(results) == batch[0].message_id
        await until(lambda: ("rcpt", "b@example.org") in [(w, a) for w, a, _ in handler.log])
        await asyncio.sleep(0.1)  # b's DATA answered: the server waits for its content
        # Stopping now cuts the connection: a QUIT would be read as content and never
        # answered (the mailer would wait out its 5 s timeout).
        async with asyncio.timeout(2):
            await results.aclose()
    # Not kept with b's DATA open: the next batch goes on a new connection; b never arrives.
    await kept.send(invitation("c@example.org"))
    await kept.aclose()
    assert [a for w, a, _ in handler.log if w == "mail"] == ["a@example.org", "c@example.org"]
    assert len(handler.connections()) == 2


@pytest.mark.parametrize("smtp_server", [Log()], indirect=True)
async def test_a_kept_connection_carries_the_next_batches_and_quits_when_closed(
    smtp_server: tuple[Log, int],
) -> None:
    handler, port = smtp_server
    kept = mailer(port, keep_alive=5)
    for batch in ([invitation("a@example.org"), invitation("b@example.org")],
                  [invitation("c@example.org")]):
        assert [r async for r in kept.send_many(batch)] == [m.message_id for m in batch]
    last = invitation("d@example.org")
    assert await kept.send(last) == last.message_id

    assert len(handler.envelopes) == 4 and len(handler.connections()) == 1
    assert "quit" not in [what for what, _, _ in handler.log]
    await kept.aclose()
    await until(lambda: handler.log[-1][0] == "quit")


@pytest.mark.parametrize("smtp_server", [Log()], indirect=True)
async def test_an_idle_connection_is_quit_after_its_keep_alive(
    smtp_server: tuple[Log, int],
) -> None:
    handler, port = smtp_server
    kept = mailer(port, keep_alive=0.2)
    await kept.send(invitation("a@example.org"))
    await until(lambda: handler.log[-1][0] == "quit")
    await kept.send(invitation("b@example.org"))  # a new connection
    await kept.aclose()

    assert len(handler.connections()) == 2
    assert [what for what, _, _ in handler.log].count("quit") == 2


@pytest.mark.parametrize("smtp_server", [RefuseSome("550 5.1.1 no such user")], indirect=True)
async def test_a_connection_on_which_a_mail_failed_is_not_kept(
    smtp_server: tuple[Collect, int],
) -> None:
    handler, port = smtp_server
    kept = mailer(port, keep_alive=5)
    results = [r async for r in kept.send_many([invitation("nobody@example.org"),
                                                invitation("a@example.org")])]
    await kept.send(invitation("b@example.org"))
    await kept.aclose()

    assert isinstance(results[0], PermanentDeliveryError) and isinstance(results[1], str)
    assert len(set(handler.peers)) == 2  # the second batch on a new connection

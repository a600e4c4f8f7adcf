"""Delivery through an SMTP server (STARTTLS or implicit TLS, optional login) with aiosmtplib.

Failures come back in two kinds the notifier acts on: a 5xx refusal of the recipient or the
message, or an internationalised address sent to a server without SMTPUTF8, is a
:class:`PermanentDeliveryError` for that message alone (mark the address, tell the
captain); everything else - 4xx replies, timeouts, refused connections, and our own setup
(login, TLS, sender) - is a :class:`TransientDeliveryError` (retry with backoff, then park), so a
wrong password never gets a player's address marked as bouncing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import AsyncGenerator, AsyncIterator, Sequence
from contextlib import aclosing
from dataclasses import dataclass, field

import aiosmtplib

from bot.email.errors import DeliveryError, PermanentDeliveryError, TransientDeliveryError
from bot.email.wire import Mail
from core.errors import ConfigError

log = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True, slots=True)
class SmtpSettings:
    host: str
    port: int = 587
    starttls: bool = True  # upgrade a plain connection (port 587)
    use_tls: bool = False  # TLS from the first byte (port 465)
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    timeout: float = 10.0  # seconds, per SMTP command
    local_hostname: str | None = None  # EHLO name; None asks the OS, which can be slow

    def __post_init__(self) -> None:
        if self.starttls and self.use_tls:
            raise ConfigError("SMTP: choose STARTTLS (port 587) or implicit TLS (465), not both")
        if (self.username is None) != (self.password is None):
            raise ConfigError("SMTP: a username needs a password, and a password a username")
        if not 0 < self.port < 65536:
            raise ConfigError(f"SMTP: port {self.port} is out of range")
        if self.timeout <= 0:
            raise ConfigError("SMTP: timeout must be a positive number of seconds")


KEEP_ALIVE = 5.0  # seconds an idle connection waits for the next batch, in the server


@dataclass(slots=True)
class _Idle:
    smtp: aiosmtplib.SMTP
    loop: asyncio.AbstractEventLoop
    expiry: asyncio.TimerHandle


class SmtpMailer:
    """Sends each batch over one connection. With ``keep_alive`` (what ``attend serve``
    uses), a connection that sent its batch cleanly waits that many seconds for the next
    one, up to ``kept`` of them: a fan-out of a thousand mails opens about as many
    connections as the lane sends at once, not one per batch (each a handshake, and TLS and
    a login with a real server). Idle ones get a QUIT when they expire and on
    :meth:`aclose`; one on which anything went wrong is closed at once."""

    def __init__(self, settings: SmtpSettings, *, keep_alive: float = 0.0,
                 kept: int = 1) -> None:
        self._settings = settings
        self._keep_alive = keep_alive
        self._kept = kept
        self._idle: list[_Idle] = []
        self._closing: set[asyncio.Task[None]] = set()

    async def send(self, message: Mail) -> str:
        """Deliver one message; return its Message-ID or raise a DeliveryError."""
        async with aclosing(self.send_many([message])) as results:
            result = await anext(results)
        if isinstance(result, DeliveryError):
            raise result
        return result

    async def send_many(
        self, messages: Sequence[Mail]
    ) -> AsyncGenerator[str | DeliveryError, None]:
        """Deliver over one connection: one result per message, in order, each as soon as
        the server has answered for it. Whatever goes wrong with one message is that
        message's result.

        A message is handed over (its content sent) only when the caller asks for its
        result, so the caller can record each outcome before the next mail exists at the
        server. While it records, the next mail's envelope (MAIL FROM, RCPT TO and, for a
        mail with CRLF line ends, DATA) is sent: three of a mail's four round trips are off
        the caller's path. Until its content ends, a mail is nothing the server keeps."""
        if not messages:
            return
        try:
            smtp = await self._connection()
        except Exception as error:
            failed = _unexpected(error)
            for _ in messages:
                yield failed
            return
        clean = True  # every mail accepted: the connection can take the next batch
        last = False  # the last result is out: no envelope is open
        envelope = asyncio.create_task(_envelope(smtp, messages[0]))
        try:
            for index, item in enumerate(messages):
                refused, data_sent = await envelope
                result = refused or await _content(smtp, item, data_sent=data_sent)
                clean = clean and not isinstance(result, DeliveryError)
                last = index + 1 == len(messages)
                if not last:
                    envelope = asyncio.create_task(_envelope(smtp, messages[index + 1]))
                yield result
        finally:
            envelope.cancel()  # if the caller stopped first: it goes with the connection
            if not last:  # the next mail's DATA may be open: cut, it is dropped unsent
                smtp.close()
            elif not (clean and self._keep(smtp)):
                await _close(smtp)

    async def aclose(self) -> None:
        """QUIT the idle connections (when the delivery worker stops)."""
        loop = asyncio.get_running_loop()
        idle, self._idle = self._idle, []
        for kept in idle:
            kept.expiry.cancel()
        await asyncio.gather(*(_close(k.smtp) for k in idle if k.loop is loop),
                             *self._closing, return_exceptions=True)

    async def _connection(self) -> aiosmtplib.SMTP:
        loop = asyncio.get_running_loop()
        while self._idle:
            kept = self._idle.pop()
            kept.expiry.cancel()
            if kept.loop is loop and kept.smtp.is_connected:
                return kept.smtp
            if kept.loop is loop:
                kept.smtp.close()
        smtp = self._client()
        await smtp.connect()
        if smtp.is_ehlo_or_helo_needed:  # the extensions (SIZE, SMTPUTF8) are known from here
            try:
                await smtp.ehlo()
            except aiosmtplib.SMTPHeloError:
                await smtp.helo()
        return smtp

    def _keep(self, smtp: aiosmtplib.SMTP) -> bool:
        """Keep ``smtp`` for the next batch, if there is room; whether it was kept."""
        if self._keep_alive <= 0 or len(self._idle) >= self._kept or not smtp.is_connected:
            return False
        loop = asyncio.get_running_loop()
        expiry = loop.call_later(self._keep_alive, self._expire, smtp)
        self._idle.append(_Idle(smtp, loop, expiry))
        return True

    def _expire(self, smtp: aiosmtplib.SMTP) -> None:
        self._idle = [k for k in self._idle if k.smtp is not smtp]
        task = asyncio.get_running_loop().create_task(_close(smtp))
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    def _client(self) -> aiosmtplib.SMTP:
        s = self._settings
        return aiosmtplib.SMTP(
            hostname=s.host,
            port=s.port,
            use_tls=s.use_tls,
            start_tls=s.starttls,
            username=s.username,
            password=s.password,
            timeout=s.timeout,
            local_hostname=s.local_hostname,
        )


def _unexpected(error: Exception) -> DeliveryError:
    try:
        return _delivery_error(error)
    except Exception:
        log.error("could not send a mail", exc_info=error)
        return TransientDeliveryError(f"could not send the mail: {error!r}")


async def _envelope(smtp: aiosmtplib.SMTP, item: Mail) -> tuple[DeliveryError | None, bool]:
    """MAIL FROM, RCPT TO and, when the content can follow on the protocol as it is (see
    :func:`_streamable`), DATA for ``item``: why not, if the server refused, and whether
    DATA went."""
    if not smtp.is_connected:
        return TransientDeliveryError("the connection to the mail server was lost during "
                                      "a batch"), False
    if item.smtputf8 and not smtp.supports_extension("smtputf8"):
        # Another server may take it, but this one never will: retrying cannot help.
        return PermanentDeliveryError(
            f"the mail server doesn't accept internationalised addresses (no SMTPUTF8), "
            f"so nothing can be sent to {item.recipient}"), False
    encoding = "utf-8" if item.smtputf8 else "ascii"
    options = ["SMTPUTF8"] if item.smtputf8 else []
    if smtp.supports_extension("size"):  # RFC 1870: the octets sent, CRLFs included
        options.insert(0, f"SIZE={len(item.data)}")
    data_now = _streamable(smtp, item.data)
    try:
        async with _answered(smtp, commands=3 if data_now else 2):
            await _mail_from(smtp, item.sender, options, encoding)
            await _rcpt_to(smtp, item.recipient, encoding)
            if data_now:
                await _start_data(smtp)
    except Exception as error:
        return await _reset(smtp, error), False
    return None, data_now


@contextlib.asynccontextmanager
async def _answered(smtp: aiosmtplib.SMTP, *, commands: int) -> AsyncIterator[None]:
    """The server's answers to ``commands`` commands, each within the timeout. One timer
    for them all, not aiosmtplib's ``wait_for`` per reply (a task and a timer each: an
    eighth of the event loop's work in a fan-out). A server that doesn't answer in time
    leaves the connection out of step: it is closed."""
    limit = float(smtp.timeout or 0) * commands
    try:
        async with asyncio.timeout(limit or None):
            yield
    except TimeoutError as error:
        smtp.close()
        raise aiosmtplib.SMTPReadTimeoutError(
            f"no answer within {limit:g} s") from error


# An address that goes on a command line as it is. aiosmtplib's ``mail`` and ``rcpt`` parse
# every address again (``email.utils.parseaddr``: a tenth of a fan-out's time on the event
# loop); these are plain already, checked where they came in. Others (a quoted local part)
# are left to aiosmtplib.
_PLAIN_ADDRESS = re.compile(r'[^\s<>"()\\,;:@]+@[^\s<>"()\\,;:@]+')
_ACCEPTED = (aiosmtplib.SMTPStatus.completed, aiosmtplib.SMTPStatus.will_forward)


async def _mail_from(smtp: aiosmtplib.SMTP, sender: str, options: list[str],
                     encoding: str) -> None:
    if not _PLAIN_ADDRESS.fullmatch(sender):
        await smtp.mail(sender, options=options, encoding=encoding, timeout=None)
        return
    response = await smtp.execute_command(b"MAIL", b"FROM:<%s>" % sender.encode(encoding),
                                          *(o.encode("ascii") for o in options), timeout=None)
    if response.code != aiosmtplib.SMTPStatus.completed:
        raise aiosmtplib.SMTPSenderRefused(response.code, response.message, sender)


async def _rcpt_to(smtp: aiosmtplib.SMTP, recipient: str, encoding: str) -> None:
    if not _PLAIN_ADDRESS.fullmatch(recipient):
        await smtp.rcpt(recipient, encoding=encoding, timeout=None)
        return
    response = await smtp.execute_command(b"RCPT", b"TO:<%s>" % recipient.encode(encoding),
                                          timeout=None)
    if response.code not in _ACCEPTED:
        raise aiosmtplib.SMTPRecipientRefused(response.code, response.message, recipient)


async def _content(smtp: aiosmtplib.SMTP, item: Mail, *,
                   data_sent: bool) -> str | DeliveryError:
    """The content, after the DATA the envelope sent (else through aiosmtplib's ``data``:
    DATA, then the content with its lines mended): the server has the mail once it
    answers."""
    try:
        async with _answered(smtp, commands=1 if data_sent else 2):
            if data_sent:
                await _end_data(smtp, item.data)
            else:
                await smtp.data(item.data, timeout=None)
    except Exception as error:
        return await _reset(smtp, error)
    return item.message_id


def _streamable(smtp: aiosmtplib.SMTP, data: bytes) -> bool:
    """Whether ``data`` can go on the protocol as it is. aiosmtplib's ``data`` runs two
    regular expressions over every mail to end its lines with CRLF and double a leading
    dot (RFC 5321, 4.5.2): a tenth of the event loop's work in a fan-out. A mail Attend
    wrote has CRLF line ends already, so its dots are doubled with a plain replace."""
    return (smtp.protocol is not None and data.endswith(b"\r\n")
            and data.count(b"\n") == data.count(b"\r\n") == data.count(b"\r"))


async def _start_data(smtp: aiosmtplib.SMTP) -> None:
    start = await smtp.execute_command(b"DATA", timeout=None)
    if start.code != aiosmtplib.SMTPStatus.start_input:
        raise aiosmtplib.SMTPDataError(start.code, start.message)


async def _end_data(smtp: aiosmtplib.SMTP, data: bytes) -> None:
    """The content and its final dot, after DATA; one sender per connection, and its
    envelope for the next mail waits for this reply."""
    if smtp.protocol is None:  # the connection went since DATA
        raise aiosmtplib.SMTPServerDisconnected("the connection to the mail server was lost")
    try:
        smtp.protocol.write(_dot_stuffed(data) + b".\r\n")
        done = await smtp.protocol.read_response(timeout=None)
    except aiosmtplib.SMTPServerDisconnected:
        smtp.close()  # as aiosmtplib's data() does: not connected any more
        raise
    if done.code != aiosmtplib.SMTPStatus.completed:
        raise aiosmtplib.SMTPDataError(done.code, done.message)


def _dot_stuffed(data: bytes) -> bytes:
    stuffed = data.replace(b"\r\n.", b"\r\n..")
    return b"." + stuffed if stuffed.startswith(b".") else stuffed


async def _reset(smtp: aiosmtplib.SMTP, error: Exception) -> DeliveryError:
    """Why ``error`` failed the mail; the envelope is reset for the next one."""
    failed = _unexpected(error)
    if isinstance(error, aiosmtplib.SMTPResponseException) and smtp.is_connected:
        with contextlib.suppress(aiosmtplib.SMTPException, OSError):
            await smtp.rset()
    return failed


def _delivery_error(error: Exception) -> DeliveryError:
    permanent = False
    if isinstance(error, aiosmtplib.SMTPRecipientsRefused):
        codes = [refused.code for refused in error.recipients]
        permanent = bool(codes) and all(code >= 500 for code in codes)
        reason = "; ".join(f"{r.code} {r.message}" for r in error.recipients)
    elif isinstance(error, aiosmtplib.SMTPResponseException):
        # 5xx at RCPT or DATA is about this address or this message; at any other stage
        # (HELO, AUTH, MAIL FROM) it is about our setup and must not blame the address.
        stage_is_ours = not isinstance(
            error, aiosmtplib.SMTPRecipientRefused | aiosmtplib.SMTPDataError
        )
        permanent = error.code >= 500 and not stage_is_ours
        reason = f"{error.code} {error.message}"
    elif isinstance(error, TimeoutError):
        reason = f"mail server timed out: {error}"
    elif isinstance(error, OSError):  # refused, reset, DNS, TLS handshake
        reason = f"mail server unreachable: {error}"
    elif isinstance(error, aiosmtplib.SMTPException):  # e.g. STARTTLS not offered
        reason = f"mail server: {error}"
    else:
        raise error  # a bug, not a delivery outcome
    mapped: DeliveryError = (
        PermanentDeliveryError(reason) if permanent else TransientDeliveryError(reason)
    )
    mapped.__cause__ = error
    return mapped


async def _close(smtp: aiosmtplib.SMTP) -> None:
    # Each message's outcome is known by now; a failed QUIT must not turn an accepted
    # message into an error (and so into a duplicate on retry).
    if not smtp.is_connected:
        return
    try:
        await smtp.quit()
    except (aiosmtplib.SMTPException, OSError):
        smtp.close()
    except BaseException:  # cancelled (the server is stopping): close, then go on stopping
        smtp.close()
        raise

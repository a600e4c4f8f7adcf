"""Delivery through an SMTP server (STARTTLS or implicit TLS, optional login) with aiosmtplib.

Failures come back in two kinds the notifier acts on: a 5xx refusal of the recipient or the
message, or an internationalised address sent to a server without SMTPUTF8, is a
:class:`PermanentDeliveryError` for that message alone (mark the address, tell the
captain); everything else - 4xx replies, timeouts, refused connections, and our own setup
(login, TLS, sender) - is a :class:`TransientDeliveryError` (retry with backoff, then park), so a
wrong password never gets a player's address marked as bouncing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage

import aiosmtplib

from bot.email.errors import DeliveryError, PermanentDeliveryError, TransientDeliveryError
from bot.email.wire import envelope, needs_smtputf8, to_wire
from core.errors import ConfigError


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


@dataclass(frozen=True, slots=True)
class _Outgoing:
    message_id: str
    sender: str
    recipient: str
    data: bytes
    smtputf8: bool  # an internationalised address: only a server offering SMTPUTF8 takes it


class SmtpMailer:
    def __init__(self, settings: SmtpSettings) -> None:
        self._settings = settings

    async def send(self, message: EmailMessage) -> str:
        """Deliver one message; return its Message-ID or raise a DeliveryError."""
        (result,) = await self.send_many([message])
        if isinstance(result, DeliveryError):
            raise result
        return result

    async def send_many(self, messages: Sequence[EmailMessage]) -> list[str | DeliveryError]:
        """Deliver over one connection; one result per message, in order."""
        outgoing = [_outgoing(message) for message in messages]
        if not any(isinstance(item, _Outgoing) for item in outgoing):
            return [item for item in outgoing if isinstance(item, DeliveryError)]
        smtp = self._client()
        try:
            await smtp.connect()
        except Exception as error:
            failed = _delivery_error(error)
            return [item if isinstance(item, DeliveryError) else failed for item in outgoing]
        try:
            return [await _deliver(smtp, item) for item in outgoing]
        finally:
            await _close(smtp)

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


def _outgoing(message: EmailMessage) -> _Outgoing | DeliveryError:
    message_id = message["Message-ID"]
    if not message_id:
        raise ValueError("a message needs a Message-ID (build_message sets one)")
    sender, recipients = envelope(message)
    # One recipient per message, so every outcome belongs to exactly one address.
    if len(recipients) != 1:
        raise ValueError(f"send one message per recipient, got {len(recipients)}")
    return _Outgoing(str(message_id), sender, recipients[0], to_wire(message),
                     smtputf8=needs_smtputf8(message))


async def _deliver(smtp: aiosmtplib.SMTP, item: _Outgoing | DeliveryError) -> str | DeliveryError:
    if isinstance(item, DeliveryError):
        return item
    if not smtp.is_connected:
        return TransientDeliveryError("the mail server closed the connection during a batch")
    try:
        await smtp.sendmail(item.sender, [item.recipient], item.data,
                            mail_options=["SMTPUTF8"] if item.smtputf8 else None)
    except aiosmtplib.SMTPNotSupported as error:
        if not item.smtputf8 or smtp.supports_extension("smtputf8"):
            return _delivery_error(error)
        # Another server may take it, but this one never will: retrying cannot help.
        refused = PermanentDeliveryError(
            f"the mail server doesn't accept internationalised addresses (no SMTPUTF8), "
            f"so nothing can be sent to {item.recipient}")
        refused.__cause__ = error
        return refused
    except Exception as error:
        return _delivery_error(error)
    return item.message_id


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

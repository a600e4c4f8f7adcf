"""Delivery through an SMTP server (STARTTLS or implicit TLS, optional login) with aiosmtplib.

Failures come back in two kinds the notifier acts on: a 5xx refusal of the recipient or the
message, or an internationalised address sent to a server without SMTPUTF8, is a
:class:`PermanentDeliveryError` for that message alone (mark the address, tell the
captain); everything else - 4xx replies, timeouts, refused connections, and our own setup
(login, TLS, sender) - is a :class:`TransientDeliveryError` (retry with backoff, then park), so a
wrong password never gets a player's address marked as bouncing.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator, Sequence
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


class SmtpMailer:
    def __init__(self, settings: SmtpSettings) -> None:
        self._settings = settings

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
        the server has answered for it (the next is sent when the caller asks for its
        result). Whatever goes wrong with one message is that message's result."""
        if not messages:
            return
        smtp = self._client()
        try:
            await smtp.connect()
        except Exception as error:
            failed = _unexpected(error)
            for _ in messages:
                yield failed
            return
        try:
            for item in messages:
                try:
                    result = await _deliver(smtp, item)
                except Exception as error:
                    result = _unexpected(error)
                yield result
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


def _unexpected(error: Exception) -> DeliveryError:
    try:
        return _delivery_error(error)
    except Exception:
        log.error("could not send a mail", exc_info=error)
        return TransientDeliveryError(f"could not send the mail: {error!r}")


async def _deliver(smtp: aiosmtplib.SMTP, item: Mail) -> str | DeliveryError:
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
    except BaseException:  # cancelled (the server is stopping): close, then go on stopping
        smtp.close()
        raise

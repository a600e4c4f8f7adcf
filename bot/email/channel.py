"""Email as a notification channel: a core ``Notification`` becomes a signed, rendered mail.

Answer links open a confirm page (``/r/<token>?a=yes``; only its POST records anything) and
stay valid until six hours after the game starts; the unsubscribe link never expires; a
captain's alert links to the board. The Message-ID is made from the delivery id, so a mail
sent again after a crash is recognisably the same message. Works with the SMTP mailer (whose
``send_many`` keeps one connection for a batch) and with the local outbox.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncGenerator, Callable, Sequence
from contextlib import aclosing
from datetime import datetime
from email.errors import NonASCIILocalPartDefect
from email.headerregistry import HeaderRegistry
from email.utils import parseaddr
from typing import Protocol, runtime_checkable
from zoneinfo import ZoneInfo

from bot.config import Config
from bot.email.models import (
    ANSWERS,
    CaptainAlertEmail,
    CaptainAlertKind,
    GameEmail,
    GameEmailKind,
)
from bot.email.outbox import OutboxMailer
from bot.email.render import Email, build_message
from bot.email.smtp import KEEP_ALIVE, SmtpMailer, SmtpSettings
from bot.email.wire import Mail
from bot.links import LINK_LIFETIME, BoardLinks, LinkSigner, board_url
from bot.when import describe
from core.aggregates.common import Channel
from core.notifications import (
    DeliveryError,
    Notification,
    NotificationKind,
    PermanentDeliveryError,
    TransientDeliveryError,
)

log = logging.getLogger(__name__)
_HEADERS = HeaderRegistry()
_PLAIN = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
                    r"@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*")

_NO_ANSWER_LINKS = (NotificationKind.CANCELLATION, NotificationKind.RESERVE_RELEASED)
_ALERTS = {
    NotificationKind.CAPTAIN_BELOW_MINIMUM: CaptainAlertKind.BELOW_MINIMUM,
    NotificationKind.CAPTAIN_LATE_DROPOUT: CaptainAlertKind.LATE_DROPOUT,
    NotificationKind.CAPTAIN_DELIVERY_FAILED: CaptainAlertKind.DELIVERY_FAILED,
    NotificationKind.CAPTAIN_UNREACHABLE: CaptainAlertKind.DELIVERY_FAILED,
    NotificationKind.CAPTAIN_RESERVE_STEPPED_IN: CaptainAlertKind.RESERVE_STEPPED_IN,
}


class Mailer(Protocol):
    async def send(self, message: Mail) -> str: ...


@runtime_checkable
class BatchMailer(Mailer, Protocol):
    """A mailer that sends several mails over one connection (the SMTP mailer)."""

    def send_many(self, messages: Sequence[Mail]
                  ) -> AsyncGenerator[str | DeliveryError, None]: ...

    async def aclose(self) -> None: ...


class EmailChannel:
    channel = Channel.EMAIL

    def __init__(self, mailer: Mailer, signer: LinkSigner, *, base_url: str, sender: str,
                 message_domain: str | None = None, clock: Callable[[], datetime],
                 unsubscribe_mailto: str | None = None) -> None:
        self._mailer = mailer
        self._signer = signer
        self._base = base_url.rstrip("/")
        self._boards = BoardLinks(signer, self._base)
        self._sender = sender
        self._domain = message_domain or _domain_of(sender)
        self._clock = clock
        self._mailto = unsubscribe_mailto

    async def send(self, notification: Notification) -> str | None:
        built = await asyncio.to_thread(self._built, notification)
        if isinstance(built, DeliveryError):
            raise built
        return await self._mailer.send(built)

    async def send_many(
        self, notifications: Sequence[Notification]
    ) -> AsyncGenerator[str | DeliveryError | None, None]:
        # Building a mail costs a fraction of a millisecond: not on the event loop.
        built = await asyncio.to_thread(lambda: [self._built(n) for n in notifications])
        messages = [m for m in built if isinstance(m, Mail)]
        sent = (self._mailer.send_many(messages) if isinstance(self._mailer, BatchMailer)
                else _one_by_one(self._mailer, messages))
        async with aclosing(sent):
            for item in built:
                yield item if isinstance(item, DeliveryError) else await anext(sent)

    async def aclose(self) -> None:
        if isinstance(self._mailer, BatchMailer):
            await self._mailer.aclose()

    def _built(self, notification: Notification) -> Mail | DeliveryError:
        """The mail, or why this one cannot be built: whatever goes wrong is its own."""
        try:
            return self.message(notification)
        except DeliveryError as error:
            return error
        except Exception as error:
            log.error("could not build the mail for %s", notification.delivery_id,
                      exc_info=error)
            return TransientDeliveryError(f"could not build the email: {error!r}")

    def message(self, n: Notification) -> Mail:
        """The mail for ``n``; raises PermanentDeliveryError when there is no address, or
        one that cannot be written in a mail header."""
        if not n.recipient.email:
            raise PermanentDeliveryError(f"{n.recipient.name} has no email address")
        problem = unusable_address(n.recipient.email)
        if problem is not None:
            raise PermanentDeliveryError(f"their email address {n.recipient.email!r} can't be "
                                         f"used ({problem})")
        return build_message(self.model(n), sender=self._sender, message_domain=self._domain,
                             date=self._clock(), message_id=f"<{n.delivery_id}@{self._domain}>")

    def model(self, n: Notification) -> Email:
        assert n.recipient.email is not None
        zone = ZoneInfo(n.timezone)
        when = describe(n.starts_at, zone)
        expires = n.starts_at + LINK_LIFETIME
        if n.for_captain:
            return CaptainAlertEmail(
                kind=_ALERTS[n.kind], to_address=n.recipient.email, to_name=n.recipient.name,
                team_name=n.team_name, opponent=n.opponent, local_when=when,
                board_url=board_url(self._boards, n),
                player_name=n.about_player_name or "A player", yes_count=n.yes_count,
                minimum=n.min_players, reason=n.reason)
        urls: dict[str, str] = {}
        if n.check_id is not None and n.kind not in _NO_ANSWER_LINKS:
            token = self._signer.answer_token(n.check_id, n.recipient.player_id, expires)
            urls = {a: f"{self._base}/r/{token}?a={a}" for a in ANSWERS}
        unsubscribe = self._signer.unsubscribe_token(n.team_id, n.recipient.player_id)
        return GameEmail(
            kind=GameEmailKind(n.kind.value), to_address=n.recipient.email,
            to_name=n.recipient.name, team_name=n.team_name, opponent=n.opponent,
            location=n.location, local_when=when,
            current_answer=None if n.current_answer is None else n.current_answer.value,
            answer_urls=urls, unsubscribe_url=f"{self._base}/u/{unsubscribe}",
            unsubscribe_mailto=self._mailto,
            previous_local_when=(None if n.previous_starts_at is None
                                 else describe(n.previous_starts_at, zone)),
            reason=n.cancel_reason,
            local_deadline=None if n.answers_close is None else describe(n.answers_close, zone))


async def _one_by_one(mailer: Mailer, messages: Sequence[Mail]
                      ) -> AsyncGenerator[str | DeliveryError, None]:
    for message in messages:
        try:
            yield await mailer.send(message)
        except DeliveryError as error:
            yield error
        except Exception as error:
            log.error("could not send a mail", exc_info=error)
            yield TransientDeliveryError(f"could not send the email: {error!r}")


def unusable_address(address: str) -> str | None:
    """Why ``address`` cannot go in a mail's ``To`` header, if it cannot (old data, or data
    that came in another way than the grammar). A non-ASCII local part is left to the
    mailer, which may send it with SMTPUTF8."""
    if _PLAIN.fullmatch(address) and ".." not in address:
        return None  # the common case, without parsing a header
    if any(ord(c) < 32 or ord(c) == 127 for c in address):
        return "it contains control characters"
    try:
        header = _HEADERS("To", address)
        found = [a.addr_spec for a in getattr(header, "addresses", ())]
    except Exception as error:
        return str(error) or type(error).__name__
    defects = [d for d in header.defects if not isinstance(d, NonASCIILocalPartDefect)]
    if defects:
        return str(defects[0])
    if found != [address]:
        return "it is not one plain address"
    return None


def email_channel_for(config: Config, *, clock: Callable[[], datetime]) -> EmailChannel:
    """SMTP when the config names a server, else the local outbox directory."""
    mailer: Mailer
    if config.smtp is not None:
        s = config.smtp
        mailer = SmtpMailer(SmtpSettings(host=s.host, port=s.port, starttls=s.starttls,
                                         use_tls=s.use_tls, username=s.username,
                                         password=s.password),
                            keep_alive=KEEP_ALIVE, kept=s.connections)
    else:
        mailer = OutboxMailer(config.outbox_dir, clock=clock)
    return EmailChannel(mailer, LinkSigner(config.secret_keys), base_url=config.base_url,
                        sender=config.mail_from, clock=clock)


def _domain_of(sender: str) -> str:
    address = parseaddr(sender)[1]
    return address.rpartition("@")[2] or "localhost"

"""A local outbox for when no SMTP server is configured: one ``.eml`` file per message.

File names sort by the time of sending, so a directory listing is the outbox in order.
The listing and reading functions feed the local page that shows the mails and their links;
they read files, so call them from async code with ``asyncio.to_thread``.
"""

from __future__ import annotations

import asyncio
import email.policy
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import NamedTuple

from bot.email.wire import Mail, to_wire
from core.errors import AttendError

_NAME = re.compile(r"\d{8}T\d{12}Z-[A-Za-z0-9._-]{1,100}\.eml")
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")
_LINK = re.compile(r"https?://[^\s<>\"']+")


class OutboxMessageNotFound(AttendError, LookupError):
    """No such message in the outbox, or a name that is not an outbox file name (``../x``)."""


@dataclass(frozen=True, kw_only=True, slots=True)
class OutboxEntry:
    filename: str
    subject: str
    to: str
    date: datetime | None
    links: tuple[str, ...]  # every http(s) link in the text part, in order, once each


class OutboxMessage(NamedTuple):
    headers: tuple[tuple[str, str], ...]
    text: str
    html: str | None


def _utc_now() -> datetime:
    return datetime.now(UTC)


class OutboxMailer:
    """Same ``send`` as :class:`~bot.email.smtp.SmtpMailer`, into a directory."""

    def __init__(self, directory: Path, *, clock: Callable[[], datetime] = _utc_now) -> None:
        self._directory = directory
        self._clock = clock
        self._last = datetime.min.replace(tzinfo=UTC)

    async def send(self, message: Mail) -> str:
        message_id = message.message_id
        if not message_id:
            raise ValueError("a message needs a Message-ID (build_message sets one)")
        # Strictly increasing stamps keep the sending order even within one clock tick.
        stamp = max(self._clock().astimezone(UTC), self._last + timedelta(microseconds=1))
        self._last = stamp
        safe_id = _UNSAFE.sub("_", str(message_id).strip("<> "))[:100] or "message"
        name = f"{stamp:%Y%m%dT%H%M%S%f}Z-{safe_id}.eml"
        await asyncio.to_thread(_write_atomically, self._directory / name, to_wire(message))
        return str(message_id)


def list_messages(directory: Path) -> list[OutboxEntry]:
    """The outbox, oldest first; an outbox nothing was sent to yet is empty."""
    if not directory.is_dir():
        return []
    entries = []
    names = sorted(p.name for p in directory.iterdir() if _is_outbox_file(p))
    for path in (directory / name for name in names):
        message = _parse(path)
        text, _ = _bodies(message)
        date = message["Date"]
        entries.append(
            OutboxEntry(
                filename=path.name,
                subject=str(message["Subject"] or ""),
                to=str(message["To"] or ""),
                date=getattr(date, "datetime", None),
                links=tuple(dict.fromkeys(_LINK.findall(text))),
            )
        )
    return entries


def read_message(directory: Path, filename: str) -> OutboxMessage:
    """One message's headers and bodies. ``filename`` comes from a URL: trust nothing."""
    path = directory / filename
    if (
        not _NAME.fullmatch(filename)  # no separators, no "..", nothing we did not write
        or not _is_outbox_file(path)
        or path.resolve().parent != directory.resolve()
    ):
        raise OutboxMessageNotFound(f"no message {filename!r} in the outbox")
    message = _parse(path)
    text, html = _bodies(message)
    headers = tuple((name, str(value)) for name, value in message.items())
    return OutboxMessage(headers=headers, text=text, html=html)


def _is_outbox_file(path: Path) -> bool:
    # Only names this module writes; a symlink is never one of them.
    return bool(_NAME.fullmatch(path.name)) and path.is_file() and not path.is_symlink()


def _write_atomically(path: Path, data: bytes) -> None:
    # Write beside the target, then rename: a reader never sees half a message.
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    try:
        temporary.write_bytes(data)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def _parse(path: Path) -> EmailMessage:
    with path.open("rb") as file:
        message = BytesParser(policy=email.policy.default).parse(file)
    assert isinstance(message, EmailMessage)  # guaranteed by the default policy
    return message


def _bodies(message: EmailMessage) -> tuple[str, str | None]:
    plain = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    text = plain.get_content() if isinstance(plain, EmailMessage) else ""
    return text, (html.get_content() if isinstance(html, EmailMessage) else None)

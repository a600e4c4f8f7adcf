"""A mail as it goes on the wire: written once, straight to bytes, the same for SMTP and for
the local outbox.

Every mail Attend sends has one shape (a few headers, then a multipart/alternative of a
text and an HTML part), so it is written here directly rather than through
``email.message.EmailMessage``, whose header parsing and policy machinery cost several
milliseconds a mail (most of a fan-out's time). The encoders are the standard library's:
``email.header.Header`` for RFC 2047 encoded words (split and folded as RFC 2047 asks),
``binascii.b2a_qp`` for quoted-printable bodies.

- Headers are ASCII; a non-ASCII subject or display name becomes encoded words. Only when
  an address itself is internationalised (which needs SMTPUTF8, RFC 6531) is the message
  written with UTF-8 addresses and names (RFC 6532), as a receiving client expects.
- A header never holds a line break or a control character (a value with one is refused),
  and is never folded inside a long token: a signed List-Unsubscribe URL stays one
  readable URL (RFC 5322 allows lines up to 998 characters).
- Bodies are 7bit when plain ASCII with short lines, else quoted-printable, so a mail never
  depends on the server offering 8BITMIME.
"""

from __future__ import annotations

import binascii
import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from email.header import Header
from email.headerregistry import HeaderRegistry

from core.router import new_id

MAX_LINE = 998  # RFC 5322: characters a line may hold, CRLF excluded
_FOLD = 78  # where encoded words are folded
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_SPECIALS = re.compile(r'[][\\()<>@,:;".]')
_HEADERS = HeaderRegistry()


@dataclass(frozen=True, slots=True)
class Mail:
    """A message ready to send: its envelope and its bytes (CRLF line ends)."""

    message_id: str
    sender: str  # the envelope's MAIL FROM
    recipient: str  # one recipient a message, so every outcome belongs to one address
    data: bytes
    smtputf8: bool  # an internationalised address: only a server offering SMTPUTF8 takes it

    def __bytes__(self) -> bytes:
        return self.data


@dataclass(frozen=True, slots=True)
class Mailbox:
    """A display name and an address, as in ``Attend <attend@example.org>``."""

    name: str
    address: str

    @property
    def international(self) -> bool:
        return not self.address.isascii()


@functools.lru_cache(maxsize=64)
def parse_mailbox(value: str) -> Mailbox:
    """One mailbox from a configured address (``Name <a@b>`` or ``a@b``)."""
    header = _HEADERS("From", value)
    addresses = list(getattr(header, "addresses", ()))
    if len(addresses) != 1 or not addresses[0].addr_spec:
        raise ValueError(f"not one mail address: {value!r}")
    return Mailbox(name=addresses[0].display_name, address=addresses[0].addr_spec)


def to_wire(mail: Mail) -> bytes:
    """The message as sent."""
    return mail.data


def write_mail(*, sender: Mailbox, to: Mailbox, subject: str, date: str, message_id: str,
               extra: Sequence[tuple[str, str]] = (), text: str, html: str,
               boundary: str | None = None) -> Mail:
    """A multipart/alternative mail with a text and an HTML part. ``extra`` headers follow
    the standard ones, in order."""
    smtputf8 = sender.international or to.international
    boundary = boundary or _boundary(text, html)
    head = [
        _address_header("From", sender, smtputf8),
        _address_header("To", to, smtputf8),
        _header("Subject", subject),
        _header("Date", date),
        _header("Message-ID", message_id),
        *(_header(name, value) for name, value in extra),
        "MIME-Version: 1.0\r\n",
        f'Content-Type: multipart/alternative; boundary="{boundary}"\r\n',
        "\r\n",
    ]
    data = b"".join((
        "".join(head).encode("utf-8" if smtputf8 else "ascii"),
        _part(boundary, "plain", text),
        _part(boundary, "html", html),
        f"--{boundary}--\r\n".encode("ascii"),
    ))
    return Mail(message_id=message_id, sender=sender.address, recipient=to.address, data=data,
                smtputf8=smtputf8)


def _boundary(*bodies: str) -> str:
    while True:
        boundary = f"=_attend_{new_id()}"
        if not any(boundary in body for body in bodies):
            return boundary


def _part(boundary: str, subtype: str, body: str) -> bytes:
    body = body.replace("\r\n", "\n").replace("\r", "\n")
    if body.isascii() and all(len(line) <= MAX_LINE for line in body.split("\n")):
        encoding, payload = "7bit", body.encode("ascii")
    else:
        # Line breaks stay line breaks; "=", non-ASCII and trailing spaces are escaped,
        # and long lines are cut with soft breaks.
        encoding = "quoted-printable"
        payload = binascii.b2a_qp(body.encode("utf-8"), istext=True)
    if not payload.endswith(b"\n"):
        payload += b"\n"  # a body ends with a line break (as set_content makes it)
    payload += b"\n"  # and the line break before the next boundary belongs to the boundary
    return b"".join((
        f"--{boundary}\r\nContent-Type: text/{subtype}; charset=\"utf-8\"\r\n"
        f"Content-Transfer-Encoding: {encoding}\r\n\r\n".encode("ascii"),
        payload.replace(b"\n", b"\r\n"),
    ))


def _checked(name: str, value: str) -> str:
    if _CONTROL.search(value):
        raise ValueError(f"a {name} header can't hold a line break or control character")
    return value


def _header(name: str, value: str) -> str:
    _checked(name, value)
    if value.isascii() and len(name) + 2 + len(value) <= MAX_LINE:
        return f"{name}: {value}\r\n"
    return _folded(name, value)


@functools.lru_cache(maxsize=256)  # a fan-out's mails share their subject
def _folded(name: str, value: str) -> str:
    if value.isascii():  # too long for one line: fold at spaces
        folded = Header(value, "us-ascii", maxlinelen=MAX_LINE, header_name=name)
    else:
        folded = Header(value, "utf-8", maxlinelen=_FOLD, header_name=name)
    return f"{name}: {folded.encode(linesep=chr(13) + chr(10))}\r\n"


def _address_header(name: str, mailbox: Mailbox, utf8: bool) -> str:
    address = _checked(name, mailbox.address)
    display = _checked(name, mailbox.name)
    if not display:
        return f"{name}: {address}\r\n"
    if display.isascii() or utf8:
        if _SPECIALS.search(display):
            display = '"{}"'.format(display.replace("\\", "\\\\").replace('"', '\\"'))
        return f"{name}: {display} <{address}>\r\n"
    # One encoded word, however long: readers put a space between the words of a split
    # display name (a long subject is split and folded; clients join those cleanly).
    words = Header(display, "utf-8", maxlinelen=MAX_LINE, header_name=name)
    return f"{name}: {words.encode(linesep=chr(13) + chr(10))} <{address}>\r\n"

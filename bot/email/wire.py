"""How a built message becomes bytes, the same way for SMTP and for the local outbox."""

from __future__ import annotations

import copy
import email.policy
from email.message import EmailMessage

# The standard SMTP policy folds headers at 78 characters, and a header holding one long
# token (a signed List-Unsubscribe URL) is then turned into RFC 2047 encoded words, which
# mail clients no longer read as a URL. RFC 5322 allows lines up to 998 characters.
WIRE_POLICY = email.policy.SMTP.clone(max_line_length=998)
# An internationalised address is written as UTF-8 (RFC 6532), which needs SMTPUTF8.
UTF8_WIRE_POLICY = email.policy.SMTPUTF8.clone(max_line_length=998)


def to_wire(message: EmailMessage) -> bytes:
    """The message as sent: CRLF line ends, Bcc removed, headers in UTF-8 only when an
    address needs it (see :func:`needs_smtputf8`)."""
    policy = UTF8_WIRE_POLICY if needs_smtputf8(message) else WIRE_POLICY
    if "Bcc" in message:
        # A shallow copy is enough: deleting a header rebinds the copy's header list.
        message = copy.copy(message)
        del message["Bcc"]
    return message.as_bytes(policy=policy)


def needs_smtputf8(message: EmailMessage) -> bool:
    """Whether an address of the envelope is internationalised (not plain ASCII)."""
    sender, recipients = envelope(message)
    return not all(address.isascii() for address in (sender, *recipients))


def envelope(message: EmailMessage) -> tuple[str, list[str]]:
    """(sender, recipients) for the SMTP envelope, from From, To, Cc and Bcc."""
    senders = [address for header in message.get_all("From", []) for address in header.addresses]
    if len(senders) != 1:
        raise ValueError("a message needs exactly one From address")
    recipients = [
        address.addr_spec
        for field in ("To", "Cc", "Bcc")
        for header in message.get_all(field, [])
        for address in header.addresses
    ]
    if not recipients:
        raise ValueError("a message needs at least one recipient")
    return senders[0].addr_spec, recipients

"""A local SMTP server (aiosmtpd) for tests and benchmarks: real SMTP, no network."""

from __future__ import annotations

import email.policy
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Any

from aiosmtpd.controller import Controller


def free_loopback_port() -> int:
    # aiosmtpd's Controller cannot start on port 0 (aio-libs/aiosmtpd#276).
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class Inbox:
    """Keeps every message it receives, parsed, with its envelope recipients; and the client
    port each came over (one per connection), and the ports that said QUIT."""

    def __init__(self) -> None:
        self.mails: list[tuple[list[str], EmailMessage]] = []
        self.ports: list[int] = []
        self.quits: list[int] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = BytesParser(policy=email.policy.default).parsebytes(envelope.content)
        assert isinstance(parsed, EmailMessage)
        self.mails.append((list(envelope.rcpt_tos), parsed))
        self.ports.append(session.peer[1])
        return "250 OK"

    async def handle_QUIT(self, server: Any, session: Any, envelope: Any) -> str:
        self.quits.append(session.peer[1])
        return "221 Bye"


@contextmanager
def smtp_server(handler: object, *, smtputf8: bool = False) -> Iterator[int]:
    """Run an aiosmtpd server with ``handler`` on a free loopback port; yields the port.
    ``smtputf8`` makes it offer SMTPUTF8 (internationalised addresses)."""
    port = free_loopback_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port,
                            enable_SMTPUTF8=smtputf8)
    controller.start()
    try:
        yield port
    finally:
        controller.stop()

"""The edges of HTTP, by raw socket against the app served as `attend serve` serves it.

Over-long request lines and headers, absurd Content-Length, clients hanging up mid-body:
each gets Attend's own page with its security headers (or nothing, to a client gone), and
one INFO line in the log, never an ERROR or a traceback. And a NUL posted in an answer's
note is refused on the page, on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.web.edges import EdgeRunner
from bot.web.pages import Pages
from tests.e2e.conftest import Story
from tests.support.waiting import eventually

SECURITY = ("Content-Security-Policy", "Referrer-Policy", "X-Content-Type-Options",
            "Cache-Control")


@asynccontextmanager
async def serving(story: Story) -> AsyncIterator[int]:
    runner = EdgeRunner(story.web_app(), access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        yield runner.addresses[0][1]
    finally:
        await runner.cleanup()


async def exchange(port: int, raw: bytes, *, then_close: bool = False,
                   ) -> tuple[int, dict[str, str], str]:
    """Send ``raw``; the status, headers and body of the answer (read until it closes)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(raw)
        await writer.drain()
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 30)
        lines = head.decode("latin-1").split("\r\n")
        headers = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
        length = int(headers.get("Content-Length", "0"))
        body = await asyncio.wait_for(reader.readexactly(length), 30)
        return int(lines[0].split()[1]), headers, body.decode()
    finally:
        writer.close()


def no_errors(caplog: pytest.LogCaptureFixture) -> None:
    loud = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert not loud, [r.getMessage() for r in loud]
    assert not any(r.exc_info for r in caplog.records)


def info_from_edges(caplog: pytest.LogCaptureFixture, words: str) -> bool:
    return any(r.levelno == logging.INFO and words in r.getMessage()
               for r in caplog.records)


@pytest.mark.parametrize("request_bytes", [
    b"GET /r/" + b"A" * 9000 + b" HTTP/1.1\r\nHost: attend\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: attend\r\nCookie: " + b"c" * 9000 + b"\r\n\r\n",
], ids=["long-url", "long-header"])
async def test_an_over_long_request_gets_our_page_and_an_info_line(
        sqlite_story: Story, caplog: pytest.LogCaptureFixture, request_bytes: bytes) -> None:
    caplog.set_level(logging.INFO)
    async with serving(sqlite_story) as port:
        status, headers, body = await exchange(port, request_bytes)
    assert status == 400
    assert all(name in headers for name in SECURITY), headers
    assert headers["Content-Type"].startswith("text/html")
    assert "too long" in body and "<html" in body.lower()
    assert info_from_edges(caplog, "refused an unreadable request")
    no_errors(caplog)


async def test_an_absurd_content_length_is_refused_up_front(
        sqlite_story: Story, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    path = sqlite_story.answer_url(sqlite_story.alice)
    async with serving(sqlite_story) as port:
        # No body follows: the answer must come from the headers alone.
        status, headers, body = await exchange(port, (
            f"POST {path} HTTP/1.1\r\nHost: attend\r\nContent-Type: "
            "application/x-www-form-urlencoded\r\nContent-Length: 10000000000\r\n\r\n"
        ).encode())
    assert status == 413
    assert all(name in headers for name in SECURITY), headers
    assert "more than this page takes" in body
    assert info_from_edges(caplog, "10000000000-byte body")
    no_errors(caplog)
    assert sqlite_story.board().yes == 0


async def test_a_client_hanging_up_mid_body_is_an_info_line(
        sqlite_story: Story, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    path = sqlite_story.answer_url(sqlite_story.alice)
    async with serving(sqlite_story) as port:
        _, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write((f"POST {path} HTTP/1.1\r\nHost: attend\r\nContent-Type: "
                      "application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\n"
                      "answer=yes&note=").encode())
        await writer.drain()
        await asyncio.sleep(0.2)  # the handler is waiting for the rest of the body
        writer.close()
        assert await eventually(lambda: info_from_edges(caplog, "hung up"), 30)
    no_errors(caplog)
    assert sqlite_story.board().yes == 0


@pytest.mark.parametrize("note", ["a\x00b", "\x1b[2Jhi", "bye\u202e"])
async def test_a_control_character_in_a_note_is_refused_on_the_page(
        story: Story, caplog: pytest.LogCaptureFixture, note: str) -> None:
    async with TestClient(TestServer(story.web_app())) as client:
        response = await client.post(story.answer_url(story.alice),
                                     data={"answer": "yes", "note": note})
        body = await response.text()
    assert response.status == 400
    assert "control character" in body
    assert "\x00" not in body and "\x1b" not in body
    assert story.board().yes == 0
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_no_page_prints_a_stored_control_character() -> None:
    response = Pages().message(status=200, title="Hawks\x1b[2J", message="a\x00b\u202e")
    assert response.text is not None and "Hawks" in response.text
    assert not any(c in response.text for c in ("\x1b", "\x00", "\u202e"))

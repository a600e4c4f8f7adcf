"""A local stand-in for Discord's gateway (v10, JSON), served by :class:`FakeDiscord` at
``/gateway`` on its own port, so discord.py's real client connects to it over a websocket.

It speaks what discord.py's ``DiscordWebSocket`` (discord/gateway.py) expects: HELLO with the
heartbeat interval, then IDENTIFY (the bot token checked: a wrong one closes with 4004, which
discord.py does not retry) answered with the READY dispatch, heartbeats acknowledged, RESUME
of a dropped session (the dispatches it missed replayed, then RESUMED; an unknown session is
told INVALID_SESSION), and dispatches such as INTERACTION_CREATE. With ``compress=zlib-stream``
in the query, as discord.py connects, every payload goes out deflated on one zlib stream per
connection, each ending with a sync flush (``00 00 ff ff``); a large one is split over two
websocket frames, as Discord does, so the client has to gather them.

Dispatches go to the session identified last that is still connected (or, while it is being
resumed, are kept for it): one bot process holds the gateway at a time.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import zlib
from typing import TYPE_CHECKING, Any

from aiohttp import WSMsgType, web

if TYPE_CHECKING:
    from tests.support.discord_api import FakeDiscord

DISPATCH, HEARTBEAT, IDENTIFY, RESUME, INVALID_SESSION, HELLO, HEARTBEAT_ACK = 0, 1, 2, 6, 9, 10, 11
UNKNOWN_OPCODE, DECODE_ERROR, AUTHENTICATION_FAILED, INVALID_API_VERSION = 4001, 4002, 4004, 4012
SYNC_FLUSH = b"\x00\x00\xff\xff"
SPLIT_OVER = 512  # bytes: a compressed payload longer than this goes in two frames


@dataclasses.dataclass
class Session:
    """One identified session: its sequence, what was dispatched in it, and its socket (None
    while disconnected)."""

    id: str
    log: list[tuple[int, str, Any]] = dataclasses.field(default_factory=list)
    socket: Connection | None = None

    @property
    def seq(self) -> int:
        return self.log[-1][0] if self.log else 0


@dataclasses.dataclass
class Connection:
    """One websocket, with its zlib stream when the client asked for ``zlib-stream``."""

    ws: web.WebSocketResponse
    deflate: Any = None  # zlib's compress object
    heartbeats: int = 0
    split: int = 0  # payloads sent in two frames
    # A payload's frames go out together, in the order the stream compressed them.
    sending: asyncio.Lock = dataclasses.field(default_factory=asyncio.Lock)

    async def send(self, payload: dict[str, Any]) -> None:
        text = json.dumps(payload).encode()
        async with self.sending:
            if self.deflate is None:
                await self.ws.send_str(text.decode())
                return
            data = self.deflate.compress(text) + self.deflate.flush(zlib.Z_SYNC_FLUSH)
            assert data.endswith(SYNC_FLUSH)
            if len(data) > SPLIT_OVER:
                half = len(data) // 2
                await self.ws.send_bytes(data[:half])
                data = data[half:]
                self.split += 1
            await self.ws.send_bytes(data)


class FakeGateway:
    """Discord's gateway on ``discord``'s port (see the module's docstring)."""

    def __init__(self, discord: FakeDiscord, *, heartbeat_interval_ms: int = 41250) -> None:
        self._discord = discord
        self.heartbeat_interval_ms = heartbeat_interval_ms
        self.sessions: list[Session] = []
        self.identified = 0  # IDENTIFY payloads accepted
        self.resumed = 0  # sessions resumed
        self.compressions: list[str | None] = []  # each connection's ``compress``
        self.connections: list[Connection] = []
        self._changed = asyncio.Condition()

    @property
    def url(self) -> str:
        """Where discord.py connects (``DiscordWebSocket.DEFAULT_GATEWAY``)."""
        return f"ws://127.0.0.1:{self._discord.port}/gateway"

    @property
    def heartbeats(self) -> int:
        """Heartbeats received (and acknowledged), over every connection so far."""
        return sum(c.heartbeats for c in self.connections)

    @property
    def split(self) -> int:
        """Payloads sent in two frames, over every connection so far."""
        return sum(c.split for c in self.connections)

    @property
    def live(self) -> Session | None:
        """The session dispatches go to: the one identified last (while its client is
        away, they wait in its log for a resume)."""
        return self.sessions[-1] if self.sessions else None

    @property
    def connected(self) -> bool:
        live = self.live
        return live is not None and live.socket is not None

    async def wait_connected(self, timeout: float = 30.0, *, sessions: int = 1) -> bool:
        """Whether, within ``timeout``, ``sessions`` sessions were identified in all and
        the last one is connected."""
        async with self._changed:
            try:
                await asyncio.wait_for(self._changed.wait_for(
                    lambda: len(self.sessions) >= sessions and self.connected), timeout)
            except TimeoutError:
                return False
        return True

    async def dispatch(self, event: str, data: Any) -> None:
        """Send ``event`` to the live session (kept for a resume while it is disconnected)."""
        session = self.live
        if session is None:
            raise AssertionError("no bot is connected to the gateway")
        seq = session.seq + 1
        session.log.append((seq, event, data))
        if session.socket is not None:
            await session.socket.send({"op": DISPATCH, "s": seq, "t": event, "d": data})

    async def interact(self, payload: dict[str, Any]) -> None:
        """An INTERACTION_CREATE, as Discord sends a command or a tap to the bot."""
        await self.dispatch("INTERACTION_CREATE", payload)

    async def drop(self, code: int = 4000) -> None:
        """Close the live session's socket as Discord does at times: the client resumes."""
        session = self.live
        if session is not None and session.socket is not None:
            socket, session.socket = session.socket, None
            await socket.ws.close(code=code)

    # The server side.

    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        query = request.query
        self.compressions.append(query.get("compress"))
        if query.get("v") != "10":
            await ws.close(code=INVALID_API_VERSION, message=b"Invalid API version")
            return ws
        if query.get("encoding", "json") != "json" or query.get("compress") not in (
                None, "zlib-stream"):
            await ws.close(code=DECODE_ERROR, message=b"Decode error")
            return ws
        connection = Connection(ws, zlib.compressobj() if query.get("compress") else None)
        self.connections.append(connection)
        await connection.send({"op": HELLO, "s": None, "t": None,
                               "d": {"heartbeat_interval": self.heartbeat_interval_ms}})
        session: Session | None = None
        try:
            async for message in ws:
                if message.type is not WSMsgType.TEXT:
                    await ws.close(code=DECODE_ERROR, message=b"Decode error")
                    break
                payload = json.loads(message.data)
                op, data = payload.get("op"), payload.get("d")
                if op == HEARTBEAT:
                    connection.heartbeats += 1
                    await connection.send({"op": HEARTBEAT_ACK, "s": None, "t": None,
                                           "d": None})
                elif op == IDENTIFY:
                    session = await self._identify(connection, data)
                elif op == RESUME:
                    session = await self._resume(connection, data)
                elif op not in (3, 4, 8):  # presence, voice state, member requests: ignored
                    await ws.close(code=UNKNOWN_OPCODE, message=b"Unknown opcode")
                    break
        finally:
            if session is not None and session.socket is connection:
                session.socket = None
            await self._notify()
        return ws

    async def _identify(self, connection: Connection, data: dict[str, Any]) -> Session | None:
        fake = self._discord
        if data.get("token") != fake.token:
            await connection.ws.close(code=AUTHENTICATION_FAILED,
                                      message=b"Authentication failed")
            return None
        self.identified += 1
        session = Session(id=f"session-{len(self.sessions) + 1}", socket=connection)
        self.sessions.append(session)
        ready = {"v": 10, "user": {**fake.user_object(fake.bot_id), "verified": True,
                                   "mfa_enabled": False, "flags": 0},
                 "guilds": [], "private_channels": [], "relationships": [],
                 "session_id": session.id, "session_type": "normal",
                 "resume_gateway_url": self.url,
                 "application": {"id": str(fake.application_id), "flags": 0}}
        session.log.append((1, "READY", ready))
        await connection.send({"op": DISPATCH, "s": 1, "t": "READY", "d": ready})
        await self._notify()
        return session

    async def _resume(self, connection: Connection, data: dict[str, Any]) -> Session | None:
        found = [s for s in self.sessions if s.id == data.get("session_id")]
        if not found or data.get("token") != self._discord.token or found[0] is not self.live:
            await connection.send({"op": INVALID_SESSION, "s": None, "t": None, "d": False})
            return None
        session = found[0]
        session.socket = connection
        self.resumed += 1
        for seq, event, missed in session.log:
            if seq > (data.get("seq") or 0):
                await connection.send({"op": DISPATCH, "s": seq, "t": event, "d": missed})
        session.log.append((session.seq + 1, "RESUMED", {}))
        await connection.send({"op": DISPATCH, "s": session.seq, "t": "RESUMED", "d": {}})
        await self._notify()
        return session

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

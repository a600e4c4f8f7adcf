"""A local stand-in for Slack's Web API over real HTTP, for tests of the Slack adapter.

This is what bolt-python's own tests do (a local HTTP server standing in for the Web API):
point ``AsyncWebClient(token=..., base_url=fake.url)`` at it and slack-sdk makes real
requests. On top of that it has the behaviours of Slack the adapter must handle: token
authentication, HTTP 429 with ``Retry-After``, DMs that cannot be opened or written to,
message updates, App Home views (``views.publish``), and ``response_url`` posts from slash
commands and button clicks.
"""

from __future__ import annotations

import asyncio
import base64
import concurrent.futures
import dataclasses
import json
import socket
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from aiohttp import WSMsgType, web
from slack_sdk.signature import SignatureVerifier

OPEN_ERRORS = frozenset({"user_not_found", "user_disabled", "cannot_dm_bot", "user_not_visible"})
POST_ERRORS = frozenset({"messages_tab_disabled"})


@dataclasses.dataclass(frozen=True)
class Call:
    """One Web API request as received: method, decoded arguments, request headers."""

    method: str
    args: dict[str, Any]
    headers: dict[str, str]
    limited: bool = False  # answered 429 by ``rate_limit``
    team: str | None = None  # the workspace whose token made the call


@dataclasses.dataclass
class Message:
    """A posted message as it stands now; ``updates`` counts chat.update calls on it."""

    channel: str
    ts: str
    text: str | None
    blocks: list[Any] | None
    updates: int = 0


SECRET = "slack-signing-secret-for-tests"  # the signing secret tests give the app


def signed(body: str, *, secret: str = SECRET, age: int = 0) -> dict[str, str]:
    """The headers Slack sends with a request whose body is ``body``, signed with
    ``secret`` ``age`` seconds ago, as Slack signs what it posts to an app."""
    timestamp = str(int(time.time()) - age)
    signature = SignatureVerifier(secret).generate_signature(timestamp=timestamp, body=body)
    assert signature is not None
    return {"Content-Type": "application/x-www-form-urlencoded",
            "X-Slack-Request-Timestamp": timestamp, "X-Slack-Signature": signature}


class FakeSlack:
    """Slack's Web API on a loopback port: ``POST /api/<method>`` and ``POST /respond/<name>``."""

    def __init__(self, token: str = "xoxb-test", team_id: str = "T0001", *,
                 client_id: str = "111.222", client_secret: str = "client-secret",
                 app_token: str = "xapp-test") -> None:
        self.token = token
        self.team_id = team_id
        self.app_token = app_token
        self.socket = _Socket()  # Socket Mode's websocket
        self.client_id, self.client_secret = client_id, client_secret
        self._tokens = {token: team_id}  # bot token -> its workspace
        self._codes: dict[str, tuple[str, str]] = {}  # OAuth code -> (workspace, bot token)
        self._zones: dict[str, str] = {}  # user id -> IANA time zone
        self._lock = threading.Lock()
        self._calls: list[Call] = []
        self._messages: list[Message] = []
        self._responses: list[tuple[str, dict[str, Any]]] = []
        self._homes: list[tuple[str, str, dict[str, Any]]] = []  # (workspace, user, view)
        self._opened: set[str] = set()  # DM channel ids handed out by conversations.open
        self._refused: dict[str, str] = {}  # user id -> error
        self._limits: dict[str, tuple[int, int]] = {}  # method -> (calls left, retry after)
        self._ts = 100
        self._kicked: dict[str, str] = {}  # channel id -> error for posts and updates there
        self._throttle: tuple[str, float, list[float]] | None = None  # method, per second
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        # A short poll interval: shutdown() waits for the next poll (0.5 s by default).
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        """The ``base_url`` for slack-sdk, which appends the method name to it."""
        return f"http://127.0.0.1:{self.port}/api/"

    def start(self) -> FakeSlack:
        self._thread.start()
        self.socket.start()
        return self

    def stop(self) -> None:
        self.socket.stop()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def __enter__(self) -> FakeSlack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # Setting up Slack's behaviours.

    def refuse_dm(self, user: str, error: str) -> None:
        """Fail DMs to ``user``: at conversations.open, or at chat.postMessage for its errors."""
        if error not in OPEN_ERRORS | POST_ERRORS:
            raise ValueError(f"not a conversations.open or chat.postMessage error: {error}")
        with self._lock:
            self._refused[user] = error

    def set_timezone(self, user: str, zone: str) -> None:
        """The time zone users.info gives for ``user`` (none until set)."""
        with self._lock:
            self._zones[user] = zone

    def grant(self, code: str, team_id: str, token: str) -> None:
        """What Slack does when someone installs the app in ``team_id``: the redirect
        carries ``code``, which oauth.v2.access exchanges (once) for ``token``."""
        with self._lock:
            self._codes[code] = (team_id, token)

    def rate_limit(self, method: str, times: int = 1, retry_after: int = 1) -> None:
        """Answer the next ``times`` calls of ``method`` with 429 and ``Retry-After``."""
        with self._lock:
            self._limits[method] = (times, retry_after)

    def remove_bot(self, channel: str, error: str = "not_in_channel") -> None:
        """The bot left ``channel`` (or it is gone): posts and updates there fail with
        ``error`` (``not_in_channel``, ``channel_not_found``)."""
        with self._lock:
            self._kicked[channel] = error

    def throttle(self, method: str, per_second: float) -> None:
        """Enforce a rate limit on ``method``: past ``per_second`` calls in any second, answer
        429 with ``Retry-After: 1``, as Slack does."""
        with self._lock:
            self._throttle = (method, per_second, [])

    def response_url(self, name: str = "r1") -> str:
        return f"http://127.0.0.1:{self.port}/respond/{name}"

    # What the adapter did.

    def calls(self, method: str | None = None) -> list[Call]:
        with self._lock:
            return [c for c in self._calls if method is None or c.method == method]

    def messages(self, channel: str | None = None) -> list[Message]:
        with self._lock:
            return [
                dataclasses.replace(m)
                for m in self._messages
                if channel is None or m.channel == channel
            ]

    def dm(self, user: str) -> list[Message]:
        return self.messages("D" + user)

    def responses(self, name: str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            return [body for n, body in self._responses if name is None or n == name]

    def homes(self, user: str, team: str | None = None) -> list[dict[str, Any]]:
        """Every App Home view published for ``user`` (views.publish), oldest first: the
        last one is what their Home shows."""
        with self._lock:
            return [view for t, u, view in self._homes
                    if u == user and (team is None or t == team)]


    # The Web API, called from the server's threads.

    def _api(
        self, method: str, args: dict[str, Any], headers: dict[str, str]
    ) -> tuple[int, dict[str, str], dict[str, Any]]:
        """Status, extra headers and body for one call, checked in Slack's order."""
        handle = {
            "auth.test": self._auth_test,
            "conversations.open": self._conversations_open,
            "chat.postMessage": self._chat_post_message,
            "chat.update": self._chat_update,
            "users.info": self._users_info,
            "views.publish": self._views_publish,
        }.get(method)
        auth = next((v for k, v in headers.items() if k.lower() == "authorization"), None)
        if method == "oauth.v2.access":  # the app's own credentials, not a bot token
            with self._lock:
                self._calls.append(Call(method, args, headers))
                return 200, {}, self._oauth_access(args, auth)
        if method == "apps.connections.open":  # Socket Mode: the app-level token
            with self._lock:
                self._calls.append(Call(method, args, headers))
            if auth != f"Bearer {self.app_token}":
                return 200, {}, {"ok": False, "error": "invalid_auth"}
            return 200, {}, {"ok": True, "url": self.socket.url}
        team = self._tokens.get((auth or "").removeprefix("Bearer "))
        error = None
        if handle is None:
            error = "unknown_method"
        elif auth is None:
            error = "not_authed"
        elif team is None:
            error = "invalid_auth"
        with self._lock:
            left, retry_after = self._limits.get(method, (0, 0))
            if error is None and self._over_throttle(method):
                left, retry_after = 1, 1
            limited = error is None and left > 0
            if limited and method in self._limits:
                self._limits[method] = (left - 1, retry_after)
            self._calls.append(Call(method, args, headers, limited, team))
            if error is not None:
                return 200, {}, {"ok": False, "error": error}
            if limited:
                return 429, {"Retry-After": str(retry_after)}, {"ok": False, "error": "ratelimited"}
            assert handle is not None and team is not None
            return 200, {}, handle({**args, "_team": team})

    def _over_throttle(self, method: str) -> bool:
        if self._throttle is None or self._throttle[0] != method:
            return False
        _, per_second, times = self._throttle
        now = time.monotonic()
        times[:] = [t for t in times if now - t < 1.0]
        if len(times) >= per_second:
            return True
        times.append(now)
        return False

    def _auth_test(self, args: dict[str, Any]) -> dict[str, Any]:
        return {
            "ok": True,
            "url": "https://fake.slack.test/",
            "team": "Fake",
            "user": "attend",
            "team_id": args["_team"],
            "user_id": "UBOT",
            "bot_id": "BBOT",
        }

    def _oauth_access(self, args: dict[str, Any], auth: str | None) -> dict[str, Any]:
        """Exchanges a code for the installation, as Slack does: the app's client id and
        secret in HTTP Basic auth (or the form), and a code good for one exchange."""
        basic = base64.b64encode(f"{self.client_id}:{self.client_secret}".encode()).decode()
        in_form = (args.get("client_id"), args.get("client_secret")) == (
            self.client_id, self.client_secret)
        if auth != f"Basic {basic}" and not in_form:
            return {"ok": False, "error": "invalid_client_id"}
        granted = self._codes.pop(str(args.get("code", "")), None)
        if granted is None:
            return {"ok": False, "error": "invalid_code"}
        team_id, token = granted
        self._tokens[token] = team_id
        return {"ok": True, "app_id": "A0001", "authed_user": {"id": "UINSTALLER"},
                "scope": "commands,chat:write,im:write,users:read", "token_type": "bot",
                "access_token": token, "bot_user_id": "UBOT",
                "team": {"id": team_id, "name": f"Workspace {team_id}"},
                "enterprise": None, "is_enterprise_install": False}

    def _conversations_open(self, args: dict[str, Any]) -> dict[str, Any]:
        user = str(args.get("users", ""))
        if not user:
            return {"ok": False, "error": "users_list_not_supplied"}
        if self._refused.get(user) in OPEN_ERRORS:
            return {"ok": False, "error": self._refused[user]}
        self._opened.add("D" + user)
        return {"ok": True, "channel": {"id": "D" + user}}

    def _chat_post_message(self, args: dict[str, Any]) -> dict[str, Any]:
        channel, text, blocks = str(args.get("channel", "")), args.get("text"), args.get("blocks")
        if channel in self._kicked:
            return {"ok": False, "error": self._kicked[channel]}
        if channel.startswith("D"):
            if channel not in self._opened:
                return {"ok": False, "error": "channel_not_found"}
            if self._refused.get(channel[1:]) in POST_ERRORS:
                return {"ok": False, "error": self._refused[channel[1:]]}
        if not text and not blocks:
            return {"ok": False, "error": "no_text"}
        self._ts += 1
        ts = f"1700000000.{self._ts:06d}"
        self._messages.append(Message(channel, ts, text, blocks))
        message = {"type": "message", "ts": ts, "text": text, "blocks": blocks, "bot_id": "BBOT"}
        return {"ok": True, "channel": channel, "ts": ts, "message": message}

    def _chat_update(self, args: dict[str, Any]) -> dict[str, Any]:
        channel, ts = args.get("channel"), args.get("ts")
        if channel in self._kicked:
            return {"ok": False, "error": self._kicked[str(channel)]}
        found = [m for m in self._messages if m.channel == channel and m.ts == ts]
        if not found:
            return {"ok": False, "error": "message_not_found"}
        message = found[0]
        message.text = args.get("text", message.text)
        message.blocks = args.get("blocks", message.blocks)
        message.updates += 1
        return {"ok": True, "channel": channel, "ts": ts, "text": message.text}

    def _users_info(self, args: dict[str, Any]) -> dict[str, Any]:
        user = str(args.get("user", ""))
        if not user:
            return {"ok": False, "error": "user_not_found"}
        found: dict[str, Any] = {"id": user, "team_id": args["_team"], "name": user.lower()}
        if user in self._zones:
            found["tz"] = self._zones[user]
        return {"ok": True, "user": found}

    def _views_publish(self, args: dict[str, Any]) -> dict[str, Any]:
        user, view = str(args.get("user_id", "")), args.get("view")
        if isinstance(view, str):
            view = json.loads(view)
        if not user or not isinstance(view, dict) or view.get("type") != "home":
            return {"ok": False, "error": "invalid_arguments"}
        if len(view.get("blocks") or ()) > 100:
            return {"ok": False, "error": "invalid_blocks"}
        self._homes.append((args["_team"], user, view))
        return {"ok": True, "view": {**view, "id": f"V{len(self._homes):06d}"}}

    def _respond(self, name: str, body: dict[str, Any]) -> None:
        with self._lock:
            self._responses.append((name, body))


def _decode_args(query: str, content_type: str, body: bytes) -> dict[str, Any]:
    """Arguments from the query string and a form or JSON body, as Slack accepts them."""
    args: dict[str, Any] = dict(parse_qsl(query))
    if content_type.split(";")[0].strip() == "application/json":
        args.update(json.loads(body or b"{}"))
    else:
        args.update(parse_qsl(body.decode()))
    if isinstance(args.get("blocks"), str):
        args["blocks"] = json.loads(args["blocks"])
    return args


def _handler_for(fake: FakeSlack) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            path = urlsplit(self.path)
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if path.path.startswith("/api/"):
                args = _decode_args(path.query, self.headers.get("Content-Type", ""), body)
                self._reply(*fake._api(path.path[5:], args, dict(self.headers.items())))
            elif path.path.startswith("/respond/"):
                fake._respond(path.path[9:], json.loads(body or b"{}"))
                self._reply(200, {}, {"ok": True})
            else:
                self._reply(404, {}, {"ok": False, "error": "not_found"})

        def do_GET(self) -> None:  # some methods (users.info) are read with GET
            path = urlsplit(self.path)
            if path.path.startswith("/api/"):
                args = _decode_args(path.query, "", b"")
                self._reply(*fake._api(path.path[5:], args, dict(self.headers.items())))
            else:
                self._reply(404, {}, {"ok": False, "error": "not_found"})

        def _reply(self, status: int, headers: dict[str, str], answer: dict[str, Any]) -> None:
            payload = json.dumps(answer).encode()
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # keep test output quiet

    return Handler


class _Socket:
    """Socket Mode's websocket, on an event loop of its own: Slack says hello, sends
    envelopes (a command, a tap) and waits for the app to acknowledge each by its id."""

    def __init__(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._runner: web.AppRunner | None = None
        self._ws: web.WebSocketResponse | None = None
        self._acks: dict[str, concurrent.futures.Future[dict[str, Any]]] = {}
        self.connections = 0
        self.port = 0

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/link"

    def start(self) -> None:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._serve(), self._loop).result(timeout=5)

    def stop(self) -> None:
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(5)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
        self._loop.close()

    def request(self, kind: str, payload: dict[str, Any],
                timeout: float = 5.0) -> dict[str, Any]:
        """Send one envelope (``slash_commands``, ``interactive``) to the connected app and
        return its acknowledgement; blocks, so call it from a thread in async tests."""
        envelope_id = uuid.uuid4().hex
        acked: concurrent.futures.Future[dict[str, Any]] = concurrent.futures.Future()
        self._acks[envelope_id] = acked
        envelope = {"envelope_id": envelope_id, "type": kind, "payload": payload,
                    "accepts_response_payload": kind == "slash_commands",
                    "retry_attempt": 0, "retry_reason": ""}
        asyncio.run_coroutine_threadsafe(self._send(envelope), self._loop).result(timeout)
        return acked.result(timeout)

    async def _send(self, envelope: dict[str, Any]) -> None:
        if self._ws is None:
            raise ConnectionError("no app is connected over Socket Mode")
        await self._ws.send_json(envelope)

    async def _serve(self) -> None:
        app = web.Application()
        app.router.add_get("/link", self._link)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        listening = socket.socket()
        listening.bind(("127.0.0.1", 0))
        self.port = listening.getsockname()[1]
        await web.SockSite(self._runner, listening).start()

    async def _link(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self._ws = ws
        self.connections += 1  # counted here, on this thread: callers wait for it
        await ws.send_json({"type": "hello", "num_connections": 1,
                            "connection_info": {"app_id": "A0001"}})
        async for message in ws:
            if message.type is WSMsgType.TEXT:
                data = json.loads(message.data)
                acked = self._acks.pop(data.get("envelope_id", ""), None)
                if acked is not None:
                    acked.set_result(data)
        return ws

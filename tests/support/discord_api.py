"""A local stand-in for Discord's REST API over real HTTP, for tests of the Discord adapter.

Point discord.py at it with ``monkeypatch.setattr(discord.http.Route, "BASE", fake.base)``
and ``await client.login(fake.token)``: discord.py then makes real requests and parses the
answers into its own objects, so every answer here carries the fields discord.py reads. Its
gateway is here too (``fake.gateway``, tests/support/discord_gateway.py): set
``discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY`` to ``yarl.URL(fake.gateway.url)``, as
discord.py 2.7's ``Client`` connects there without asking ``GET /gateway/bot`` (only the
sharded client asks; both routes answer with the stand-in's URL). On top of that it has the
behaviours of Discord the adapter must handle: bot-token authentication, HTTP 429 with
``retry_after``, users who closed their DMs (403, code 50007), DM channels it no longer
knows (404, code 10003), message edits, slash command registration (``tree.sync()``), and
the interaction endpoints (callbacks, followups, edits of the original response).

The server runs on the test's own event loop (aiohttp), so no locks are needed, and its
answers use ``Content-Type: application/json`` exactly: discord.py's ``json_or_text``
compares the whole header and treats anything else (even ``; charset=utf-8``) as text.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from tests.support.discord_gateway import FakeGateway

API = "/api/v10"
DISCORD_EPOCH_MS = 1420070400000  # snowflakes count milliseconds from 2015-01-01
EPHEMERAL, LOADING = 64, 128  # message flags
DM_ERRORS = {
    50007: "Cannot send messages to this user",
    50278: "Cannot send messages to this user due to having no mutual guilds",
}
ACKNOWLEDGED = "Interaction has already been acknowledged."
# Interaction callback types after which there is an original response to fetch or edit (for
# 6 and 7 it is the message the clicked component is on, which the fake makes up), and the
# interaction type each callback type implies (the fake never sees the interaction itself).
ORIGINAL_CALLBACKS = frozenset({4, 5, 6, 7})
INTERACTION_TYPE = {6: 3, 7: 3, 8: 4}  # component clicks and autocomplete; otherwise 2


@dataclasses.dataclass(frozen=True)
class Request:
    """One request as received: method, path under ``/api/v10`` and decoded JSON body."""

    method: str
    path: str
    json: Any
    limited: bool = False  # answered 429 by ``rate_limit``


@dataclasses.dataclass
class Message:
    """A channel message as it stands now; ``edits`` counts PATCHes on it."""

    id: str
    channel_id: str
    content: str
    components: list[Any]
    edits: int = 0
    embeds: list[Any] = dataclasses.field(default_factory=list)
    attachments: list[dict[str, Any]] = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class _Limit:
    method: str
    path_fragment: str
    left: int
    retry_after: float


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
BODY = web.RequestKey[Any]("body")  # the decoded JSON body, set by the middleware
FILES = web.RequestKey[list[web.FileField]]("files")  # uploads in a multipart body


class FakeDiscord:
    """Discord's REST API (``/api/v10``) on a loopback port.

    Messages may be sent to any channel id; the DM channel with a user is ``5000 + user id``,
    handed out by ``POST /users/@me/channels`` to users made known with ``add_user`` (after
    ``drop_dm_channel``, a new one).
    Interaction responses are recorded per interaction id (``callbacks``) and per token
    (``followups``, ``edits``); a followup or an edit before the callback is refused as
    Discord does, with "Unknown Webhook". Messages sent through interactions live in the
    channel ``interaction_channel_id`` (the fake never sees the interaction's channel).
    """

    def __init__(self, token: str = "fake-token") -> None:
        self.token = token
        self.application_id = 1000
        self.bot_id = 1001
        self.owner_id = 1002
        self.interaction_channel_id = "4000"
        self._users: dict[int, str] = {self.owner_id: "owner"}
        self._dm_channels: dict[str, int] = {}  # DM channel id -> user id
        self._gone: set[str] = set()  # channels Discord no longer knows
        self._closed: dict[int, int] = {}  # user id -> error code
        self._limits: list[_Limit] = []
        self._requests: list[Request] = []
        self._messages: list[Message] = []
        self._commands: dict[int | None, list[dict[str, Any]]] = {}  # guild id -> commands
        self._command_ids: dict[tuple[int | None, int, str], str] = {}  # kept across syncs
        self._callbacks: list[tuple[str, dict[str, Any]]] = []  # (interaction id, body)
        self._acknowledged: set[str] = set()  # tokens of answered interactions
        self._originals: dict[str, dict[str, Any]] = {}  # token -> original response
        self._followups: list[tuple[str, Any]] = []
        self._edits: list[tuple[str, Any]] = []
        self._last_id = 0
        self.gateway = FakeGateway(self)
        self._forbidden: dict[str, int] = {}  # channel id -> 403 code (50001, 50013)
        self._throttle: tuple[float, list[float]] | None = None  # requests a second
        self._app = web.Application(middlewares=[self._middleware])
        self._routes()
        self._runner: web.AppRunner | None = None
        self._port = 0

    @property
    def port(self) -> int:
        return self._port

    @property
    def base(self) -> str:
        """The value for ``discord.http.Route.BASE``."""
        return f"http://127.0.0.1:{self._port}{API}"

    async def start(self) -> FakeDiscord:
        self._runner = web.AppRunner(self._app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self._port = int(self._runner.addresses[0][1])
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeDiscord:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # Setting up Discord's behaviours.

    def add_user(self, user_id: int, name: str) -> None:
        """Make ``user_id`` known: fetchable, and someone a DM can be opened with."""
        self._users[user_id] = name

    def close_dms(self, user_id: int, code: int = 50007) -> None:
        """Refuse messages in ``user_id``'s DM channel with 403 and ``code``."""
        if code not in DM_ERRORS:
            raise ValueError(f"not an error code for a refused DM: {code}")
        self._closed[user_id] = code

    def drop_dm_channel(self, user_id: int) -> str:
        """Make Discord forget ``user_id``'s DM channel: messages to it are refused with 404
        "Unknown Channel" (10003), and opening a DM gives a new one. Returns the old id."""
        [channel_id] = [c for c, u in self._dm_channels.items()
                        if u == user_id and c not in self._gone]
        self._gone.add(channel_id)
        return channel_id

    def rate_limit(
        self, method: str, path_fragment: str, times: int = 1, retry_after: float = 0.05
    ) -> None:
        """Answer the next ``times`` ``method`` requests whose path (under ``/api/v10``, without
        the query) contains ``path_fragment`` with 429, as Discord does: a ``Via`` header
        (without one discord.py takes the 429 for a Cloudflare ban) and a JSON body with
        ``retry_after`` in seconds, which discord.py sleeps before it retries by itself."""
        self._limits.append(_Limit(method.upper(), path_fragment, times, retry_after))

    def forbid_channel(self, channel_id: str, code: int = 50001) -> None:
        """Refuse sends and edits in ``channel_id`` with 403 and ``code``: 50001 Missing
        Access (the bot was removed), 50013 Missing Permissions."""
        self._forbidden[channel_id] = code

    def throttle(self, per_second: float) -> None:
        """Enforce a global rate limit: past ``per_second`` requests in any second, answer
        429 with a ``retry_after`` until the oldest of them is a second old."""
        self._throttle = (per_second, [])

    # What the adapter did.

    def requests(self, method: str | None = None, path_fragment: str = "") -> list[Request]:
        return [
            r
            for r in self._requests
            if (method is None or r.method == method.upper()) and path_fragment in r.path
        ]

    def messages(self, channel_id: str | None = None) -> list[Message]:
        return [
            dataclasses.replace(m)
            for m in self._messages
            if channel_id is None or m.channel_id == channel_id
        ]

    def dm_messages(self, user_id: int) -> list[Message]:
        """What ``user_id`` was sent in DMs, in every DM channel they had."""
        channels = {c for c, u in self._dm_channels.items() if u == user_id}
        return [dataclasses.replace(m) for m in self._messages if m.channel_id in channels]

    def commands(self, guild_id: int | None = None) -> list[dict[str, Any]]:
        """The commands last synced globally, or to ``guild_id``, as Discord answered them."""
        return list(self._commands.get(guild_id, []))

    def callbacks(self, interaction_id: str | None = None) -> list[dict[str, Any]]:
        """Interaction responses as ``{"type": ..., "data": ...}`` (data None if not sent)."""
        return [b for i, b in self._callbacks if interaction_id is None or i == interaction_id]

    def followups(self, token: str | None = None) -> list[Any]:
        """Bodies of followup messages (``POST /webhooks/{app}/{token}``)."""
        return [b for t, b in self._followups if token is None or t == token]

    def edits(self, token: str | None = None) -> list[Any]:
        """Bodies of edits to the original response (``PATCH .../messages/@original``)."""
        return [b for t, b in self._edits if token is None or t == token]


    # Interactions, as Discord delivers them (``fake.gateway.interact(payload)``).

    def interaction(self, user_id: int, kind: int, data: dict[str, Any],
                    **extra: Any) -> dict[str, Any]:
        """An INTERACTION_CREATE's payload: ``user_id`` ran a command (``kind`` 2) or tapped
        a button (3), in a DM with the bot; the shape discord.py's parser reads."""
        number = int(self._snowflake())
        return {
            "id": str(number), "application_id": str(self.application_id), "type": kind,
            "token": f"token-{number}", "version": 1, "data": data,
            "channel_id": self.interaction_channel_id,
            "channel": {"id": self.interaction_channel_id, "type": 1},
            "user": self.user_object(user_id), "locale": "en-US", "app_permissions": "0",
            "attachment_size_limit": 8 * 1024 * 1024, "entitlements": [],
            "authorizing_integration_owners": {}, "context": 1, **extra}

    def command_interaction(self, user_id: int, *path: str, **options: Any) -> dict[str, Any]:
        """``/attend <path...>`` with typed options (strings, booleans, or users given as
        ``("user", id)``)."""
        resolved: dict[str, Any] = {}
        typed = []
        for name, value in options.items():
            if isinstance(value, tuple) and value[0] == "user":
                typed.append({"type": 6, "name": name, "value": str(value[1])})
                resolved.setdefault("users", {})[str(value[1])] = self.user_object(value[1])
            elif isinstance(value, bool):
                typed.append({"type": 5, "name": name, "value": value})
            else:
                typed.append({"type": 3, "name": name, "value": value})
        node: dict[str, Any] = {"type": 1, "name": path[-1], "options": typed}
        if len(path) == 2:
            node = {"type": 2, "name": path[0], "options": [node]}
        data = {"id": "1", "name": "attend", "type": 1, "options": [node],
                **({"resolved": resolved} if resolved else {})}
        return self.interaction(user_id, 2, data)

    def tap_interaction(self, user_id: int, message: Message, ending: str) -> dict[str, Any]:
        """A tap on the button of ``message`` whose custom id ends with ``ending``."""
        [custom_id] = [button["custom_id"] for row in message.components
                       for button in row["components"] if button["custom_id"].endswith(ending)]
        return self.interaction(user_id, 3, {"custom_id": custom_id, "component_type": 2},
                                message=self.message_object(message))

    # The API, on the server.

    def _routes(self) -> None:
        app, hook = r"/applications/{app_id:\d+}", r"/webhooks/{app_id:\d+}/{token}"
        r = self._app.router
        r.add_get(f"{API}/users/@me", self._me)
        r.add_get(API + r"/users/{user_id:\d+}", self._user)
        r.add_post(f"{API}/users/@me/channels", self._open_dm)
        r.add_get(f"{API}/oauth2/applications/@me", self._application)
        r.add_post(API + r"/channels/{channel_id:\d+}/messages", self._send)
        r.add_patch(API + r"/channels/{channel_id:\d+}/messages/{message_id:\d+}", self._edit)
        for path in (f"{app}/commands", app + r"/guilds/{guild_id:\d+}/commands"):
            r.add_get(API + path, self._get_commands)
            r.add_put(API + path, self._put_commands)
        r.add_post(API + r"/interactions/{interaction_id:\d+}/{token}/callback", self._callback)
        r.add_post(API + hook, self._followup)
        r.add_get(API + hook + "/messages/@original", self._original)
        r.add_patch(API + hook + "/messages/@original", self._edit_original)
        r.add_get(f"{API}/gateway", self._gateway)
        r.add_get(f"{API}/gateway/bot", self._gateway_bot)
        r.add_get("/gateway", self.gateway.handle)  # the websocket (discord_gateway.py)

    async def _gateway(self, request: web.Request) -> web.Response:
        """Where the gateway is: the stand-in's websocket on this port."""
        return _answer(200, {"url": self.gateway.url})

    async def _gateway_bot(self, request: web.Request) -> web.Response:
        return _answer(200, {"url": self.gateway.url, "shards": 1,
                             "session_start_limit": {"total": 1000, "remaining": 1000,
                                                     "reset_after": 0,
                                                     "max_concurrency": 1}})

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """Record the request, then answer in Discord's order: auth, rate limit, the route."""
        if not request.path.startswith(API):  # the gateway's websocket
            return await handler(request)
        path = request.path.removeprefix(API)
        body, files = await _decode(request)
        request[BODY], request[FILES] = body, files
        # Webhook and interaction endpoints are authorised by the token in their path; where
        # the gateway is, is no secret.
        needs_auth = not (path.startswith(("/webhooks/", "/interactions/")) or path == "/gateway")
        if needs_auth and request.headers.get("Authorization") != f"Bot {self.token}":
            self._requests.append(Request(request.method, path, body))
            return _answer(401, {"message": "401: Unauthorized", "code": 0})
        limit = next(
            (
                lim
                for lim in self._limits
                if lim.left > 0 and lim.method == request.method and lim.path_fragment in path
            ),
            None,
        )
        throttled = self._over_throttle() if limit is None else None
        if throttled is not None:
            limit = _Limit(request.method, path, 1, throttled)
        self._requests.append(Request(request.method, path, body, limited=limit is not None))
        if limit is not None:
            limit.left -= 1
            headers = {"Via": "1.1 google", "Retry-After": str(int(limit.retry_after) + 1)}
            message = {"message": "You are being rate limited.", "global": False}
            return _answer(429, {**message, "retry_after": limit.retry_after}, headers)
        try:
            return await handler(request)
        except web.HTTPException as error:  # no such route, or not with this method
            status = error.status
            return _answer(status, {"message": f"{status}: {error.reason}", "code": 0})

    def _over_throttle(self) -> float | None:
        """Seconds to wait if the global limit is spent, else None (and the request counts)."""
        if self._throttle is None:
            return None
        per_second, times = self._throttle
        now = time.monotonic()
        times[:] = [t for t in times if now - t < 1.0]
        if len(times) >= per_second:
            return round(1.0 - (now - times[0]), 3) + 0.001
        times.append(now)
        return None

    async def _me(self, request: web.Request) -> web.Response:
        return _answer(200, {**self.user_object(self.bot_id), "verified": True, "flags": 0})

    async def _user(self, request: web.Request) -> web.Response:
        user_id = int(request.match_info["user_id"])
        if user_id not in self._users:
            return _answer(404, {"code": 10013, "message": "Unknown User"})
        return _answer(200, self.user_object(user_id))

    async def _open_dm(self, request: web.Request) -> web.Response:
        user_id = int((request[BODY] or {}).get("recipient_id", 0))
        if user_id not in self._users:
            return _answer(404, {"code": 10013, "message": "Unknown User"})
        known = [c for c, u in self._dm_channels.items() if u == user_id and c not in self._gone]
        channel_id = known[0] if known else str(5000 + user_id)
        if channel_id in self._gone:
            channel_id = self._snowflake()
        self._dm_channels[channel_id] = user_id
        return _answer(
            200,
            {
                "id": channel_id,
                "type": 1,
                "recipients": [self.user_object(user_id)],
                "last_message_id": None,
                "flags": 0,
            },
        )

    async def _application(self, request: web.Request) -> web.Response:
        return _answer(
            200,
            {
                "id": str(self.application_id),
                "name": "attend",
                "description": "",
                "icon": None,
                "rpc_origins": [],
                "bot_public": False,
                "bot_require_code_grant": False,
                "bot": self.user_object(self.bot_id),
                "owner": self.user_object(self.owner_id),
                "team": None,
                "summary": "",
                "verify_key": "0" * 64,
                "flags": 0,
                "interactions_endpoint_url": None,  # set, discord.py warns it gets no events
                "redirect_uris": [],
                "tags": [],
            },
        )

    async def _send(self, request: web.Request) -> web.Response:
        channel_id, body = request.match_info["channel_id"], request[BODY] or {}
        if channel_id in self._gone:
            return _answer(404, {"code": 10003, "message": "Unknown Channel"})
        if channel_id in self._forbidden:
            return _forbidden(self._forbidden[channel_id])
        user_id = self._dm_channels.get(channel_id)
        if user_id in self._closed:
            code = self._closed[user_id]
            return _answer(403, {"code": code, "message": DM_ERRORS[code]})
        message = Message(
            self._snowflake(),
            channel_id,
            body.get("content") or "",
            body.get("components") or [],
            embeds=body.get("embeds") or [],
            attachments=[self._attachment(f) for f in request[FILES]],
        )
        self._messages.append(message)
        return _answer(200, self.message_object(message))

    async def _edit(self, request: web.Request) -> web.Response:
        channel_id, message_id = request.match_info["channel_id"], request.match_info["message_id"]
        if channel_id in self._forbidden:
            return _forbidden(self._forbidden[channel_id])
        found = [m for m in self._messages if (m.channel_id, m.id) == (channel_id, message_id)]
        if not found:
            return _answer(404, {"code": 10008, "message": "Unknown Message"})
        message, body = found[0], request[BODY] or {}
        if "content" in body:
            message.content = body["content"] or ""
        if "components" in body:
            message.components = body["components"] or []
        if "embeds" in body:
            message.embeds = body["embeds"] or []
        message.edits += 1
        return _answer(200, self.message_object(message))

    async def _get_commands(self, request: web.Request) -> web.Response:
        if int(request.match_info["app_id"]) != self.application_id:
            return _answer(404, {"code": 10002, "message": "Unknown Application"})
        guild_id = request.match_info.get("guild_id")
        return _answer(200, self.commands(int(guild_id) if guild_id else None))

    async def _put_commands(self, request: web.Request) -> web.Response:
        """Bulk overwrite, as ``tree.sync()`` does: a command keeps its id across syncs."""
        if int(request.match_info["app_id"]) != self.application_id:
            return _answer(404, {"code": 10002, "message": "Unknown Application"})
        raw_guild = request.match_info.get("guild_id")
        guild_id = int(raw_guild) if raw_guild else None
        commands = []
        for sent in request[BODY] or []:
            key = (guild_id, sent.get("type", 1), sent["name"])
            command_id = self._command_ids.setdefault(key, self._snowflake())
            command = {
                "options": [],
                "default_member_permissions": None,
                "nsfw": False,
                "name_localizations": None,
                "description_localizations": None,
                **sent,
                "id": command_id,
                "application_id": str(self.application_id),
                "type": sent.get("type", 1),
                "description": sent.get("description", ""),
                "version": self._snowflake(),
            }
            if guild_id is None:
                command.setdefault("dm_permission", True)
            else:
                command["guild_id"] = str(guild_id)
                command.pop("dm_permission", None)  # meaningless for guild commands
            commands.append(command)
        self._commands[guild_id] = commands
        return _answer(200, commands)

    async def _callback(self, request: web.Request) -> web.Response:
        interaction_id, token = request.match_info["interaction_id"], request.match_info["token"]
        if token in self._acknowledged:
            return _answer(400, {"code": 40060, "message": ACKNOWLEDGED})
        self._acknowledged.add(token)
        body = request[BODY] or {}
        kind: int = body.get("type", 0)
        data = body.get("data")
        self._callbacks.append((interaction_id, {"type": kind, "data": data}))
        interaction: dict[str, Any] = {"id": interaction_id, "type": INTERACTION_TYPE.get(kind, 2)}
        answer: dict[str, Any] = {"interaction": interaction}
        if kind in ORIGINAL_CALLBACKS:
            data = data or {}
            flags = data.get("flags", 0) | (LOADING if kind == 5 else 0)
            original = self._originals[token] = self._interaction_message(data, flags)
            interaction["response_message_id"] = original["id"]
            interaction["response_message_loading"] = kind == 5
            interaction["response_message_ephemeral"] = bool(flags & EPHEMERAL)
            if kind != 6:
                answer["resource"] = {"type": kind, "message": original}
        if request.query.get("with_response") not in ("1", "true", "True"):
            return web.Response(status=204)
        return _answer(200, answer)

    async def _followup(self, request: web.Request) -> web.Response:
        refused = self._check_webhook(request)
        if refused is not None:
            return refused
        body = request[BODY] or {}
        self._followups.append((request.match_info["token"], body))
        if request.query.get("wait") not in ("1", "true", "True"):
            return web.Response(status=204)
        return _answer(200, self._interaction_message(body, body.get("flags", 0)))

    async def _original(self, request: web.Request) -> web.Response:
        refused = self._check_webhook(request, original=True)
        return refused or _answer(200, self._originals[request.match_info["token"]])

    async def _edit_original(self, request: web.Request) -> web.Response:
        refused = self._check_webhook(request, original=True)
        if refused is not None:
            return refused
        token, body = request.match_info["token"], request[BODY] or {}
        self._edits.append((token, body))
        original = self._originals[token]
        if "content" in body:
            original["content"] = body["content"] or ""
        for field in ("components", "embeds"):
            if field in body:
                original[field] = body[field] or []
        original["flags"] &= ~LOADING
        original["edited_timestamp"] = _iso(time.time())
        return _answer(200, original)

    def _check_webhook(self, request: web.Request, original: bool = False) -> web.Response | None:
        """Discord knows an interaction's webhook only once the interaction was answered,
        and its original response only if the answer left a message."""
        token = request.match_info["token"]
        if int(request.match_info["app_id"]) != self.application_id or (
            token not in self._acknowledged
        ):
            return _answer(404, {"code": 10015, "message": "Unknown Webhook"})
        if original and token not in self._originals:
            return _answer(404, {"code": 10008, "message": "Unknown Message"})
        return None

    # Discord's objects.

    def _snowflake(self) -> str:
        """A fresh id that, like Discord's, encodes the time it was made."""
        now = (int(time.time() * 1000) - DISCORD_EPOCH_MS) << 22
        self._last_id = max(now, self._last_id + 1)
        return str(self._last_id)

    def user_object(self, user_id: int) -> dict[str, Any]:
        """A user as Discord sends it (also in the interactions tests build)."""
        is_bot = user_id == self.bot_id
        return {
            "id": str(user_id),
            "username": "attend" if is_bot else self._users[user_id],
            "discriminator": "0",
            "global_name": None if is_bot else self._users[user_id],
            "avatar": None,
            "bot": is_bot,
            "system": False,
            "public_flags": 0,
        }

    def message_object(self, message: Message) -> dict[str, Any]:
        """A stored message as Discord sends it (also as the message a tap comes from)."""
        return {
            "id": message.id,
            "channel_id": message.channel_id,
            "type": 0,
            "author": self.user_object(self.bot_id),
            "content": message.content,
            "components": message.components,
            "embeds": message.embeds,
            "attachments": message.attachments,
            "mentions": [],
            "mention_roles": [],
            "mention_everyone": False,
            "pinned": False,
            "tts": False,
            "flags": 0,
            "timestamp": _iso(_seconds(message.id)),
            "edited_timestamp": _iso(time.time()) if message.edits else None,
        }

    def _interaction_message(self, data: dict[str, Any], flags: int) -> dict[str, Any]:
        """A message sent through an interaction's webhook: by the application, as Discord
        marks it, in ``interaction_channel_id``."""
        message = Message(
            self._snowflake(),
            self.interaction_channel_id,
            data.get("content") or "",
            data.get("components") or [],
            embeds=data.get("embeds") or [],
        )
        return {
            **self.message_object(message),
            "webhook_id": str(self.application_id),
            "application_id": str(self.application_id),
            "flags": flags,
        }

    def _attachment(self, upload: web.FileField) -> dict[str, Any]:
        attachment_id = self._snowflake()
        url = f"http://127.0.0.1:{self._port}/attachments/{attachment_id}/{upload.filename}"
        return {
            "id": attachment_id,
            "filename": upload.filename,
            "size": len(upload.file.read()),
            "url": url,
            "proxy_url": url,
            "content_type": upload.content_type,
        }


async def _decode(request: web.Request) -> tuple[Any, list[web.FileField]]:
    """The JSON body, from JSON or from multipart's ``payload_json`` (sent with files)."""
    if request.content_type == "multipart/form-data":
        form = await request.post()
        files = [v for v in form.values() if isinstance(v, web.FileField)]
        return json.loads(str(form.get("payload_json", "null"))), files
    raw = await request.read()
    return (json.loads(raw) if raw else None), []


def _forbidden(code: int) -> web.Response:
    reason = {50001: "Missing Access", 50013: "Missing Permissions"}.get(code, "Forbidden")
    return _answer(403, {"code": code, "message": reason})


def _answer(status: int, body: Any, headers: dict[str, str] | None = None) -> web.Response:
    """A JSON answer with exactly ``Content-Type: application/json``, as discord.py expects."""
    return web.Response(
        status=status,
        body=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", **(headers or {})},
    )


def _seconds(snowflake: str) -> float:
    return ((int(snowflake) >> 22) + DISCORD_EPOCH_MS) / 1000


def _iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).isoformat()

"""The Slack app: ``/attend`` commands, DM button taps and the App Home, over HTTP on the web
app.

Slack posts all of them to ``/slack/events`` (the request URL in ``manifest.yaml``; the
App Home's events too, see :mod:`bot.slack.home`). slack-bolt checks each request's
signature and age and answers 401 to anything else, before any of this code runs. Slack
wants an answer within 3 seconds:

- ``/attend ...``: the same grammar as the console, run in a worker thread. A reply ready
  in time goes back in the acknowledgement; a slower one (a check for a big team, say) is
  acknowledged with "Working on it" and posted to the command's ``response_url`` when done.
  Replies are ephemeral: only the person who typed the command sees them.
- A tap on Yes / No / Maybe: recorded, then acknowledged (or acknowledged first, if
  recording takes longer than the budget), and the DM is replaced with the answer, the
  counts and the buttons to change it. A refusal (answers closed, no longer on the team)
  comes back as a note only the tapper sees; the DM stays as it was.

With an app-level token the same requests come over Socket Mode instead (see
:func:`socket_mode`): no public address needed, for one workspace.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot import grammar
from bot.commands import CommandRunner
from bot.config import SlackConfig
from bot.edits import slack as board_taps
from bot.links import BoardLinks
from bot.slack import messages
from bot.slack.channel import BotToken, SlackChannel
from bot.slack.home import Home, HomeViews, register_home
from bot.slack.installations import Installations
from bot.slack.taps import record_tap
from bot.team_channel import Place
from core.actors import Actor
from core.errors import ConfigError, DomainError
from core.service import AttendService

log = logging.getLogger(__name__)

ACK_BUDGET_S = 2.0  # Slack gives 3 s; keep one for the network
ZONE_WAIT_S = 1.0  # for users.info, inside that budget
INSTALL_PATH, REDIRECT_PATH = "/slack/install", "/slack/oauth_redirect"
SCOPES = ["commands", "chat:write", "im:write", "users:read"]  # as in manifest.yaml
_TAP = re.compile(rf"^{messages.ACTION_PREFIX}(yes|no|maybe)$")


def slack_client(config: SlackConfig) -> AsyncWebClient:
    return AsyncWebClient(token=config.bot_token, base_url=config.api_url, timeout=10)


def bot_tokens(config: SlackConfig, installations: Installations | None) -> BotToken:
    """The configured bot token, or each workspace's own installation's."""
    if installations is not None:
        return installations.bot_token

    async def configured(_workspace: str) -> str | None:
        return config.bot_token

    return configured


def slack_channel(config: SlackConfig, installations: Installations | None, *,
                  boards: BoardLinks | None = None) -> SlackChannel:
    """DMs with the configured bot token, or with each workspace's own installation."""
    return SlackChannel(slack_client(config), bot_tokens(config, installations),
                        boards=boards)


def slack_home(config: SlackConfig, service: AttendService, views: HomeViews, *,
               clock: Callable[[], datetime], installations: Installations | None = None,
               boards: BoardLinks | None = None) -> Home:
    """Publishes players' App Homes (give it to :func:`slack_app`)."""
    return Home(service, slack_client(config), bot_tokens(config, installations), views,
                clock=clock, boards=boards)


def slack_app(config: SlackConfig, service: AttendService, *, clock: Callable[[], datetime],
              base_url: str = "", installations: Installations | None = None,
              boards: BoardLinks | None = None, default_timezone: str = "UTC",
              ack_budget: float = ACK_BUDGET_S, home: Home | None = None) -> AsyncApp:
    """The app for one workspace (a bot token), or, given ``installations``, for every
    workspace that installs it from ``base_url``/slack/install; with ``home``, players'
    App Homes too (see :mod:`bot.slack.home`)."""
    if not config.socket_mode and not config.signing_secret:
        raise ConfigError("Slack over HTTPS needs ATTEND_SLACK_SIGNING_SECRET: without it "
                          "anyone could post as Slack")
    runner = CommandRunner(service, clock=clock, default_timezone=default_timezone,
                           boards=boards)
    oauth = None
    if installations is not None:
        assert config.client_id and config.client_secret
        oauth = AsyncOAuthSettings(
            client_id=config.client_id, client_secret=config.client_secret, scopes=SCOPES,
            installation_store=installations, installation_store_bot_only=True,
            state_store=installations.states,
            redirect_uri=f"{base_url.rstrip('/')}{REDIRECT_PATH}",
            install_path=INSTALL_PATH, redirect_uri_path=REDIRECT_PATH)
    if installations is not None:
        unauthorized = ("Attend isn't installed in this Slack workspace, or its installation "
                        f"was removed. Install it from {base_url.rstrip('/')}{INSTALL_PATH}")
    else:
        unauthorized = ("Slack refused Attend's bot token, so Attend can't act here. Ask "
                        "whoever runs Attend to check ATTEND_SLACK_BOT_TOKEN.")
    # AsyncApp checks a token (auth.test) at the first request, not at start-up.
    bolt = AsyncApp(client=slack_client(config), signing_secret=config.signing_secret,
                    oauth_settings=oauth, user_facing_authorize_error_message=unauthorized)

    @bolt.command("/attend")
    async def command(ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond,
                      client: AsyncWebClient) -> None:
        actor = Actor.slack(body["team_id"], body["user_id"], name=body.get("user_name"))
        line = f"/attend {body.get('text') or 'help'}"
        zone = await _their_timezone(client, body["user_id"]) if _names_no_zone(line) else None
        channel = str(body.get("channel_id") or "")
        place = Place(platform="slack", channel_id=f"{body['team_id']}:{channel}",
                      direct=channel.startswith("D")
                      or body.get("channel_name") == "directmessage") if channel else None
        work = asyncio.ensure_future(asyncio.to_thread(runner.run, actor, line, timezone=zone,
                                                       place=place))
        done, _ = await asyncio.wait({work}, timeout=ack_budget)
        if work in done:
            await ack(text=messages.escape(work.result().text), response_type="ephemeral")
            return
        await ack(text="Working on it…", response_type="ephemeral")
        reply = await work
        await respond(text=messages.escape(reply.text), response_type="ephemeral")

    @bolt.action(_TAP)
    async def tap(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any],
                  respond: AsyncRespond) -> None:
        result = await record_tap(service, body, action, prefix=messages.ACTION_PREFIX,
                                  ack=ack, ack_budget=ack_budget)
        if isinstance(result, DomainError):
            await respond(text=messages.escape(str(result)), response_type="ephemeral",
                          replace_original=False)
            return
        text, blocks = messages.answered(result)
        await respond(text=text, blocks=blocks, replace_original=True)

    if home is not None:
        register_home(bolt, home, ack_budget=ack_budget)
    board_taps.register(bolt, service, ack_budget=ack_budget)  # the channel's board (16.2)
    return bolt


def _names_no_zone(line: str) -> bool:
    """Whether ``line`` creates a team without saying its time zone."""
    try:
        command = grammar.parse(line)
    except grammar.GrammarError:
        return False
    return isinstance(command, grammar.CreateTeam) and command.timezone is None


async def _their_timezone(client: AsyncWebClient, user: str) -> str | None:
    """The time zone Slack has for ``user`` (``users:read``); None if Slack won't say."""
    try:
        found = await asyncio.wait_for(client.users_info(user=user), ZONE_WAIT_S)
    except (SlackApiError, TimeoutError, aiohttp.ClientError) as error:
        log.warning("could not read %s's time zone from Slack (%s); a new team gets UTC "
                    "until a captain changes it", user, error)
        return None
    user_data: Any = found.get("user") or {}
    zone = user_data.get("tz")
    return zone if isinstance(zone, str) and zone else None


def routes(bolt: AsyncApp) -> list[web.RouteDef]:
    """``POST /slack/events``: slash commands and interactivity, one request URL; and,
    when workspaces install Attend, ``GET /slack/install`` (the "Add to Slack" page) and
    ``GET /slack/oauth_redirect`` (where Slack sends the installer back)."""
    async def events(request: web.Request) -> web.StreamResponse:
        response = await bolt.async_dispatch(await to_bolt_request(request))
        return await to_aiohttp_response(response)

    found = [web.post("/slack/events", events)]
    flow = bolt.oauth_flow
    if flow is not None:
        async def install(request: web.Request) -> web.StreamResponse:
            return await to_aiohttp_response(
                await flow.handle_installation(await to_bolt_request(request)))

        async def redirected(request: web.Request) -> web.StreamResponse:
            return await to_aiohttp_response(
                await flow.handle_callback(await to_bolt_request(request)))

        found += [web.get(INSTALL_PATH, install), web.get(REDIRECT_PATH, redirected)]
    return found


def socket_mode(bolt: AsyncApp, config: SlackConfig) -> AsyncSocketModeHandler:
    """Slack's requests over a websocket Attend opens (``connect_async`` keeps it open,
    reconnecting by itself), instead of HTTPS posts to ``/slack/events``."""
    assert config.app_token is not None
    return AsyncSocketModeHandler(bolt, config.app_token)


async def say_who_we_are(config: SlackConfig) -> None:
    """At start, with one workspace: check the bot token with Slack and log the result, so
    a wrong token shows up in the log now, not at a captain's first command."""
    if config.bot_token is None:
        return
    try:
        found = await asyncio.wait_for(slack_client(config).auth_test(), 10)
    except SlackApiError as error:
        log.error("Slack refused ATTEND_SLACK_BOT_TOKEN (%s): copy the bot token again from "
                  "the app's OAuth & Permissions page", error.response.get("error"))
    except (TimeoutError, aiohttp.ClientError) as error:
        log.warning("could not reach Slack to check the bot token (%s); commands will try "
                    "again", error)
    else:
        log.info("Slack: signed in as %s in workspace %s (%s)", found.get("user"),
                 found.get("team"), found.get("team_id"))

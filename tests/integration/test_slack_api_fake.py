"""The Slack Web API fake (tests/support/slack_api.py) answers slack-sdk's real client as
Slack does."""

import asyncio
import json
from collections.abc import Iterator

import aiohttp
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from tests.support.slack_api import FakeSlack
from tests.support.waiting import eventually

BLOCKS = [{"type": "section", "text": {"type": "mrkdwn", "text": "Coming on *Sunday*?"}}]


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    with FakeSlack() as running:
        yield running


def client_for(fake: FakeSlack, token: str = "xoxb-test") -> AsyncWebClient:
    return AsyncWebClient(token=token, base_url=fake.url)


async def test_auth_test_names_the_bot_and_team(fake: FakeSlack) -> None:
    answer = await client_for(fake).auth_test()
    assert (answer["team_id"], answer["user_id"], answer["bot_id"]) == ("T0001", "UBOT", "BBOT")


async def test_a_dm_is_opened_then_posted_to_and_stored_with_its_blocks(fake: FakeSlack) -> None:
    client = client_for(fake)
    opened = await client.conversations_open(users="U1")
    channel = opened["channel"]["id"]
    first = await client.chat_postMessage(channel=channel, text="Coming?", blocks=BLOCKS)
    second = await client.chat_postMessage(channel=channel, text="Still coming?")

    assert first["channel"] == channel == "DU1"
    assert float(second["ts"]) > float(first["ts"])
    assert first["message"]["blocks"] == BLOCKS
    [stored, _] = fake.dm("U1")
    assert (stored.ts, stored.text, stored.blocks) == (first["ts"], "Coming?", BLOCKS)
    assert fake.calls("chat.postMessage")[0].args["blocks"] == BLOCKS


async def test_form_encoded_arguments_are_decoded_like_json_ones(fake: FakeSlack) -> None:
    client = client_for(fake)
    await client.conversations_open(users="U1")
    form = {"channel": "DU1", "text": "Coming?", "blocks": json.dumps(BLOCKS)}
    await client.api_call("chat.postMessage", data=form)
    assert fake.dm("U1")[0].blocks == BLOCKS


async def test_posting_needs_an_opened_dm_and_some_text(fake: FakeSlack) -> None:
    client = client_for(fake)
    with pytest.raises(SlackApiError) as never_opened:
        await client.chat_postMessage(channel="DU2", text="Coming?")
    await client.conversations_open(users="U2")
    with pytest.raises(SlackApiError) as empty, pytest.warns(UserWarning):
        await client.chat_postMessage(channel="DU2")
    assert never_opened.value.response["error"] == "channel_not_found"
    assert empty.value.response["error"] == "no_text"
    assert fake.messages() == []


async def test_a_wrong_or_missing_token_is_refused(fake: FakeSlack) -> None:
    with pytest.raises(SlackApiError) as wrong:
        await client_for(fake, token="xoxb-wrong").auth_test()
    with pytest.raises(SlackApiError) as missing:
        await AsyncWebClient(base_url=fake.url).auth_test()
    assert wrong.value.response.status_code == 200
    assert wrong.value.response["error"] == "invalid_auth"
    assert missing.value.response["error"] == "not_authed"


async def test_a_rate_limited_call_gets_429_with_retry_after_then_the_next_succeeds(
    fake: FakeSlack,
) -> None:
    fake.rate_limit("chat.postMessage", retry_after=3)
    client = client_for(fake)
    with pytest.raises(SlackApiError) as limited:
        await client.chat_postMessage(channel="C1", text="Coming?")
    assert limited.value.response.status_code == 429
    assert limited.value.response.headers["Retry-After"] == "3"
    assert limited.value.response["error"] == "ratelimited"

    await client.chat_postMessage(channel="C1", text="Coming?")
    assert [c.limited for c in fake.calls("chat.postMessage")] == [True, False]
    assert len(fake.messages("C1")) == 1


async def test_a_disabled_user_cannot_be_dmed(fake: FakeSlack) -> None:
    fake.refuse_dm("U3", "user_disabled")
    with pytest.raises(SlackApiError) as refused:
        await client_for(fake).conversations_open(users="U3")
    assert refused.value.response["error"] == "user_disabled"


async def test_a_closed_messages_tab_fails_at_posting_not_at_opening(fake: FakeSlack) -> None:
    fake.refuse_dm("U4", "messages_tab_disabled")
    client = client_for(fake)
    opened = await client.conversations_open(users="U4")
    with pytest.raises(SlackApiError) as refused:
        await client.chat_postMessage(channel=opened["channel"]["id"], text="Coming?")
    assert refused.value.response["error"] == "messages_tab_disabled"
    assert fake.dm("U4") == []


async def test_chat_update_changes_the_stored_message(fake: FakeSlack) -> None:
    client = client_for(fake)
    await client.conversations_open(users="U5")
    posted = await client.chat_postMessage(channel="DU5", text="Coming?", blocks=BLOCKS)
    updated = await client.chat_update(channel="DU5", ts=posted["ts"], text="You are in.")
    with pytest.raises(SlackApiError) as unknown:
        await client.chat_update(channel="DU5", ts="1.000000", text="Nope")

    assert updated["text"] == "You are in."
    [stored] = fake.dm("U5")
    assert (stored.text, stored.blocks, stored.updates) == ("You are in.", BLOCKS, 1)
    assert unknown.value.response["error"] == "message_not_found"


async def test_a_post_to_a_response_url_is_recorded(fake: FakeSlack) -> None:
    reply = {"text": "Noted.", "replace_original": True, "response_type": "ephemeral"}

    async def respond() -> int:
        async with (
            aiohttp.ClientSession() as session,
            session.post(fake.response_url("r1"), json=reply) as answer,
        ):
            assert await answer.json() == {"ok": True}
            return answer.status

    background = asyncio.create_task(respond())  # as the adapter does, off the request path
    assert await eventually(lambda: fake.responses("r1"))
    assert await background == 200
    assert fake.responses("r1") == [reply]
    assert fake.responses("other") == []


async def test_unknown_methods_are_refused(fake: FakeSlack) -> None:
    with pytest.raises(SlackApiError) as unknown:
        await client_for(fake).api_call("chat.nothing")
    assert unknown.value.response["error"] == "unknown_method"

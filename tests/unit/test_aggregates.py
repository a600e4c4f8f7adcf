"""The router's and the store's view of the aggregates: lists read off the message unions.

Each aggregate names its commands and events once, as the union types ``decide`` and
``evolve`` take; the router's map and the registry of stored names are read off those unions.
These tests catch a message class written but left out of its union, and a stored name that
would change under data already written.
"""

from __future__ import annotations

import dataclasses
import inspect
from types import ModuleType
from typing import Any

import pytest

from core.aggregates import Aggregate, check, game, team
from core.aggregates.check import commands as check_commands
from core.aggregates.check import events as check_events
from core.aggregates.game import commands as game_commands
from core.aggregates.game import events as game_events
from core.aggregates.registry import AGGREGATES, register_domain_messages
from core.aggregates.team import commands as team_commands
from core.aggregates.team import events as team_events
from core.messages import MessageRegistry

# (aggregate, its commands module, its events module, the identity field of its commands)
PACKAGES: list[tuple[Aggregate[Any], ModuleType, ModuleType, str]] = [
    (team.TEAM, team_commands, team_events, "team_id"),
    (game.GAME, game_commands, game_events, "game_id"),
    (check.CHECK, check_commands, check_events, "check_id"),
]
IDS = [aggregate.name for aggregate, *_ in PACKAGES]

# Stored names of events already written somewhere: renaming a class must not change them.
STORED_EVENT_NAMES = {
    "team": [
        "TeamRegistered", "TeamRenamed", "PlayerJoinedTeam", "PlayerContactUpdated",
        "PlayerLeftTeam", "CaptainAppointed", "CaptainRelieved", "TeamSettingsChanged",
        "TeamAttendanceRequested", "EmailUnsubscribed", "EmailResubscribed",
        "ContactMarkedUnreachable", "PlayerReserveSet", "TeamChannelBound",
        "TeamChannelUnbound",
    ],
    "game": [
        "GameScheduled", "GameRescheduled", "GameCancelled", "GameStarted", "GameEnded",
        "AttendanceCheckStarted",
    ],
    "check": [
        "CheckOpened", "PlayerInvited", "InvitationWithdrawn", "AnswerRecorded",
        "PlayerWaitlisted", "PlayerPromoted", "CheckReachedMinimum", "CheckBelowMinimum",
        "LateDropOut", "RemindersRequested", "MinimumChecked", "CheckMoved",
        "AnswerDeadlineSet", "AnswerDeadlineCleared", "CheckClosed", "MessageDelivered",
        "DeliveryFailed", "ReserveListed", "ReservesAsked", "ReserveSteppedIn",
        "ReservesReleased",
    ],
}


def messages_defined_in(module: ModuleType) -> set[type]:
    return {cls for _, cls in inspect.getmembers(module, inspect.isclass)
            if dataclasses.is_dataclass(cls) and cls.__module__ == module.__name__}


@pytest.fixture(scope="module")
def registry() -> MessageRegistry:
    registry = MessageRegistry()
    register_domain_messages(registry)
    return registry


@pytest.mark.parametrize(("aggregate", "commands", "events", "identity"), PACKAGES, ids=IDS)
def test_every_command_written_routes_to_its_aggregate_by_its_identity(
        aggregate: Aggregate[Any], commands: ModuleType, events: ModuleType,
        identity: str) -> None:
    assert set(aggregate.commands) == messages_defined_in(commands)
    for command_type, field in aggregate.commands.items():
        assert field == identity
        assert identity in {f.name for f in dataclasses.fields(command_type)}


@pytest.mark.parametrize(("aggregate", "commands", "events", "identity"), PACKAGES, ids=IDS)
def test_every_event_written_is_registered_under_a_stable_name(
        registry: MessageRegistry, aggregate: Aggregate[Any], commands: ModuleType,
        events: ModuleType, identity: str) -> None:
    assert set(aggregate.events) == messages_defined_in(events)
    stored = STORED_EVENT_NAMES[aggregate.name]
    assert [registry.named(name).cls for name in stored] == list(aggregate.events)


def test_no_message_belongs_to_two_aggregates() -> None:
    commands = [cls for aggregate in AGGREGATES for cls in aggregate.commands]
    events = [cls for aggregate in AGGREGATES for cls in aggregate.events]
    assert len(set(commands)) == len(commands)
    assert len(set(events)) == len(events)
    assert not set(commands) & set(events)

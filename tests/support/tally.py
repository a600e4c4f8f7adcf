"""A tiny aggregate that proves the event-sourcing machinery without the domain."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from core.aggregates import Aggregate
from core.errors import DomainError, Refusal
from core.eventstore import HandlerTransaction, RecordedEvent
from core.messages import MessageRegistry


@dataclass(frozen=True, kw_only=True, slots=True)
class OpenTally:
    tally_id: str


@dataclass(frozen=True, kw_only=True, slots=True)
class AddToTally:
    tally_id: str
    amount: int


@dataclass(frozen=True, kw_only=True, slots=True)
class TallyOpened:
    tally_id: str
    opened_at: datetime


@dataclass(frozen=True, kw_only=True, slots=True)
class TallyAdded:
    tally_id: str
    amount: int
    total: int


@dataclass(frozen=True, kw_only=True, slots=True)
class TallyState:
    opened: bool = False
    total: int = 0
    history: tuple[int, ...] = ()


def decide(state: TallyState, command: Any, *, now: datetime) -> list[Any]:
    match command:
        case OpenTally(tally_id=tally_id):
            return [] if state.opened else [TallyOpened(tally_id=tally_id, opened_at=now)]
        case AddToTally(tally_id=tally_id, amount=amount):
            if not state.opened:
                raise DomainError(Refusal.CHECK_NOT_OPEN, "Open the tally first.")
            return [TallyAdded(tally_id=tally_id, amount=amount, total=state.total + amount)]
    raise TypeError(command)


def evolve(state: TallyState, event: Any) -> TallyState:
    match event:
        case TallyOpened():
            return dataclasses.replace(state, opened=True)
        case TallyAdded(amount=amount, total=total):
            # The last few amounts only: a state that grows with its stream would make
            # every command slower than the one before.
            return dataclasses.replace(state, total=total,
                                       history=(*state.history[-4:], amount))
    return state


TALLY = Aggregate(name="tally", initial=TallyState(), decide=decide, evolve=evolve,
                  commands={OpenTally: "tally_id", AddToTally: "tally_id"},
                  events=(TallyOpened, TallyAdded))


def tally_registry() -> MessageRegistry:
    registry = MessageRegistry()
    registry.register_all(OpenTally, AddToTally, TallyOpened, TallyAdded)
    return registry


class TotalsInState:
    """A handler that keeps running totals in its own durable state (backend-agnostic)."""

    name = "totals"
    events = frozenset({TallyAdded})

    def __init__(self, fail_on: int | None = None) -> None:
        self.fail_on = fail_on
        self.calls = 0

    def handle(self, tx: HandlerTransaction, recorded: RecordedEvent) -> None:
        self.calls += 1
        event = recorded.event
        if event.amount == self.fail_on:
            raise RuntimeError(f"cannot count {event.amount}")
        state = tx.load_state(event.tally_id) or {"sum": 0, "seen": []}
        state["sum"] += event.amount
        state["seen"].append(recorded.position)
        tx.save_state(event.tally_id, state)

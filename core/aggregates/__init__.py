"""Aggregates: pure ``decide`` / ``evolve`` pairs that guard the rules.

Each aggregate is a package: its commands, its events (each list a union type), its state
with ``evolve``, its rules in ``decide``, and in ``__init__`` one :class:`Aggregate` value
describing it to the router, with the lists of message types read off the unions. Nothing
here does I/O or reads the clock: ``now`` and every new id come in as arguments.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, Protocol, TypeVar, get_args

S = TypeVar("S")


class Decide(Protocol[S]):  # type: ignore[misc]
    def __call__(self, state: S, command: Any, /, *, now: datetime) -> Sequence[Any]: ...


@dataclass(frozen=True, slots=True)
class Aggregate(Generic[S]):
    """What the router needs to know about one aggregate.

    ``commands`` maps each command type to the name of its identity field; the stream of the
    aggregate instance is ``f"{name}-{identity}"``. ``state_version`` is bumped whenever the
    state's shape changes, which makes older snapshots be ignored (events are replayed).
    """

    name: str
    initial: S
    decide: Decide[S]
    evolve: Callable[[S, Any], S]
    commands: Mapping[type, str]
    events: tuple[type, ...]
    state_version: int = 1

    def stream_id(self, identity: str) -> str:
        return f"{self.name}-{identity}"

    def replay(self, events: Sequence[Any], state: S | None = None) -> S:
        current = self.initial if state is None else state
        for event in events:
            current = self.evolve(current, event)
        return current


def message_types(union: Any) -> tuple[type, ...]:
    """The classes of a union of message types (``A | B | C``), in the order written."""
    return get_args(union)

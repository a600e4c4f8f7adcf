"""The application service: the one door every adapter goes through.

It resolves who is asking to a player on a team (through the directory read model),
enforces who may do what (captains schedule, players answer for themselves), validates
input, sends one command through the router, waits until the read models the caller will
look at have caught up, and returns plain results for the adapter to render. Every refusal
is a :class:`DomainError` with a stable code and a message fit to show a person.

One class, :class:`AttendService`, assembled from a module per kind of request: ``queries``
(reading only), ``teams``, ``games`` (and their checks), ``series`` (weekly games),
``answers``; ``base`` holds what they share, ``refusals`` the refusals the service words
itself, ``views`` what they return.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any, TypeVar

from core.safe_text import refuse_unsafe_arguments
from core.service.answers import AnswerRequests
from core.service.base import CatchUp, ServiceBase, WaitUntil, poll_until
from core.service.channels import ChannelRequests
from core.service.games import GameRequests
from core.service.season import CalendarView, SeasonRequests, SeasonView
from core.service.series import SeriesRequests, SeriesStatusView
from core.service.teams import TeamRequests
from core.service.views import AnswerResult, Context, GameStatusView, Invitation

C = TypeVar("C", bound=type)


def _admitted(cls: C) -> C:
    """Every public method of ``cls`` (its own or inherited) refuses text with control
    characters, whichever way it came in, and runs inside the service's
    :class:`~core.gate.RequestGate`."""
    def admitted(method: Callable[..., Any]) -> Callable[..., Any]:
        names = tuple(inspect.signature(method).parameters)[1:]  # after self

        @functools.wraps(method)
        def wrapper(self: ServiceBase, *args: Any, **kwargs: Any) -> Any:
            refuse_unsafe_arguments(names, args, kwargs)
            with self._gate:
                return method(self, *args, **kwargs)
        return wrapper

    for name in dir(cls):
        member = getattr(cls, name)
        if not name.startswith("_") and inspect.isfunction(member):
            setattr(cls, name, admitted(member))
    return cls


@_admitted
class AttendService(AnswerRequests, TeamRequests, GameRequests, SeriesRequests,
                    SeasonRequests, ChannelRequests):
    """Every public method is a request: at most ``request_slots`` run at once per process
    and the rest wait their turn in order (see :mod:`core.gate`)."""


__all__ = ["AnswerResult", "AttendService", "CalendarView", "CatchUp", "Context", "GameStatusView",
           "Invitation", "SeasonView", "SeriesStatusView", "WaitUntil", "poll_until"]

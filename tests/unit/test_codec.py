"""The JSON text a message is stored as: what the encoder and a JSON dump would write,
whatever the field types, and whatever a careless caller put in them."""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest

from core.codec import decoder_for, dumps, encoder_for, json_writer_for


class Colour(enum.Enum):
    RED = "red"


@dataclass(frozen=True, kw_only=True, slots=True)
class Inner:
    name: str
    at: datetime | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class Everything:
    text: str
    number: int
    flag: bool
    ratio: float
    maybe_text: str | None
    maybe_number: int | None
    at: datetime
    day: date
    colour: Colour
    numbers: tuple[int, ...]
    inners: tuple[Inner, ...]
    by_name: dict[str, int]
    inner: Inner | None


FULL = Everything(
    text='quote " backslash \\\\ newline \\n é ☃', number=-12, flag=True, ratio=0.1,
    maybe_text="x", maybe_number=0, at=datetime(2026, 5, 2, 19, 0, 0, 5, tzinfo=UTC),
    day=date(2026, 5, 2), colour=Colour.RED, numbers=(1, 2), inners=(Inner(name="a"),),
    by_name={"b": 2}, inner=Inner(name="n", at=datetime(2026, 1, 1, tzinfo=UTC)),
)
EMPTY = Everything(
    text="", number=0, flag=False, ratio=-1.5, maybe_text=None, maybe_number=None,
    at=datetime(2026, 5, 2, 19, 0, tzinfo=timezone(timedelta(hours=-4))), day=date(2000, 1, 1),
    colour=Colour.RED, numbers=(), inners=(), by_name={}, inner=None,
)


@pytest.mark.parametrize("value", [FULL, EMPTY], ids=["full", "empty"])
def test_the_text_is_the_dump_of_the_encoding(value: Everything) -> None:
    text = json_writer_for(Everything)(value)
    assert text == dumps(encoder_for(Everything)(value))
    assert decoder_for(Everything)(json.loads(text)) == value


@pytest.mark.parametrize("careless", [
    {"number": True},  # a bool where an int belongs stays a JSON boolean
    {"number": 2.5},
    {"text": 7},
    {"flag": 1},
    {"maybe_number": False},
    {"maybe_text": ("a", "b")},
])
def test_a_value_not_of_its_fields_type_is_written_as_a_dump_would(
        careless: dict[str, Any]) -> None:
    value = Everything(**{**_fields(EMPTY), **careless})
    text = json_writer_for(Everything)(value)
    assert text == dumps(encoder_for(Everything)(value))
    json.loads(text)  # still valid JSON


def test_a_value_json_cannot_carry_is_refused() -> None:
    value = Everything(**{**_fields(EMPTY), "maybe_text": object()})
    with pytest.raises(TypeError, match="not JSON serialisable"):
        json_writer_for(Everything)(value)


def _fields(value: Everything) -> dict[str, Any]:
    return {name: getattr(value, name) for name in Everything.__dataclass_fields__}

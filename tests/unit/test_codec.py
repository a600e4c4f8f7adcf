"""The JSON text a message is stored as: what the encoder and a JSON dump would write,
whatever the field types, and whatever a careless caller put in them."""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest

from core.codec import decoder_for, dumps, encoder_for, json_writer_for, loads, text_decoder_for


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


@pytest.mark.parametrize("careless", [
    {}, {"number": True}, {"number": 2.5}, {"text": 7}, {"flag": 1}, {"maybe_number": False},
    {"maybe_text": ("a", "b")}, {"number": 2**70},
])
@pytest.mark.parametrize("base", [FULL, EMPTY], ids=["full", "empty"])
def test_stored_text_reads_back_as_the_decoder_reads_it(
        base: Everything, careless: dict[str, Any]) -> None:
    """The fast way from stored text to a message gives what decoding ``json.loads`` of the
    text gives, value for value (``True`` stays ``True``, not 1), whatever the text holds."""
    text = json_writer_for(Everything)(Everything(**{**_fields(base), **careless}))
    expected = decoder_for(Everything)(json.loads(text))
    assert repr(text_decoder_for(Everything)(text)) == repr(expected)


def test_text_written_by_others_reads_the_same() -> None:
    """Rows as PostgreSQL's jsonb gives them back (spaces, keys reordered) or as an older
    release wrote them (ASCII escapes, ``1e+16``, a missing field with a default) read as
    ``json`` reads them."""
    texts = [
        '{"name": "\\u00e9\\u2603", "at": null}',
        '{"at": "2026-01-01T05:00:00-04:00", "name": "n"}',
        '{"name":"x"}',
    ]
    for text in texts:
        assert repr(text_decoder_for(Inner)(text)) == repr(decoder_for(Inner)(json.loads(text)))
    for text in ['[1e+16, -0.0, 12345678901234567890123, "\\ud83d\\ude00"]', "NaN", "{}"]:
        assert repr(loads(text)) == repr(json.loads(text))
    with pytest.raises(json.JSONDecodeError):
        loads("{bad")


def test_a_value_json_cannot_carry_is_refused() -> None:
    value = Everything(**{**_fields(EMPTY), "maybe_text": object()})
    with pytest.raises(TypeError, match="not JSON serialisable"):
        json_writer_for(Everything)(value)


def _fields(value: Everything) -> dict[str, Any]:
    return {name: getattr(value, name) for name in Everything.__dataclass_fields__}

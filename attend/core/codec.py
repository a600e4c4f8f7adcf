"""JSON-ready encoding of dataclasses, compiled once per class.

Supported field types: str, int, float, bool, None, aware ``datetime`` (stored as ISO-8601 in
UTC), ``date``, ``Enum``, ``tuple[X, ...]``, ``X | None``, ``dict[str, X]`` and nested
dataclasses. Each class gets a pair of closures built from its type hints, so encoding and
decoding cost a few attribute reads per field rather than a walk over ``typing`` every time.
"""

from __future__ import annotations

import dataclasses
import enum
import types
import typing
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

Encoder = Callable[[Any], Any]
Decoder = Callable[[Any], Any]

_cache: dict[Any, tuple[Encoder, Decoder]] = {}


def _identity(value: Any) -> Any:
    return value


def _encode_datetime(value: datetime) -> str:
    if value.tzinfo is None:
        raise ValueError(f"naive datetime {value!r}: times in messages must be timezone-aware")
    return value.astimezone(UTC).isoformat()


def _decode_datetime(value: str) -> datetime:
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def _pair(tp: Any) -> tuple[Encoder, Decoder]:
    if tp in _cache:
        return _cache[tp]
    pair = _build(tp)
    _cache[tp] = pair
    return pair


def _build(tp: Any) -> tuple[Encoder, Decoder]:
    if tp in (str, int, bool, type(None), Any):
        return _identity, _identity
    if tp is float:
        return _identity, float
    if tp is datetime:
        return _encode_datetime, _decode_datetime
    if tp is date:
        return date.isoformat, date.fromisoformat
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return (lambda v: v.value), tp
    if dataclasses.is_dataclass(tp) and isinstance(tp, type):
        return _dataclass_pair(tp)
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        inner = [a for a in args if a is not type(None)]
        if len(inner) != 1:
            raise TypeError(f"only X | None unions are supported, not {tp}")
        enc, dec = _pair(inner[0])
        if enc is _identity and dec is _identity:
            return _identity, _identity
        return (lambda v: None if v is None else enc(v)), (lambda v: None if v is None else dec(v))
    if origin is tuple:
        if len(args) != 2 or args[1] is not Ellipsis:
            raise TypeError(f"only tuple[X, ...] is supported, not {tp}")
        enc, dec = _pair(args[0])
        if enc is _identity and dec is _identity:
            return list, tuple
        return (lambda v: [enc(x) for x in v]), (lambda v: tuple(dec(x) for x in v))
    if origin is dict:
        enc, dec = _pair(args[1])
        return (
            (lambda v: {k: enc(x) for k, x in v.items()}),
            (lambda v: {k: dec(x) for k, x in v.items()}),
        )
    raise TypeError(f"cannot encode fields of type {tp!r}")


def _dataclass_pair(cls: type) -> tuple[Encoder, Decoder]:
    hints = typing.get_type_hints(cls)
    fields = dataclasses.fields(cls)
    pairs = {f.name: _pair(hints[f.name]) for f in fields}
    # Straight-line code per class: reading thousands of events a second is the hot path
    # of every projection rebuild, and loops over field lists cost more than the fields.
    env: dict[str, Any] = {"cls": cls}
    enc_items, dec_items = [], []
    for f in fields:
        enc, dec = pairs[f.name]
        plain = enc is _identity and dec is _identity
        if not plain:
            env[f"enc_{f.name}"], env[f"dec_{f.name}"] = enc, dec
        enc_items.append(f"{f.name!r}: " + (f"obj.{f.name}" if plain
                                            else f"enc_{f.name}(obj.{f.name})"))
        has_default = (f.default is not dataclasses.MISSING
                       or f.default_factory is not dataclasses.MISSING)
        if has_default:
            env[f"default_{f.name}"] = (f.default if f.default is not dataclasses.MISSING
                                         else f.default_factory)
            factory = f.default is dataclasses.MISSING
            fallback = f"default_{f.name}()" if factory else f"default_{f.name}"
            value = f"(data[{f.name!r}] if {f.name!r} in data else {fallback})"
        else:
            value = f"data[{f.name!r}]"
        dec_items.append(f"{f.name}=" + (value if plain else f"dec_{f.name}({value})"))
    source = (
        f"def encode(obj):\n    return {{{', '.join(enc_items)}}}\n"
        f"def decode(data):\n    return cls({', '.join(dec_items)})\n"
    )
    exec(source, env)
    return env["encode"], env["decode"]


def encoder_for(cls: type) -> Encoder:
    return _pair(cls)[0]


def decoder_for(cls: type) -> Decoder:
    return _pair(cls)[1]

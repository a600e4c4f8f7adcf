"""JSON-ready encoding of dataclasses, compiled once per class.

Supported field types: str, int, float, bool, None, aware ``datetime`` (stored as ISO-8601 in
UTC), ``date``, ``Enum``, ``tuple[X, ...]``, ``X | None``, ``dict[str, X]`` and nested
dataclasses. Each class gets a pair of closures built from its type hints, so encoding and
decoding cost a few attribute reads per field rather than a walk over ``typing`` every time.
:func:`json_writer_for` writes an instance straight to compact JSON text, as
``dumps(encoder_for(cls)(obj))`` would (:func:`dumps`), for a quarter of the cost.
"""

from __future__ import annotations

import dataclasses
import enum
import json
import types
import typing
from collections.abc import Callable
from datetime import UTC, date, datetime
from json.scanner import make_scanner
from typing import Any, cast

Encoder = Callable[[Any], Any]
Decoder = Callable[[Any], Any]

JsonWriter = Callable[[Any], str]

_cache: dict[Any, tuple[Encoder, Decoder]] = {}
_writers: dict[type, JsonWriter] = {}


def _refuse(value: object) -> Any:
    raise TypeError(f"{type(value).__name__} is not JSON serialisable (encode it first)")


def _compact_encoder() -> JsonWriter:
    """Compact JSON, as ``json.dumps(separators=(",", ":"), ensure_ascii=False)`` writes it,
    from C's encoder built once (``json.dumps`` builds one per call, a third of its cost on
    the small documents every append writes). Codecs hand over plain JSON values, so the
    circular-reference check is left out."""
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:  # a Python without the C accelerator
        return json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode
    encode = make(None, _refuse, json.encoder.encode_basestring, None, ":", ",", False, False,
                  True)
    return lambda value: "".join(encode(value, 0))


dumps = _compact_encoder()
"""Plain JSON values (what the encoders return) as compact JSON text."""

quote: Callable[[str], str] = cast(Any, json.encoder).encode_basestring
"""A string as a JSON string, quoted and escaped."""


# typeshed types make_scanner's argument as the scanner class itself; it takes a decoder.
_scan: Callable[[str, int], tuple[Any, int]] = make_scanner(cast(Any, json.JSONDecoder()))


def loads(text: str) -> Any:
    """``json.loads`` without its whitespace regexes: the text is ours, written compact (or
    by PostgreSQL's jsonb output), and reading events is the hot path of every rebuild."""
    try:
        return _scan(text, 0)[0]
    except StopIteration:
        return json.loads(text)  # raises the usual, readable JSONDecodeError


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


def json_writer_for(cls: type) -> JsonWriter:
    """A dataclass instance as compact JSON text: ``dumps(encoder_for(cls)(obj))``, the same
    text, written by code generated for the class. A str, int, bool or datetime field (or
    ``None`` where the field is optional) is written directly; any other field, or a value
    not of its field's exact type, goes through its encoder and :data:`dumps`."""
    writer = _writers.get(cls)
    if writer is None:
        writer = _writers[cls] = _json_writer(cls)
    return writer


def _json_writer(cls: type) -> JsonWriter:
    hints = typing.get_type_hints(cls)
    env: dict[str, Any] = {"q": quote, "dumps": dumps, "type": type, "str": str, "int": int,
                           "TRUE": "true", "FALSE": "false", "NULL": "null"}
    parts = []
    for number, f in enumerate(dataclasses.fields(cls)):
        tp, value = hints[f.name], f"v{number}"
        env[f"enc{number}"] = _pair(tp)[0]
        general = f"dumps(enc{number}({value}))"
        optional = typing.get_origin(tp) in (typing.Union, types.UnionType) and type(None) in \
            typing.get_args(tp)
        inner = [a for a in typing.get_args(tp) if a is not type(None)] if optional else [tp]
        plain = inner[0] if len(inner) == 1 else None
        if plain is str:
            direct = f"(q({value}) if type({value}) is str else {general})"
        elif plain is int:  # not bool, whose text is true or false
            direct = f"({value} if type({value}) is int else {general})"
        elif plain is bool:
            direct = f"(TRUE if {value} is True else FALSE if {value} is False else {general})"
        elif plain is datetime:
            direct = f"q(enc{number}({value}))"
        else:
            direct = general
        if optional:
            direct = f"(NULL if {value} is None else {direct})"
        parts.append((f.name, value, direct))
    lines = [f"    {value} = obj.{name}" for name, value, _ in parts]
    fields = ",".join(f'{json.dumps(name)}:{{{direct}}}' for name, _, direct in parts)
    source = "def write(obj):\n" + "\n".join(lines) + f"\n    return f'{{{{{fields}}}}}'\n"
    exec(source, env)
    writer: JsonWriter = env["write"]
    return writer


def encoder_for(cls: type) -> Encoder:
    return _pair(cls)[0]


def decoder_for(cls: type) -> Decoder:
    return _pair(cls)[1]

"""JSON-ready encoding of dataclasses, compiled once per class.

Supported field types: str, int, float, bool, None, aware ``datetime`` (stored as ISO-8601 in
UTC), ``date``, ``Enum``, ``tuple[X, ...]``, ``X | None``, ``dict[str, X]`` and nested
dataclasses. Each class gets a pair of closures built from its type hints, so encoding and
decoding cost a few attribute reads per field rather than a walk over ``typing`` every time.
:func:`json_writer_for` writes an instance straight to compact JSON text, as
``dumps(encoder_for(cls)(obj))`` would (:func:`dumps`), for a quarter of the cost.

JSON text is written and read by msgspec (:func:`dumps`, :func:`loads`,
:func:`text_decoder_for`), with the standard library's ``json`` behind it for the rare text
msgspec declines (``NaN``), so whatever ``json`` wrote before reads the same.
"""

from __future__ import annotations

import dataclasses
import enum
import json
import types
import typing
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

import msgspec

Encoder = Callable[[Any], Any]
Decoder = Callable[[Any], Any]

JsonWriter = Callable[[Any], str]

_cache: dict[Any, tuple[Encoder, Decoder]] = {}
_writers: dict[type, JsonWriter] = {}


def _refuse(value: object) -> Any:
    raise TypeError(f"{type(value).__name__} is not JSON serialisable (encode it first)")


_encode = msgspec.json.Encoder(enc_hook=_refuse).encode
_decode = msgspec.json.Decoder().decode


def dumps(value: Any) -> str:
    """Plain JSON values (what the encoders return) as compact JSON text: what
    ``json.dumps(value, separators=(",", ":"), ensure_ascii=False)`` writes, except that a
    large float may be spelt ``1e16`` (not ``1e+16``) and NaN or infinity, which JSON has
    no word for (PostgreSQL refused them), is ``null``."""
    try:
        return _encode(value).decode()
    except (TypeError, ValueError):  # beyond msgspec (a lone surrogate), or not JSON at all
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=_refuse)


quote: Callable[[str], str] = json.encoder.encode_basestring
"""A string as a JSON string, quoted and escaped (``json``'s own, C-accelerated, function;
cheaper than a library call for the short strings of event metadata)."""


def loads(text: str | bytes) -> Any:
    """JSON text as Python values, as ``json.loads`` reads it."""
    try:
        return _decode(text)
    except ValueError:  # beyond msgspec (NaN), or not JSON: json's own error
        return json.loads(text)


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
    if origin is frozenset:
        enc, dec = _pair(args[0])
        return (lambda v: sorted(enc(x) for x in v)), (lambda v: frozenset(dec(x) for x in v))
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


def text_decoder_for(cls: type) -> Callable[[str | bytes], Any]:
    """JSON text of a ``cls`` instance (its current shape) back into one: as
    ``decoder_for(cls)(loads(text))`` gives it, for a third of the cost. msgspec builds the
    instance straight from the text; on anything it won't take as is (a value not of its
    field's type, a check in ``__post_init__``, NaN) the general way decides, with its own
    result or error. Times were always written timezone-aware (naive ones are refused),
    which msgspec reads as the decoder does."""
    reader = _text_decoders.get(cls)
    if reader is None:
        reader = _text_decoders[cls] = _text_decoder(cls)
    return reader


_text_decoders: dict[type, Callable[[str | bytes], Any]] = {}


def _text_decoder(cls: type) -> Callable[[str | bytes], Any]:
    decode = decoder_for(cls)

    def general(text: str | bytes) -> Any:
        return decode(loads(text))

    try:
        typed: Callable[[str | bytes], Any] = msgspec.json.Decoder(cls).decode
    except (TypeError, ValueError):  # a field type msgspec doesn't know: the general way
        return general
    failed = msgspec.MsgspecError

    def read(text: str | bytes) -> Any:
        try:
            return typed(text)
        except failed:
            return decode(loads(text))
    return read


def encoder_for(cls: type) -> Encoder:
    return _pair(cls)[0]


def decoder_for(cls: type) -> Decoder:
    return _pair(cls)[1]

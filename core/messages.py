"""Commands, events and their stored names.

Messages are frozen, keyword-only dataclasses. Events are stored under a stable name from a
:class:`MessageRegistry` with a schema version; an older stored shape is upgraded on read by
the registered upcasters, and stored rows are never rewritten. Python import paths are
never stored.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from core.codec import (
    Decoder,
    Encoder,
    JsonWriter,
    decoder_for,
    encoder_for,
    json_writer_for,
)
from core.errors import UnknownEventType

JSONDict = dict[str, Any]
Upcaster = Callable[[JSONDict], JSONDict]


@dataclass(frozen=True, slots=True)
class MessageType:
    name: str
    cls: type
    version: int
    encode: Encoder
    decode: Decoder
    upcasters: Mapping[int, Upcaster]  # from version n to n + 1
    write_json: JsonWriter  # the message as JSON text: dumps(encode(message)), sooner

    def load(self, data: JSONDict, stored_version: int) -> Any:
        if stored_version != self.version:  # an older shape: upcast it first
            for version in range(stored_version, self.version):
                data = self.upcasters[version](data)
        return self.decode(data)


class MessageRegistry:
    """Maps stored names to message classes, both ways."""

    def __init__(self) -> None:
        self._by_name: dict[str, MessageType] = {}
        self._by_cls: dict[type, MessageType] = {}

    def register(
        self,
        cls: type,
        *,
        name: str | None = None,
        version: int = 1,
        upcasters: Mapping[int, Upcaster] | None = None,
    ) -> None:
        name = name or cls.__name__
        upcasters = dict(upcasters or {})
        missing = [v for v in range(1, version) if v not in upcasters]
        if missing:
            raise ValueError(f"{name} v{version} lacks upcasters from versions {missing}")
        known = self._by_name.get(name)
        if known is not None and known.cls is not cls:
            raise ValueError(f"stored name {name!r} is taken by {known.cls.__qualname__}")
        entry = MessageType(name, cls, version, encoder_for(cls), decoder_for(cls), upcasters,
                            json_writer_for(cls))
        self._by_name[name] = entry
        self._by_cls[cls] = entry

    def register_all(self, *classes: type) -> None:
        for cls in classes:
            self.register(cls)

    def of(self, message: object) -> MessageType:
        try:
            return self._by_cls[type(message)]
        except KeyError:
            raise UnknownEventType(f"{type(message).__qualname__} is not registered") from None

    def named(self, name: str) -> MessageType:
        try:
            return self._by_name[name]
        except KeyError:
            raise UnknownEventType(
                f"no message type is registered as {name!r}; is this release older than the data?"
            ) from None

    def __contains__(self, cls: type) -> bool:
        return cls in self._by_cls

    def names(self) -> list[str]:
        return sorted(self._by_name)

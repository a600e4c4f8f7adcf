"""attend serve's event loop: uvloop where it is installed, asyncio's own where it is not."""

from __future__ import annotations

import asyncio
import builtins
import sys
from typing import Any

import pytest

from bot import event_loop


async def _loop_type() -> type:
    return type(asyncio.get_running_loop())


@pytest.mark.skipif(sys.platform == "win32", reason="uvloop is not installed on Windows")
def test_serve_runs_on_uvloop_where_it_is_installed() -> None:
    import uvloop

    assert event_loop.run(_loop_type()) is uvloop.Loop


def test_without_uvloop_asyncio_runs_it(monkeypatch: pytest.MonkeyPatch) -> None:
    real_import = builtins.__import__

    def no_uvloop(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "uvloop":
            raise ImportError("no uvloop here")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_uvloop)
    loop_type = event_loop.run(_loop_type())
    assert loop_type.__module__.startswith("asyncio")
    assert event_loop.run(asyncio.sleep(0, result="done")) == "done"

"""The fence between the layers (DESIGN.md section 1), checked on the source with ``ast``.

``core`` must not reach the edge (``bot``, ``scheduler``) or the
libraries the edge wraps, and ``core/aggregates`` may import only the standard library
and core's message types. Nothing of the project is imported here: the modules are parsed,
so an import hidden in a function, behind ``TYPE_CHECKING`` or in a module no test loads is
still seen.
"""

from __future__ import annotations

import ast
import sys
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

FORBIDDEN_IN_CORE = (
    "bot",
    "scheduler",
    "slack_bolt",
    "slack_sdk",
    "discord",
    "aiohttp",
    "apscheduler",
    "smtplib",
    "aiosmtplib",
    "jinja2",
    "itsdangerous",
    "dateparser",
)
ALLOWED_IN_AGGREGATES = (
    "core.messages",
    "core.errors",
    "core.codec",
    "core.aggregates",
)


@dataclass(frozen=True)
class Import:
    module: str  # the importing module, e.g. "core.router"
    path: Path
    line: int
    # What may be loaded: `from m import x` gives ("m", "m.x"), as x may be a submodule.
    names: tuple[str, ...]


def _within(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _resolve(module: str, is_package: bool, level: int, target: str | None) -> str:
    """Absolute name of `from <level dots><target> import ...` written in `module`."""
    package = module.split(".") if is_package else module.split(".")[:-1]
    if level > len(package):
        raise ValueError(f"relative import beyond the top-level package in {module}")
    base = package[: len(package) - level + 1]
    return ".".join([*base, target] if target else base)


def imports_in(path: Path, root: Path) -> Iterator[Import]:
    module = module_name(path, root)
    is_package = path.name == "__init__.py"
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(module, path, node.lineno, (alias.name,))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = _resolve(module, is_package, node.level, node.module)
            else:
                base = node.module or ""
            for alias in node.names:
                names = (base,) if alias.name == "*" else (base, f"{base}.{alias.name}")
                yield Import(module, path, node.lineno, names)
        elif (
            isinstance(node, ast.Call)
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
            and (
                (isinstance(node.func, ast.Name) and node.func.id == "__import__")
                or (isinstance(node.func, ast.Attribute) and node.func.attr == "import_module")
            )
        ):
            yield Import(module, path, node.lineno, (node.args[0].value,))


def _is_stdlib(name: str) -> bool:
    return name.split(".")[0] in sys.stdlib_module_names


def layering_violations(root: Path) -> list[str]:
    """Every import under ``root/core`` that breaks the layering rules."""
    core = root / "core"
    aggregates = core / "aggregates"
    problems = []
    for path in sorted(core.rglob("*.py")):
        in_aggregates = aggregates in path.parents
        for imp in sorted(imports_in(path, root), key=lambda imp: imp.line):
            where = f"{imp.path.relative_to(root)}:{imp.line}"
            shown = imp.names[-1]
            if any(_within(name, FORBIDDEN_IN_CORE) for name in imp.names):
                problems.append(f"{where} imports {shown}: core must not reach the edge")
            elif in_aggregates and not any(
                _is_stdlib(name) or _within(name, ALLOWED_IN_AGGREGATES) for name in imp.names
            ):
                problems.append(
                    f"{where} imports {shown}: aggregates may import only the standard library"
                    " and core.{messages,errors,codec,aggregates}"
                )
    return problems


def test_core_respects_the_layering_rules() -> None:
    problems = layering_violations(ROOT)
    assert not problems, "layering rules broken (DESIGN.md section 1):\n" + "\n".join(problems)


def test_walker_sees_the_real_core() -> None:
    # Guards against a wrong path making the fence pass on an empty tree.
    modules = {module_name(p, ROOT) for p in (ROOT / "core").rglob("*.py")}
    assert {"core", "core.messages", "core.aggregates"} <= modules


def _write(root: Path, relative: str, source: str) -> None:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(source), encoding="utf-8")


def test_walker_catches_forbidden_imports(tmp_path: Path) -> None:
    for package in ("core", "core/aggregates"):
        _write(tmp_path, f"{package}/__init__.py", "")
    _write(
        tmp_path,
        "core/service.py",
        """\
        from __future__ import annotations

        import importlib
        from typing import TYPE_CHECKING

        import sqlalchemy  # fine outside aggregates

        from bot import slack
        import scheduler

        if TYPE_CHECKING:
            from discord import Client


        def send() -> None:
            import aiohttp.web
            importlib.import_module("jinja2")
        """,
    )
    _write(
        tmp_path,
        "core/aggregates/game.py",
        """\
        import dataclasses
        from datetime import datetime

        import sqlalchemy
        from core import errors, router
        from . import team
        from .. import messages
        from ..codec import encoder_for
        from ..eventstore import store
        from core.errors import DomainError
        """,
    )
    _write(tmp_path, "core/aggregates/team.py", "from ..messages import MessageRegistry\n")

    assert layering_violations(tmp_path) == [
        "core/aggregates/game.py:4 imports sqlalchemy: aggregates may import only the"
        " standard library and core.{messages,errors,codec,aggregates}",
        "core/aggregates/game.py:5 imports core.router: aggregates may import"
        " only the standard library and core.{messages,errors,codec,aggregates}",
        "core/aggregates/game.py:9 imports core.eventstore.store: aggregates may"
        " import only the standard library and core.{messages,errors,codec,aggregates}",
        "core/service.py:8 imports bot.slack: core must not reach the edge",
        "core/service.py:9 imports scheduler: core must not reach the edge",
        "core/service.py:12 imports discord.Client: core must not reach the edge",
        "core/service.py:16 imports aiohttp.web: core must not reach the edge",
        "core/service.py:17 imports jinja2: core must not reach the edge",
    ]


@pytest.mark.parametrize(
    ("module", "is_package", "level", "target", "expected"),
    [
        ("core.router", False, 1, "messages", "core.messages"),
        ("core.eventstore.sql", False, 2, "messages", "core.messages"),
        ("core", True, 1, "codec", "core.codec"),
        ("core.aggregates", True, 2, None, "core"),
    ],
)
def test_relative_imports_resolve(
    module: str, is_package: bool, level: int, target: str | None, expected: str
) -> None:
    assert _resolve(module, is_package, level, target) == expected

"""The fence between the layers (DESIGN.md section 1), checked on the source with ``ast``.

Imports point one way, ``bot`` -> ``scheduler`` -> ``core``: ``core`` must not reach the
edge (``bot``, ``scheduler``) or the libraries the edge wraps, ``core/aggregates`` may
import only the standard library and core's message types, ``scheduler.py`` only ``core``
and APScheduler, and no two modules import each other, however round the loop.

Nothing of the project is imported here: the modules are parsed, so an import hidden in a
function, behind ``TYPE_CHECKING`` or in a module no test loads is still seen.
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
ALLOWED_IN_SCHEDULER = ("core", "apscheduler")
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
    """Every import under ``root`` that breaks the layering rules:

    - ``core`` reaches neither ``bot`` nor ``scheduler`` nor the libraries the edge wraps;
    - ``core/aggregates`` imports only the standard library and core's message types;
    - ``scheduler.py`` imports only ``core`` (not its composition root), APScheduler and the
      standard library.
    """
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
    scheduler = root / "scheduler.py"
    if scheduler.exists():
        for imp in sorted(imports_in(scheduler, root), key=lambda imp: imp.line):
            if not any(_is_stdlib(name) or _within(name, ALLOWED_IN_SCHEDULER)
                       for name in imp.names):
                problems.append(f"scheduler.py:{imp.line} imports {imp.names[-1]}: the "
                                "scheduler may import only core, apscheduler and the "
                                "standard library")
            elif any(_within(name, ("core.bootstrap",)) for name in imp.names):
                problems.append(f"scheduler.py:{imp.line} imports {imp.names[-1]}: the "
                                "scheduler takes the parts it needs, not the composed core")
    return problems


def project_modules(root: Path) -> dict[str, Path]:
    """Every module of the project (``bot``, ``core``, ``scheduler``) by its dotted name."""
    paths = [*(root / "bot").rglob("*.py"), *(root / "core").rglob("*.py"),
             root / "scheduler.py"]
    return {module_name(path, root): path for path in paths if path.exists()}


def import_cycles(root: Path) -> list[list[str]]:
    """Groups of project modules that import each other, directly or round a loop."""
    modules = project_modules(root)
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        for imp in imports_in(path, root):
            # `from core.x import y` depends on core.x.y when that is a module, else core.x.
            target = next((n for n in reversed(imp.names) if n in modules), None)
            if target is None:
                target = imp.names[0]
                while target and target not in modules:
                    target = target.rpartition(".")[0]
            if target and target != name:
                graph[name].add(target)
    return _strongly_connected(graph)


def _strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's algorithm, iterative; only the components with more than one module."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, edges = work[-1]
            step = next(edges, None)
            if step is not None:
                if step not in index:
                    index[step] = low[step] = len(index)
                    stack.append(step)
                    on_stack.add(step)
                    work.append((step, iter(sorted(graph[step]))))
                elif step in on_stack:
                    low[node] = min(low[node], index[step])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return sorted(found)


def test_the_project_respects_the_layering_rules() -> None:
    problems = layering_violations(ROOT)
    assert not problems, "layering rules broken (DESIGN.md section 1):\n" + "\n".join(problems)


def test_no_two_modules_import_each_other() -> None:
    cycles = import_cycles(ROOT)
    assert not cycles, "import cycles (DESIGN.md section 1):\n" + "\n".join(
        " <-> ".join(cycle) for cycle in cycles)


def test_walker_sees_the_real_tree() -> None:
    # Guards against a wrong path making the fence pass on an empty tree.
    modules = set(project_modules(ROOT))
    assert {"core", "core.messages", "core.aggregates", "bot.cli", "scheduler"} <= modules


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


def test_walker_catches_a_scheduler_reaching_the_edge(tmp_path: Path) -> None:
    _write(tmp_path, "core/__init__.py", "")
    _write(tmp_path, "scheduler.py", """\
        import threading

        from apscheduler.schedulers.background import BackgroundScheduler

        from core.router import Router
        from bot.serve import serve
        import sqlalchemy
        from core.bootstrap import App
        """)
    assert layering_violations(tmp_path) == [
        "scheduler.py:6 imports bot.serve.serve: the scheduler may import only core,"
        " apscheduler and the standard library",
        "scheduler.py:7 imports sqlalchemy: the scheduler may import only core, apscheduler"
        " and the standard library",
        "scheduler.py:8 imports core.bootstrap.App: the scheduler takes the parts it needs,"
        " not the composed core",
    ]


def test_walker_finds_import_cycles(tmp_path: Path) -> None:
    for package in ("bot", "bot/delivery", "core"):
        _write(tmp_path, f"{package}/__init__.py", "")
    _write(tmp_path, "bot/delivery/worker.py", "from .lanes import Lane\n")
    _write(tmp_path, "bot/delivery/lanes.py", "from bot.delivery import jobs\n")
    _write(tmp_path, "bot/delivery/jobs.py", """\
        from typing import TYPE_CHECKING

        if TYPE_CHECKING:
            from bot.delivery.worker import Worker
        """)
    _write(tmp_path, "bot/serve.py", "from bot.delivery.worker import Worker\nimport core\n")
    _write(tmp_path, "core/router.py", "from core import messages\n")
    _write(tmp_path, "core/messages.py", "")
    assert import_cycles(tmp_path) == [
        ["bot.delivery.jobs", "bot.delivery.lanes", "bot.delivery.worker"]]


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

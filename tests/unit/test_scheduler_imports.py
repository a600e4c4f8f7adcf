"""The scheduler's side of the fence (DESIGN.md section 1): ``scheduler.py`` imports only
``core``, APScheduler and the standard library, and of ``core`` not the composition root
(it takes the service, runtime, store and clock it needs, not the whole app)."""

from __future__ import annotations

from tests.unit.test_layering import ROOT, _is_stdlib, _within, imports_in

ALLOWED = ("core", "apscheduler")


def test_the_scheduler_imports_only_the_core_apscheduler_and_the_standard_library() -> None:
    found = list(imports_in(ROOT / "scheduler.py", ROOT))
    assert found, "no imports seen: wrong path?"
    problems = [f"scheduler.py:{imp.line} imports {imp.names[-1]}" for imp in found
                if not any(_is_stdlib(name) or _within(name, ALLOWED) for name in imp.names)
                or any(_within(name, ("core.bootstrap",)) for name in imp.names)]
    assert not problems, "\n".join(problems)

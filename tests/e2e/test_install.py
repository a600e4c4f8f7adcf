"""A plain install (a wheel, not editable) carries everything Attend reads from its own
files: templates, styles, the Slack manifest, the migrations.

The project's wheel is installed without its dependencies into a fresh virtual environment; the
dependencies come from the test run's own environment on ``PYTHONPATH`` (a directory there
is not a site directory, so the editable install's path hook is not loaded). Everything runs
outside the repository, so nothing is found in the working tree by accident.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import sysconfig
import time
import urllib.request
from pathlib import Path

import pytest

from tests.support.smtp_sink import free_loopback_port
from tests.support.waiting import wait_for_health

REPOSITORY = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh environment with Attend installed from a wheel of the source tree."""
    # A copy of the tree, so no build/ directory left from an earlier build adds stale files.
    source = tmp_path_factory.mktemp("source") / "attend"
    shutil.copytree(REPOSITORY, source, ignore=shutil.ignore_patterns(
        ".git", ".venv", "build", "*.egg-info", "__pycache__", ".*_cache", "attend.db*",
        "outbox"))
    wheels = tmp_path_factory.mktemp("wheels")
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check"]
    subprocess.run([*pip, "wheel", "--quiet", "--no-deps", "--no-build-isolation",
                    "--wheel-dir", str(wheels), str(source)], check=True, timeout=300)
    venv = tmp_path_factory.mktemp("installed") / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    subprocess.run([*pip, "--python", str(venv / "bin" / "python"), "install", "--quiet",
                    "--no-deps", "--no-index", *map(str, wheels.glob("*.whl"))],
                   check=True, timeout=300)
    return venv


def _env(venv: Path, tmp_path: Path) -> dict[str, str]:
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith("ATTEND_")},
        "PYTHONPATH": sysconfig.get_paths()["purelib"],  # the dependencies, not Attend
        "ATTEND_DATABASE_URL": f"sqlite:///{tmp_path}/attend.db",
        "ATTEND_SECRET_KEYS": "installed-key-0123456789abcdef0123",
        "ATTEND_PORT": str(free_loopback_port()),
    }


def test_the_installed_packages_are_the_ones_used(installed: Path, tmp_path: Path) -> None:
    shown = subprocess.run(
        [installed / "bin" / "python", "-c",
         "import bot, core, scheduler; print(bot.__file__, core.__file__, scheduler.__file__)"],
        cwd=tmp_path, env=_env(installed, tmp_path), capture_output=True, text=True,
        check=True)
    for path in shown.stdout.split():
        assert Path(path).is_relative_to(installed), shown.stdout
    package = next(Path(p).parent for p in shown.stdout.split() if p.endswith(
        os.path.join("bot", "__init__.py")))
    assert "/slack/events" in (package / "slack" / "manifest.yaml").read_text()


def test_attend_serve_from_a_plain_install_migrates_mails_and_serves_pages(
        installed: Path, tmp_path: Path) -> None:
    env = _env(installed, tmp_path)
    base = f"http://127.0.0.1:{env['ATTEND_PORT']}"
    server = subprocess.Popen([installed / "bin" / "attend", "serve", "--demo"], cwd=tmp_path,
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True)
    try:
        wait_for_health(base, server)  # the migrations ran
        deadline = time.monotonic() + 30
        outbox = ""
        while time.monotonic() < deadline and outbox.count("are you in?") < 5:
            with urllib.request.urlopen(f"{base}/outbox", timeout=5) as page:
                outbox = page.read().decode()
            time.sleep(0.2)
        assert outbox.count("are you in?") >= 5  # email templates and the outbox page
        with urllib.request.urlopen(f"{base}/static/attend.css", timeout=5) as css:
            assert css.status == 200 and b"font" in css.read()
    finally:
        server.send_signal(signal.SIGTERM)
        _, errors = server.communicate(timeout=30)
    assert server.returncode == 0, errors
    assert "Traceback" not in errors

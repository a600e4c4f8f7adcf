"""The owner of a server's delivery claims: the same after a restart, never shared by two
running processes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from bot.delivery import OwnerSlot

DATABASE = "postgresql+psycopg://attend@db.example.org/attend"


def test_a_restarted_server_is_the_same_owner(tmp_path: Path) -> None:
    first = OwnerSlot.take(tmp_path, DATABASE)
    before = first.owner
    first.close()  # the process ends (the kernel also drops the lock on a kill -9)

    again = OwnerSlot.take(tmp_path, DATABASE)
    try:
        assert again.owner == before
    finally:
        again.close()


def test_two_running_servers_are_never_the_same_owner(tmp_path: Path) -> None:
    mine = OwnerSlot.take(tmp_path, DATABASE)
    try:
        theirs = subprocess.run(
            [sys.executable, "-c", "import sys; from pathlib import Path; "
             "from bot.delivery import OwnerSlot; "
             "print(OwnerSlot.take(Path(sys.argv[1]), sys.argv[2]).owner)",
             str(tmp_path), DATABASE], capture_output=True, text=True, check=True,
            timeout=60).stdout.strip()
        other_database = OwnerSlot.take(tmp_path, "sqlite:///elsewhere.db")
        other_database.close()
    finally:
        mine.close()
    assert theirs and theirs != mine.owner
    assert other_database.owner not in (mine.owner, theirs)

"""Which lease owners are provably dead, and how fast a dead process's handlers move."""

from __future__ import annotations

import socket
import subprocess
import sys
import time

import pytest

from core.leases import LEASE_TTL, RETRY, _pid_namespace, owner_name, proven_dead

linux_only = pytest.mark.skipif(_pid_namespace() == "-", reason="needs /proc's PID namespaces")


def test_a_dead_process_hands_its_handlers_over_within_ten_seconds() -> None:
    """The lease lapses at most LEASE_TTL after the last heartbeat; a process without the
    lease tries again every RETRY."""
    assert LEASE_TTL + RETRY < 10


def test_this_process_and_strangers_are_never_taken_for_dead() -> None:
    me = owner_name()
    assert not proven_dead(me)
    host, namespace, pid, _ = me.split("/")
    assert not proven_dead(f"elsewhere-{host}/{namespace}/{pid}/x")  # another machine
    assert not proven_dead(f"{host}:{pid}:abcd1234")  # an owner named the old way
    assert not proven_dead("")


@linux_only
def test_a_process_of_this_machine_is_dead_once_killed() -> None:
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    owner = f"{socket.gethostname()}/{_pid_namespace()}/{child.pid}/0000"
    try:
        assert not proven_dead(owner)
        child.kill()
        deadline = time.monotonic() + 30
        while not proven_dead(owner):  # killed but not reaped (a zombie) is dead too
            assert time.monotonic() < deadline, "a killed process still looks alive"
            time.sleep(0.01)
    finally:
        child.kill()
        child.wait()
    assert proven_dead(owner)  # and reaped

"""Ids for teams, games, commands and events: random, and never handed out twice."""

from __future__ import annotations

import os
import re
import threading

from core.router import new_id


def test_ids_are_32_hex_digits_and_all_different_across_threads() -> None:
    seen: list[list[str]] = [[] for _ in range(4)]

    def take(i: int) -> None:
        seen[i].extend(new_id() for _ in range(3000))  # several refills each

    threads = [threading.Thread(target=take, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    ids = [i for chunk in seen for i in chunk]
    assert all(re.fullmatch(r"[0-9a-f]{32}", i) for i in ids)
    assert len(set(ids)) == len(ids) == 12000


def test_a_forked_child_does_not_hand_out_the_ids_its_parent_will() -> None:
    new_id()  # the parent has ids in reserve
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child
        os.write(write, " ".join(new_id() for _ in range(10)).encode())
        os._exit(0)
    os.close(write)
    os.waitpid(pid, 0)
    child = set(os.read(read, 4096).decode().split())
    os.close(read)
    parent = {new_id() for _ in range(10)}
    assert len(child) == 10 and not child & parent

"""Request ids: 24 hex digits, unique in a process and across forked workers (the ledger's key)."""

from __future__ import annotations

import os
import re

from reference_server.edge import new_request_id


def test_request_ids_are_24_hex_digits_and_unique():
    ids = [new_request_id() for _ in range(20_000)]
    assert all(re.fullmatch(r"[0-9a-f]{24}", i) for i in ids)
    assert len(set(ids)) == len(ids)


def test_request_ids_differ_in_a_forked_child():
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report its next ids and leave at once
        os.write(write, " ".join(new_request_id() for _ in range(3)).encode())
        os._exit(0)
    os.close(write)
    os.waitpid(pid, 0)
    child = os.read(read, 1024).decode().split()
    os.close(read)
    parent = [new_request_id() for _ in range(3)]
    assert len(child) == 3
    assert not set(child) & set(parent)

"""Local server processes: a free loopback port, and a command run until a URL answers.

``parity demo``, the load harness's calibration and the project's tests and benchmarks start the
reference server (or another local server) in a subprocess and wait for it to serve. They start it
by command line, never by import: the suite shares no code with the server it judges.

Must not: know which server it starts (callers pass the argv and the URL that proves readiness).
"""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO

import httpx

from conformance.errors import LaunchError

__all__ = ["LaunchError", "free_port", "launched", "reference_server_argv"]


def free_port(host: str = "127.0.0.1") -> int:
    """A port the OS reports free on ``host`` now (it may be taken again before it is bound)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def reference_server_argv(*args: str) -> list[str]:
    """The command that runs ``parity serve ARGS`` with this interpreter."""
    return [sys.executable, "-m", "reference_server", "serve", *args]


@contextlib.contextmanager
def launched(
    argv: Sequence[str],
    ready_url: str,
    *,
    log: Path | None = None,
    timeout_s: float = 30.0,
    env: Mapping[str, str] | None = None,
    ready_status: int = 200,
) -> Iterator[subprocess.Popen[bytes]]:
    """Run ``argv`` until ``GET ready_url`` answers ``ready_status``; stop it on exit.

    Output goes to ``log`` (or is discarded). The process is terminated, then killed after 10 s.
    """
    sink: IO[bytes] | int
    with contextlib.ExitStack() as stack:
        sink = stack.enter_context(log.open("wb")) if log is not None else subprocess.DEVNULL
        proc = subprocess.Popen(
            list(argv),
            stdout=sink,
            stderr=subprocess.STDOUT,
            env=dict(env) if env is not None else None,
        )
        where = f"; see {log}" if log is not None else ""
        try:
            deadline = time.monotonic() + timeout_s
            while True:
                if proc.poll() is not None:
                    raise LaunchError(
                        f"{argv[0]!s} {' '.join(argv[1:3])} exited with status "
                        f"{proc.returncode} before {ready_url} answered{where}"
                    )
                with contextlib.suppress(httpx.TransportError):
                    if httpx.get(ready_url, timeout=1.0).status_code == ready_status:
                        break
                if time.monotonic() > deadline:
                    raise LaunchError(f"{ready_url} did not answer within {timeout_s:.0f} s{where}")
                time.sleep(0.1)
            yield proc
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

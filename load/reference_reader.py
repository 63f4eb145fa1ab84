"""An independent reference reader for calibration: plain blocking sockets, no gevent, no locust.

Each thread reads one chat stream at a time over HTTP/1.1 with ``Connection: close``, stamps every
``recv`` with ``time.perf_counter()``, and cuts events at blank lines (chunked-encoding size lines
sit between events and are skipped). It reports, per request, TTFT from the send and every gap
between content events: what the harness's own reader is compared with in the same window.
Run as ``python -m load.reference_reader URL MODEL STREAMS SECONDS OUT`` (key in PARITY_API_KEY).

Must not: import gevent, locust or anything of the harness (it would share its errors).
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import socket
import sys
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

__all__ = ["reference_reader"]


def _read_one(host: str, port: int, path: str, body: bytes, key: str) -> dict[str, Any]:
    """One stream over a plain socket: TTFT (from send) and every gap between content events."""
    request = (
        f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\n"
        f"Authorization: Bearer {key}\r\nContent-Length: {len(body)}\r\n"
        "Connection: close\r\n\r\n"
    ).encode() + body
    times: list[float] = []
    buffer = b""
    with socket.create_connection((host, port), timeout=30) as sock:
        sent = time.perf_counter()
        sock.sendall(request)
        done = False
        while not done:  # until [DONE] (servers may keep the connection open) or EOF
            data = sock.recv(65536)
            at = time.perf_counter()
            if not data:
                break
            buffer += data
            # Complete events end in a blank line; chunked-encoding size lines sit between them.
            while b"\n\n" in buffer:
                event, buffer = buffer.split(b"\n\n", 1)
                start = event.find(b"data:")
                if start < 0:
                    continue
                payload = event[start + 5 :].strip()
                if payload == b"[DONE]":
                    done = True
                    break
                with contextlib.suppress(ValueError, AttributeError, IndexError, TypeError):
                    choice = json.loads(payload)["choices"][0]
                    if choice["delta"].get("content"):
                        times.append(at)
    gaps = [(b - a) * 1000.0 for a, b in itertools.pairwise(times)]
    return {"ttft_ms": (times[0] - sent) * 1000.0 if times else None, "gaps_ms": gaps}


def reference_reader(
    base_url: str, key: str, model: str, *, streams: int, seconds: float, out: Path
) -> None:
    """Read ``streams`` concurrent streams back to back for ``seconds``; write JSON results."""
    parts = urlsplit(base_url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    path = parts.path.rstrip("/") + "/chat/completions"
    body = json.dumps(
        {
            "model": model,
            "stream": True,
            "max_tokens": 50,
            "messages": [{"role": "user", "content": "calibration"}],
        }
    ).encode()
    results: list[dict[str, Any]] = []
    lock = threading.Lock()
    end = time.perf_counter() + seconds

    def loop() -> None:
        while time.perf_counter() < end:
            try:
                result = _read_one(host, port, path, body, key)
            except OSError as exc:
                result = {"error": type(exc).__name__}
            with lock:
                results.append(result)

    threads = [threading.Thread(target=loop) for _ in range(streams)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    out.write_text(json.dumps(results), encoding="utf-8")


if __name__ == "__main__":
    # The reference reader's process: python -m load.reference_reader URL MODEL STREAMS SECONDS OUT
    url, model_arg, count, secs, out_path = sys.argv[1:6]
    reference_reader(
        url,
        os.environ.get("PARITY_API_KEY", ""),
        model_arg,
        streams=int(count),
        seconds=float(secs),
        out=Path(out_path),
    )

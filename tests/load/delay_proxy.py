"""A TCP proxy that delays every byte by a fixed time, both ways: a gateway of known overhead.

Each direction is a delay line: bytes are stamped as they arrive and written on once ``delay``
has passed since, so the proxy shifts every byte by the same time without changing the gaps
between them. A request therefore meets the upstream ``delay`` late and its answer reaches the
client another ``delay`` later: the added TTFT and E2E are ``2 x delay`` (plus the proxy's own
microseconds), the added ITL is zero. Each direction of a connection is a reader thread and a
writer thread that sleeps until each chunk is due (``time.sleep`` wakes tens of microseconds late;
asyncio's timers up to a millisecond). It runs in its own process (``python -m
tests.load.delay_proxy --upstream ORIGIN --delay-ms D --port N``), on loopback: in a thread of the
test process it would wait for the GIL behind the test's other servers, and that wait would count
as overhead.
"""

from __future__ import annotations

import argparse
import contextlib
import socket
import sys
import threading
import time
from collections.abc import Iterator
from queue import Queue
from urllib.parse import urlsplit

from conformance.launch import free_port, launched

__all__ = ["delay_proxy"]


def _delay_line(source: socket.socket, sink: socket.socket, delay: float) -> None:
    """Forward ``source`` to ``sink``, each byte ``delay`` seconds after it arrived."""
    queue: Queue[tuple[float, bytes]] = Queue()

    def forward() -> None:
        while True:
            due, data = queue.get()
            if not data:
                break
            wait = due - time.perf_counter()
            if wait > 0:
                time.sleep(wait)  # nanosleep: tens of microseconds late, not asyncio's 1 ms
            try:
                sink.sendall(data)
            except OSError:
                break
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_WR)

    writer = threading.Thread(target=forward, daemon=True)
    writer.start()
    with contextlib.suppress(OSError):
        while data := source.recv(65536):
            queue.put((time.perf_counter() + delay, data))
    queue.put((0.0, b""))
    writer.join()


def _connection(client: socket.socket, upstream: tuple[str, int], delay: float) -> None:
    try:
        server = socket.create_connection(upstream)
    except OSError:
        client.close()
        return
    for sock in (client, server):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    back = threading.Thread(target=_delay_line, args=(server, client, delay), daemon=True)
    back.start()
    _delay_line(client, server, delay)
    back.join()
    client.close()
    server.close()


def _serve(upstream: tuple[str, int], delay: float, listen: int) -> None:
    with socket.create_server(("127.0.0.1", listen), backlog=128) as listener:
        while True:
            client, _ = listener.accept()
            threading.Thread(
                target=_connection, args=(client, upstream, delay), daemon=True
            ).start()


@contextlib.contextmanager
def delay_proxy(upstream_origin: str, delay_s: float) -> Iterator[str]:
    """Proxy ``upstream_origin`` (``http://127.0.0.1:PORT``) in a process; yields its origin."""
    port = free_port()
    argv = [
        sys.executable,
        "-m",
        "tests.load.delay_proxy",
        "--upstream",
        upstream_origin,
        "--delay-ms",
        f"{delay_s * 1000.0:g}",
        "--port",
        str(port),
    ]
    origin = f"http://127.0.0.1:{port}"
    # Any HTTP answer through the proxy says it is up (the upstream has no route at /).
    with launched(argv, f"{origin}/", ready_status=404):
        yield origin


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--upstream", required=True)
    parser.add_argument("--delay-ms", type=float, required=True)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    parts = urlsplit(args.upstream)
    _serve((parts.hostname or "127.0.0.1", parts.port or 80), args.delay_ms / 1000.0, args.port)

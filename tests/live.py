"""A real server in a thread: uvicorn on a free loopback port, for tests about the wire.

httpx's in-process ASGI transport buffers whole responses, so anything about streaming,
timing or disconnects needs this. ``free_port`` is the project's one free-port helper
(``conformance.launch``), re-exported for the tests that only need a port.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Iterator
from typing import Any

import uvicorn

from conformance.launch import free_port

__all__ = ["free_port", "serve"]


class _Server(uvicorn.Server):
    def install_signal_handlers(self) -> None:  # the main thread owns signals
        pass


@contextlib.contextmanager
def serve(app: Any, **config: Any) -> Iterator[str]:
    """Serve ``app`` on 127.0.0.1 and yield its origin (``http://127.0.0.1:PORT``)."""
    port = free_port()
    server = _Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", **config)
    )
    thread = threading.Thread(target=lambda: asyncio.run(server.serve()), daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError(f"test server on port {port} did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)

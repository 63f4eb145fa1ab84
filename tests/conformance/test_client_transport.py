"""The recording client on a misbehaving wire: stale connections, resets and timeouts.

A raw asyncio server plays the target, so the test controls exactly when a connection breaks:
the second request on a kept-alive connection is read and the connection closed without a
byte, as a server does that reset a connection after its last answer.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable

import pytest

from conformance.client import RecordingClient
from conformance.context import CheckContext
from conformance.registry import CheckFailed, Registry, check
from conformance.runner import run_check_ids

_BODY = b'{"ok": true}'
_OK = (
    b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
    + f"content-length: {len(_BODY)}\r\nconnection: keep-alive\r\n\r\n".encode()
    + _BODY
)

Serve = Callable[[int], bool]  # (request number on its connection) -> answer it?


async def _read_request(reader: asyncio.StreamReader) -> bool:
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    if length:
        await reader.readexactly(length)
    return True


@contextlib.asynccontextmanager
async def _raw_server(answer: Serve) -> AsyncIterator[tuple[str, list[int]]]:
    """Yields (origin, connections): one entry per connection, counting its requests."""
    connections: list[int] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        index = len(connections)
        connections.append(0)
        try:
            while True:
                await _read_request(reader)
                connections[index] += 1
                if not answer(connections[index]):
                    writer.transport.abort()  # no byte, then the connection is gone
                    return
                writer.write(_OK)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        yield f"http://127.0.0.1:{port}", connections


async def test_client_stale_connection_is_retried_on_a_fresh_one() -> None:
    # Every connection answers its first request only: the pool's reused connection breaks.
    async with (
        _raw_server(lambda n: n == 1) as (origin, connections),
        RecordingClient(origin + "/v1", "k") as client,
    ):
        first = await client.request("POST", "/chat/completions", json={"a": 1})
        second = await client.request("POST", "/chat/completions", json={"a": 2})
    assert first.status == 200
    assert first.retried is None
    assert second.status == 200, second.error
    assert second.retried is not None
    assert second.retried.startswith(("RemoteProtocolError", "ReadError"))
    assert second.request_json() == {"a": 2}
    assert len(connections) == 2  # the repeat went out on a new connection
    assert client.requests == 2  # and did not count against --max-requests


async def test_client_second_broken_attempt_is_the_verdict() -> None:
    async with (
        _raw_server(lambda n: False) as (origin, connections),
        RecordingClient(origin + "/v1", "k") as client,
    ):
        exchange = await client.request("GET", "/models")
    assert exchange.status is None
    assert exchange.error is not None
    assert exchange.retried is not None
    assert len(connections) == 2  # tried twice, never more


async def test_client_timeout_says_after_how_long_and_which_limit(engine_origin: str) -> None:
    async with RecordingClient(engine_origin + "/v1", "sk-test", timeout=0.2) as client:
        exchange = await client.request("GET", "/slow")
        own = await client.request("GET", "/slow", timeout=0.3)
    assert exchange.status is None
    assert exchange.retried is None  # a slow target is not a broken connection
    assert exchange.error is not None
    assert exchange.error.startswith("ReadTimeout: timed out after 0.")
    assert "waiting for an answer" in exchange.error
    assert "no progress for 0.2 s: --request-timeout" in exchange.error
    assert own.error is not None
    assert "no progress for 0.3 s: a limit the check set" in own.error


def _timeout_registry() -> Registry:
    reg = Registry()

    @check("slow.request.refused", area="slow", level="smoke", endpoint="GET /slow",
           asserts="a", source="tests", into=reg)  # fmt: skip
    async def check_refused(ctx: CheckContext) -> None:
        exchange = await ctx.client.request("GET", "/slow", timeout=0.2)
        # What a check wrote when it took a missing answer for a refusal.
        raise CheckFailed(f"was refused: {exchange.status} {exchange.text!r}", exchange)

    @check("slow.check.hangs", area="slow", level="smoke", endpoint="-",
           asserts="a", source="tests", into=reg)  # fmt: skip
    async def check_hangs(ctx: CheckContext) -> None:
        await asyncio.sleep(5)

    return reg


@pytest.mark.parametrize(
    ("check_id", "expected"),
    [
        (
            "slow.request.refused",
            "the target did not answer (ReadTimeout: timed out after 0.",
        ),
        (
            "slow.check.hangs",
            "did not finish within its time limit of 0.5 s (--check-timeout)",
        ),
    ],
    ids=["request-timeout", "check-timeout"],
)
def test_client_timeouts_are_named_in_the_verdict(
    engine_origin: str, check_id: str, expected: str
) -> None:
    result = run_check_ids(
        engine_origin + "/v1",
        "sk-test",
        [check_id],
        checks=_timeout_registry(),
        check_timeout=0.5,
    ).by_id()[check_id]
    assert result.outcome == "failed"
    assert expected in result.message

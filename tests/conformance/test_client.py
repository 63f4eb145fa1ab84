from __future__ import annotations

import pytest

from conformance.client import RecordingClient, TokenCount, usage_of
from conformance.exchange import Exchange
from conformance.registry import CheckSkipped


async def test_client_records_json_exchange_with_auth(engine_origin: str) -> None:
    async with RecordingClient(engine_origin + "/v1", "sk-test") as client:
        exchange = await client.request("POST", "/chat/completions", json={"model": "m"})
    assert exchange.status == 200
    assert exchange.request_headers["authorization"] == "Bearer sk-test"
    assert exchange.request_json() == {"model": "m"}
    assert exchange.json()["echo"] == {"model": "m"}
    assert exchange.headers_at is not None
    assert exchange.finished_at is not None
    assert exchange.headers_at <= exchange.finished_at
    assert client.requests == 1
    assert client.tokens == TokenCount(5, 7)


async def test_client_decodes_gzip_body(engine_origin: str) -> None:
    async with RecordingClient(engine_origin + "/v1", "sk-test") as client:
        exchange = await client.request(
            "POST", "/chat/completions", json={"model": "m"}, headers={"Accept-Encoding": "gzip"}
        )
    assert exchange.headers["content-encoding"] == "gzip"
    assert exchange.json()["object"] == "chat.completion"
    assert b"".join(r.data for r in exchange.reads) == exchange.body


async def test_client_records_stream_reads_with_arrival_times(engine_origin: str) -> None:
    async with RecordingClient(engine_origin + "/v1", "sk-test") as client:
        exchange = await client.request(
            "POST", "/chat/completions", json={"model": "m", "stream": True}
        )
    assert exchange.content_type == "text/event-stream"
    assert len(exchange.reads) >= 3
    times = [r.at for r in exchange.reads]
    assert times == sorted(times)
    # the app sleeps 50 ms between content chunks: the reads must show it
    assert times[-1] - times[0] >= 0.1
    assert exchange.body.endswith(b"data: [DONE]\n\n")
    assert client.tokens == TokenCount(5, 7)


async def test_client_without_auth_sends_no_key(engine_origin: str) -> None:
    async with RecordingClient(engine_origin + "/v1", "sk-test") as client:
        exchange = await client.request("GET", "/models", auth=False)
    assert "authorization" not in exchange.request_headers
    assert exchange.status == 401


async def test_client_transport_error_becomes_exchange() -> None:
    from tests.live import free_port

    async with RecordingClient(f"http://127.0.0.1:{free_port()}/v1", None) as client:
        exchange = await client.request("GET", "/models")
    assert exchange.status is None
    assert exchange.error is not None
    assert "ConnectError" in exchange.error


async def test_client_midstream_disconnect_keeps_status_and_reads(engine_origin: str) -> None:
    async with RecordingClient(engine_origin + "/v1", None) as client:
        exchange = await client.request("GET", "/drop")
    assert exchange.status == 200
    assert exchange.error is not None
    assert exchange.body.startswith(b"data: {}")


async def test_client_read_timeout_becomes_exchange(engine_origin: str) -> None:
    async with RecordingClient(engine_origin + "/v1", None, timeout=0.2) as client:
        exchange = await client.request("GET", "/slow")
    assert exchange.status is None
    assert exchange.error is not None
    assert "Timeout" in exchange.error


async def test_client_budget_spent_skips() -> None:
    async with RecordingClient("http://127.0.0.1:9/v1", None, max_requests=0) as client:
        with pytest.raises(CheckSkipped, match="--max-requests 0"):
            await client.request("GET", "/models")
    assert client.requests == 0


def test_client_counts_an_exchange_once() -> None:
    client = RecordingClient("http://127.0.0.1:9/v1", None)
    exchange = Exchange(
        method="POST",
        url="u",
        request_headers={},
        request_body=b"",
        status=200,
        headers={"content-type": "application/json"},
        body=b'{"usage": {"input_tokens": 3, "output_tokens": 4}}',
        headers_at=0.1,
        finished_at=0.2,
    )
    client.note_tokens(exchange)
    client.note_tokens(exchange)
    assert client.tokens == TokenCount(3, 4)


@pytest.mark.parametrize(
    ("content_type", "body", "expected"),
    [
        (
            "application/json",
            b'{"usage": {"prompt_tokens": 1, "completion_tokens": 2}}',
            TokenCount(1, 2),
        ),
        (
            "application/json",
            b'{"usage": {"prompt_tokens": 9, "total_tokens": 9}}',
            TokenCount(9, 0),
        ),
        ("application/json", b"not json", TokenCount()),
        (
            "text/event-stream",
            b'data: {"usage": null}\n\ndata: {"usage": {"prompt_tokens": 2, "completion_tokens": 3}}\n\ndata: [DONE]\n\n',
            TokenCount(2, 3),
        ),
        (
            "text/event-stream",
            b'event: response.completed\ndata: {"response": {"usage": {"input_tokens": 4, "output_tokens": 1}}}\n\n',
            TokenCount(4, 1),
        ),
        ("audio/mpeg", b"ID3...", TokenCount()),
    ],
    ids=["chat-json", "embeddings-json", "not-json", "chat-stream", "responses-stream", "binary"],
)
def test_client_usage_of_reads_every_shape(
    content_type: str, body: bytes, expected: TokenCount
) -> None:
    exchange = Exchange(
        method="POST",
        url="u",
        request_headers={},
        request_body=b"",
        status=200,
        headers={"content-type": content_type},
        body=body,
    )
    assert usage_of(exchange) == expected


def test_client_note_usage_and_spend_outside_requests() -> None:
    client = RecordingClient("http://127.0.0.1:9/v1", None, max_requests=3)
    client.note_usage(prompt=4, completion=2)
    assert client.tokens == TokenCount(4, 2)
    client.spend(2)
    assert client.remaining == 1
    with pytest.raises(CheckSkipped, match="2 of --max-requests 3"):
        client.spend(2)
    assert client.requests == 2
    with pytest.raises(ValueError, match="-1"):
        client.note_usage(prompt=-1)

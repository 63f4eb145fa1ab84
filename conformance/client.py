"""The recording client: sends a check's requests and keeps what the wire showed as an Exchange.

Owns: the HTTP client (``httpx.AsyncClient``) of one run, the ``--max-requests`` budget, and the
run's request and token counts. Every read of a response body is kept with its arrival time,
after content decoding (gzip, deflate, br): ``httpx`` decodes each raw read as it arrives, so
the times are those of the raw bytes. Transport errors never raise; they come back as an
Exchange with ``error`` set (and ``status=None`` when no response head arrived); a timeout says
after how long, waiting for what, and which limit.

A connection that breaks before any response byte (a server that reset a kept-alive connection
after its last answer, and the pool handed it to the next request) is not the next request's
fault: the request is sent once more on a fresh connection, and only a second failure is kept.
The repeat is recorded (``Exchange.retried``) and does not count against ``--max-requests``.

An absolute URL (one the target handed out, like an image's ``url``) is fetched only on the
target's own host or a host named with ``--allow-fetch``: a target must not be able to point
parity at another machine (a cloud metadata address, an internal service) from a CI runner.

Must not: judge responses (checks do), render or redact evidence (the writers do), or read the
environment (the command line does).
"""

from __future__ import annotations

import time
from collections.abc import Collection, Mapping
from dataclasses import replace
from types import TracebackType
from typing import Any

import httpx

from conformance.errors import CheckSkipped
from conformance.exchange import Exchange, Read
from conformance.usage import TokenCount, usage_of

# TokenCount and usage_of are re-exported: the client counts what its exchanges report.
__all__ = ["DEFAULT_TIMEOUT", "MAX_BODY_BYTES", "RecordingClient", "TokenCount", "usage_of"]

# Seconds allowed for connecting, sending and between two reads (``--request-timeout``); a check's
# own time limit (``--check-timeout``) bounds the total.
DEFAULT_TIMEOUT = 60.0
# Errors that may mean a stale pooled connection when no response byte arrived. Timeouts are
# not among them: a slow target is not a broken connection.
_BROKEN_CONNECTION = (httpx.NetworkError, httpx.RemoteProtocolError)
_WAITING_FOR = {
    httpx.ConnectTimeout: "to connect",
    httpx.WriteTimeout: "to send the request",
    httpx.PoolTimeout: "for a free connection",
}
# A response body is kept up to this size; the rest is read and dropped (so the connection
# still finishes) and the exchange notes the truncation in ``error``.
MAX_BODY_BYTES = 32 * 1024 * 1024
_USER_AGENT = "parity-conformance/0.1 (+https://github.com/openai-parity)"


class RecordingClient:
    """Implements :class:`conformance.context.Client` for one run (use as an async context).

    ``transport`` lets tests plug an in-process transport; ``max_requests`` is the run's
    budget (None: unlimited). Counts: :attr:`requests` made, :attr:`tokens` reported.
    """

    def __init__(
        self,
        base_url: str,
        api_key: str | None,
        *,
        max_requests: int | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        transport: httpx.AsyncBaseTransport | None = None,
        allow_fetch: Collection[str] = (),
    ) -> None:
        if max_requests is not None and max_requests < 0:
            raise ValueError(f"max_requests must be >= 0 or None, got {max_requests!r}")
        if timeout <= 0:
            raise ValueError(f"timeout must be > 0 seconds, got {timeout!r}")
        self.base_url = base_url.rstrip("/")
        self.host = httpx.URL(self.base_url).host
        self.allow_fetch = frozenset(host.lower() for host in allow_fetch)
        self._api_key = api_key
        self.max_requests = max_requests
        self.timeout = timeout
        self.requests = 0
        self.tokens = TokenCount()
        self._counted: set[tuple[str, str, float | None, float | None, int]] = set()
        self._transport = transport
        # Connection: close and keep-alive must both work; a small pool keeps it polite.
        self._http = self._client(max_keepalive_connections=4)
        self._fresh: httpx.AsyncClient | None = None

    def _client(self, *, max_keepalive_connections: int) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            transport=self._transport,
            follow_redirects=False,
            timeout=httpx.Timeout(self.timeout),
            headers={"user-agent": _USER_AGENT},
            limits=httpx.Limits(
                max_connections=8, max_keepalive_connections=max_keepalive_connections
            ),
        )

    def _fresh_client(self) -> httpx.AsyncClient:
        """A client that keeps no connection, so each request opens a new one. A transport
        given by the caller (in-process tests) is shared: it has no pooled connections."""
        if self._transport is not None:
            return self._http
        if self._fresh is None:
            self._fresh = self._client(max_keepalive_connections=0)
        return self._fresh

    async def __aenter__(self) -> RecordingClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()
        if self._fresh is not None:
            await self._fresh.aclose()

    @property
    def remaining(self) -> int | None:
        """Requests left in the budget (None: unlimited)."""
        return None if self.max_requests is None else max(0, self.max_requests - self.requests)

    def spend(self, requests: int = 1) -> None:
        """Count ``requests`` against the budget; raise ``CheckSkipped`` when it is spent.

        The client calls this for its own requests; a check that makes requests some other way
        (the official SDK) calls it through the context for those.
        """
        if requests < 0:
            raise ValueError(f"requests must be >= 0, got {requests!r}")
        if self.max_requests is not None and self.requests + requests > self.max_requests:
            raise CheckSkipped(
                f"request budget spent ({self.requests} of --max-requests {self.max_requests} "
                "made); raise --max-requests to run this check",
                kind="budget",
            )
        self.requests += requests

    def note_tokens(self, exchange: Exchange) -> None:
        """Add the exchange's usage to :attr:`tokens`; counting one exchange twice is ignored."""
        key = (
            exchange.method,
            exchange.url,
            exchange.headers_at,
            exchange.finished_at,
            len(exchange.body),
        )
        if key in self._counted:
            return
        self._counted.add(key)
        self.tokens = self.tokens + usage_of(exchange)

    def note_usage(self, prompt: int = 0, completion: int = 0) -> None:
        """Add tokens reported outside an Exchange (an official-SDK response's ``usage``)."""
        if prompt < 0 or completion < 0:
            raise ValueError(f"token counts must be >= 0, got {prompt!r}, {completion!r}")
        self.tokens = self.tokens + TokenCount(prompt, completion)

    def url_for(self, path: str) -> str:
        """``path`` relative to the base URL; an absolute ``http(s)://`` URL is kept as is."""
        if path.startswith(("http://", "https://")):
            return path
        return f"{self.base_url}/{path.lstrip('/')}"

    def may_fetch(self, url: str) -> None:
        """Raise ``CheckSkipped`` for a URL on a host that is neither the target's nor allowed."""
        host = httpx.URL(url).host
        if host == self.host or host in self.allow_fetch:
            return
        raise CheckSkipped(
            f"not fetched: the URL is on {host!r}, not on the target's host {self.host!r}; "
            f"parity fetches only from the target's own host (pass --allow-fetch {host} to "
            "fetch it)",
            kind="not_fetched",
        )

    async def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        content: bytes | None = None,
        files: Mapping[str, Any] | None = None,
        data: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        auth: bool = True,
        timeout: float | None = None,
    ) -> Exchange:
        url = self.url_for(path)
        self.may_fetch(url)
        self.spend(1)
        send_headers: dict[str, str] = {k.lower(): v for k, v in (headers or {}).items()}
        if auth and self._api_key and "authorization" not in send_headers:
            send_headers["authorization"] = f"Bearer {self._api_key}"
        request = self._http.build_request(
            method.upper(),
            url,
            json=json,
            content=content,
            files=files,
            data=data,
            headers=send_headers,
            timeout=httpx.Timeout(timeout) if timeout is not None else httpx.USE_CLIENT_DEFAULT,
        )
        # Multipart and streamed request bodies are read once here so the evidence holds them.
        request_body = request.read()
        limit = (self.timeout if timeout is None else timeout, timeout is None)
        exchange, broken = await self._send(self._http, request, request_body, limit)
        if broken:
            again, _ = await self._send(self._fresh_client(), request, request_body, limit)
            exchange = replace(again, retried=exchange.error)
        self.note_tokens(exchange)
        return exchange

    async def _send(
        self,
        http: httpx.AsyncClient,
        request: httpx.Request,
        request_body: bytes,
        limit: tuple[float, bool],
    ) -> tuple[Exchange, bool]:
        """The exchange, and whether the connection broke before any response byte."""
        request_headers = {k.lower(): v for k, v in request.headers.items()}
        start = time.perf_counter()
        status: int | None = None
        headers: dict[str, str] = {}
        headers_at: float | None = None
        reads: list[Read] = []
        size = 0
        error: str | None = None
        broken = False
        try:
            response = await http.send(request, stream=True)
            try:
                headers_at = time.perf_counter() - start
                status = response.status_code
                headers = _lower_headers(response.headers)
                # aiter_bytes decodes Content-Encoding per raw read and yields what it can at
                # once, so each Read is stamped when its raw bytes arrived.
                async for chunk in response.aiter_bytes():
                    at = time.perf_counter() - start
                    kept = chunk[: max(0, MAX_BODY_BYTES - size)]
                    if len(kept) < len(chunk):
                        error = f"response body larger than {MAX_BODY_BYTES} bytes; truncated"
                    if kept:
                        reads.append(Read(at=at, data=kept))
                        size += len(kept)
            finally:
                await response.aclose()
        except httpx.HTTPError as exc:
            error = _describe(exc, time.perf_counter() - start, limit, size)
            broken = status is None and isinstance(exc, _BROKEN_CONNECTION)
        finished_at = time.perf_counter() - start
        exchange = Exchange(
            method=request.method,
            url=str(request.url),
            request_headers=request_headers,
            request_body=request_body,
            status=status,
            headers=headers,
            body=b"".join(read.data for read in reads),
            reads=tuple(reads),
            headers_at=headers_at,
            finished_at=finished_at,
            error=error,
        )
        return exchange, broken


def _lower_headers(headers: httpx.Headers) -> dict[str, str]:
    """Lowercase names; a repeated header keeps every value joined by ", " (RFC 9110 5.3)."""
    out: dict[str, str] = {}
    for name, value in headers.multi_items():
        key = name.lower()
        out[key] = f"{out[key]}, {value}" if key in out else value
    return out


def _describe(
    exc: httpx.HTTPError, elapsed: float, limit: tuple[float, bool], received: int
) -> str:
    """A one-line description of a transport error, naming its kind; a timeout says after how
    long, waiting for what, and which limit ran out (the run's or one the check set)."""
    detail = str(exc) or repr(exc)
    if not isinstance(exc, httpx.TimeoutException):
        return f"{type(exc).__name__}: {detail}"
    seconds, from_run = limit
    waiting = _WAITING_FOR.get(type(exc))
    if waiting is None:
        waiting = f"for the next byte after {received} bytes" if received else "for an answer"
    which = "--request-timeout" if from_run else "a limit the check set for this request"
    return (
        f"{type(exc).__name__}: timed out after {elapsed:.1f} s waiting {waiting} "
        f"(no progress for {seconds:g} s: {which})"
    )

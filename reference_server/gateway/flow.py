"""The request flow: authenticate -> resolve alias -> admit -> dispatch with fallback -> settle.

``Gateway`` calls the :class:`~reference_server.controls.base.Controls` seam at exactly these points:
``authenticate`` before anything else; ``admit`` once the request is valid and routed;
``settle`` with what the answering deployment served *before* the response's final bytes leave
(so a delivered answer is always billed), or ``release`` when nothing was served.

Fallback (issue 4, "Fallbacks"): deployments are tried in the alias's order, skipping those
whose circuit is open; a connect error, timeout, 5xx or upstream 429 moves on to the next one
*before the first byte reaches the client*, never after. An upstream 4xx (the request's own
fault) is answered as is. When every deployment failed the client gets the last failure
(429 with Retry-After, 504 for a timeout, 502 otherwise); 503 when every circuit is open.

Must not: parse HTTP (``endpoints/``) or encode stream frames (``relay``).
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

from reference_server.config import Deployment, ModelEntry, Settings
from reference_server.controls.base import (
    Admission,
    Controls,
    Principal,
    Served,
    Settlement,
    Ticket,
)
from reference_server.errors import GatewayError
from reference_server.gateway.circuit import CircuitBreakers
from reference_server.providers.base import Call, Provider, ProviderError, Reply

__all__ = ["SCOPE", "Answer", "Gateway", "OpenStream"]

SCOPE = "ai:consume"


class Answer(NamedTuple):
    reply: Reply
    deployment: Deployment
    headers: Mapping[str, str]
    settlement: Settlement


@dataclass(slots=True)
class OpenStream:
    """A stream whose first item arrived: the commit point has been passed."""

    deployment: Deployment
    first: dict[str, Any]
    rest: AsyncIterator[dict[str, Any]]
    started_at: float
    first_byte_at: float
    started: bool = False  # the relay to the client began (it then owns the settlement)


def _upstream_failure(error: ProviderError, headers: Mapping[str, str]) -> GatewayError:
    merged = dict(headers)
    if error.kind == "status" and error.status == 429:
        merged["retry-after"] = error.retry_after or "1"
        return GatewayError(
            429,
            error.message,
            type=error.error_type or "requests",
            code=error.code or "rate_limit_exceeded",
            headers=merged,
        )
    if error.kind == "status" and 400 <= error.status < 500:
        return GatewayError(
            error.status,
            error.message,
            type=error.error_type,
            code=error.code,
            param=error.param,
            headers=merged,
        )
    if error.kind == "timeout":
        return GatewayError(
            504,
            f"The upstream timed out: {error.message}",
            type="server_error",
            code="upstream_timeout",
            headers=merged,
        )
    return GatewayError(
        502,
        f"The upstream failed: {error.message}",
        type="server_error",
        code="upstream_error",
        headers=merged,
    )


class Gateway:
    def __init__(
        self,
        settings: Settings,
        controls: Controls,
        providers: Mapping[str, Provider],
        breakers: CircuitBreakers,
    ) -> None:
        self.settings = settings
        self.controls = controls
        self.providers = providers
        self.breakers = breakers

    def authenticate(self, authorization: str | None) -> Awaitable[Principal]:
        # Plain functions handing back the controls' awaitable: one coroutine less per request.
        return self.controls.authenticate(authorization, SCOPE)

    def admit(
        self,
        principal: Principal,
        *,
        request_id: str,
        endpoint: Any,
        asked: str,
        entry: ModelEntry,
        input_tokens: int,
        max_output_tokens: int | None,
        streaming: bool,
    ) -> Awaitable[Ticket]:
        admission = Admission(
            request_id=request_id,
            endpoint=endpoint,
            model_asked=asked,
            candidates=tuple(d.name for d in entry.deployments),
            input_tokens=input_tokens,
            max_output_tokens=max_output_tokens,
            streaming=streaming,
        )
        return self.controls.admit(principal, admission)

    def _no_deployment(self, entry: ModelEntry, headers: Mapping[str, str]) -> GatewayError:
        retry = max(1, int(self.breakers.cooldown_s))
        return GatewayError(
            503,
            f"No deployment of {entry.name!r} is available right now (circuits open); retry later.",
            type="server_error",
            code="model_unavailable",
            headers={**headers, "retry-after": str(retry)},
        )

    async def complete(self, ticket: Ticket, entry: ModelEntry, call: Call) -> Answer:
        """A whole answer from the first deployment that gives one; settled before returning."""
        last: ProviderError | None = None
        started = time.time()
        for deployment in entry.deployments:
            if not self.breakers.allow(deployment.name):
                continue
            provider = self.providers[deployment.provider]
            try:
                reply = await provider.complete(_for(call, deployment))
            except ProviderError as error:
                if not error.retryable:
                    self.breakers.record_success(deployment.name)
                    await self.controls.release(ticket)
                    raise _upstream_failure(error, ticket.headers) from None
                self.breakers.record_failure(deployment.name)
                last = error
                continue
            except BaseException:
                self.breakers.release_probe(deployment.name)
                await self.controls.release(ticket)
                raise
            self.breakers.record_success(deployment.name)
            finished = time.time()
            served = Served(
                deployment=deployment.name,
                model=deployment.model,
                prompt_tokens=reply.prompt_tokens,
                completion_tokens=reply.completion_tokens,
                outcome="ok",
                started_at=started,
                first_byte_at=finished,
                finished_at=finished,
                units=reply.units,
            )
            settlement = await self.controls.settle(ticket, served)
            headers = {
                **ticket.headers,
                **settlement.headers,
                "x-parity-deployment": deployment.name,
            }
            return Answer(reply, deployment, headers, settlement)
        await self.controls.release(ticket)
        if last is None:
            raise self._no_deployment(entry, ticket.headers)
        raise _upstream_failure(last, ticket.headers)

    async def open_stream(self, ticket: Ticket, entry: ModelEntry, call: Call) -> OpenStream:
        """Pull the first item of a stream, falling back until one deployment yields it."""
        last: ProviderError | None = None
        started = time.time()
        for deployment in entry.deployments:
            if not self.breakers.allow(deployment.name):
                continue
            provider = self.providers[deployment.provider]
            items = aiter(provider.stream(_for(call, deployment)))
            try:
                first = await anext(items)
            except StopAsyncIteration:
                self.breakers.record_failure(deployment.name)
                last = ProviderError("protocol", "the upstream stream ended before its first event")
                continue
            except ProviderError as error:
                await _aclose(items)
                if not error.retryable:
                    self.breakers.record_success(deployment.name)
                    await self.controls.release(ticket)
                    raise _upstream_failure(error, ticket.headers) from None
                self.breakers.record_failure(deployment.name)
                last = error
                continue
            except BaseException:
                await _aclose(items)
                self.breakers.release_probe(deployment.name)
                await self.controls.release(ticket)
                raise
            return OpenStream(deployment, first, items, started, time.time())
        await self.controls.release(ticket)
        if last is None:
            raise self._no_deployment(entry, ticket.headers)
        raise _upstream_failure(last, ticket.headers)

    async def settle_stream(
        self,
        ticket: Ticket,
        stream: OpenStream,
        *,
        prompt_tokens: int,
        completion_tokens: int,
        outcome: Any,
    ) -> Settlement:
        name = stream.deployment.name
        if outcome == "ok":
            self.breakers.record_success(name)
        elif outcome == "partial":
            self.breakers.record_failure(name)
        else:
            self.breakers.release_probe(name)
        served = Served(
            deployment=name,
            model=stream.deployment.model,
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            outcome=outcome,
            started_at=stream.started_at,
            first_byte_at=stream.first_byte_at,
            finished_at=time.time(),
        )
        return await self.controls.settle(ticket, served)


def _for(call: Call, deployment: Deployment) -> Call:
    return Call(
        call.endpoint,
        deployment.model,
        call.body,
        call.upload,
        call.request_id,
        call.prompt_tokens,
    )


async def _aclose(items: AsyncIterator[dict[str, Any]]) -> None:
    close = getattr(items, "aclose", None)
    if close is not None:
        await close()

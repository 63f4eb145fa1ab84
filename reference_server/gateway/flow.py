"""The request flow, once for every endpoint: authenticate -> read -> resolve alias -> admit ->
dispatch with fallback -> meter and settle.

An endpoint hands :meth:`Gateway.serve` the request's ``Authorization`` header and a function
that reads its request into a :class:`Job` (parse, validate, count the prompt's tokens). The
key is checked before the body is read, as OpenAI answers a bad key with 401 whatever the body.
Then the ``model`` the job read resolves to its deployments (``aliases``), the controls admit
the request (rate limits, then a budget reservation of its maximum cost), and the deployments
are tried in the one fallback loop (``fallback`` decides, ``circuit`` remembers):

- a whole answer comes back as an :class:`Answer`, already settled for what the answering
  deployment served, at its price;
- a stream comes back as a :class:`~reference_server.gateway.relay.Relay` once its first item
  arrived (the commit point: no fallback after it), which settles it before its final item.

The controls are called at exactly these points: ``authenticate`` first; ``admit`` once the
request is valid and routed; ``settle`` with what the answering deployment served *before* the
response's final bytes leave (so a delivered answer is always billed), or ``release`` when
nothing was served.

Must not: parse or render HTTP (``endpoints/``), or encode stream frames.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any, NamedTuple, TypeVar

from reference_server.config import Deployment, ModelEntry, Settings
from reference_server.controls.base import (
    Admission,
    Controls,
    EndpointName,
    Principal,
    Served,
    Settlement,
    Ticket,
)
from reference_server.gateway import fallback
from reference_server.gateway.aliases import resolve
from reference_server.gateway.circuit import CircuitBreakers
from reference_server.gateway.relay import Relay
from reference_server.providers.base import Call, Provider, ProviderError, Reply, Upload

__all__ = ["SCOPE", "Answer", "Gateway", "Job"]

SCOPE = "ai:consume"

_T = TypeVar("_T")
_Item = dict[str, Any]


class Job(NamedTuple):
    """One request as its endpoint read it: everything the flow needs, read from it once."""

    endpoint: EndpointName
    request_id: str
    model: Any  # the request's ``model`` as sent (``aliases.ABSENT`` when it sent none)
    body: Mapping[str, Any]  # the validated fields the provider is called with
    input_tokens: int  # the prompt's size (``reference_server.tokens``), for admission
    max_output_tokens: int | None = None
    stream: bool = False
    upload: Upload | None = None
    # A unit-priced request's most units (characters, seconds, images) and the image size
    # (``controls.metering.ENDPOINT_UNITS``); what was served is billed, these are reserved.
    units: float = 0.0
    variant: str = ""


class Answer(NamedTuple):
    """A whole reply from the deployment that answered, settled; ``headers`` for the client."""

    reply: Reply
    model: str  # the model the client asked for (aliases resolve to themselves)
    deployment: Deployment
    headers: Mapping[str, str]
    settlement: Settlement


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
        """The caller of a model endpoint (401 / 403 otherwise); ``serve`` starts with it."""
        # A plain function handing back the controls' awaitable: one coroutine less per request.
        return self.controls.authenticate(authorization, SCOPE)

    async def open_session(
        self, authorization: str | None, model: Any, endpoint: EndpointName
    ) -> ModelEntry:
        """A session of several requests (Realtime) starts as one request would: the key
        (401 / 403), the model (404 / 400), then the caller's budgets (429
        ``insufficient_quota`` when one has nothing left; nothing is held)."""
        principal = await self.controls.authenticate(authorization, SCOPE)
        entry = resolve(self.settings, model, endpoint)
        await self.controls.require_quota(principal)
        return entry

    async def serve(
        self, authorization: str | None, read: Callable[[], Awaitable[Job]]
    ) -> Answer | Relay:
        """The flow for one request: an :class:`Answer`, or a :class:`Relay` for a stream."""
        principal = await self.controls.authenticate(authorization, SCOPE)
        job = await read()
        entry = resolve(self.settings, job.model, job.endpoint)
        admission = Admission(
            request_id=job.request_id,
            endpoint=job.endpoint,
            model_asked=entry.name,
            candidates=tuple(d.name for d in entry.deployments),
            input_tokens=job.input_tokens,
            max_output_tokens=job.max_output_tokens,
            streaming=job.stream,
            units=job.units,
            variant=job.variant,
        )
        ticket = await self.controls.admit(principal, admission)
        # A Realtime response is generated as a chat completion stream, and billed as realtime.
        kind = "chat" if job.endpoint == "realtime" else job.endpoint
        call = Call(
            kind,
            entry.name,
            job.body,
            job.upload,
            job.request_id,
            job.input_tokens if kind == "chat" else None,
        )
        started = time.time()
        if job.stream:
            deployment, (first, rest) = await self._dispatch(ticket, entry, call, _first_item)
            return Relay(
                self.controls,
                self.breakers,
                ticket,
                deployment=deployment,
                first=first,
                rest=rest,
                kind="responses" if kind == "responses" else "chat",
                model=entry.name,
                prompt_tokens=job.input_tokens,
                started_at=started,
                first_byte_at=time.time(),
            )
        deployment, reply = await self._dispatch(ticket, entry, call, _complete)
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
            # The provider's count of what it served; else the request's (a passthrough
            # upstream reports no characters, seconds or images).
            units=reply.units if reply.units > 0 else job.units,
        )
        settlement = await self.controls.settle(ticket, served)
        headers = {**ticket.headers, **settlement.headers, "x-parity-deployment": deployment.name}
        return Answer(reply, entry.name, deployment, headers, settlement)

    async def _dispatch(
        self,
        ticket: Ticket,
        entry: ModelEntry,
        call: Call,
        attempt: Callable[[Provider, Call], Awaitable[_T]],
    ) -> tuple[Deployment, _T]:
        """The fallback loop: ``attempt`` on each deployment ``fallback`` offers, until one
        succeeds; the reservation is released when none does."""
        last: ProviderError | None = None
        for deployment in fallback.candidates(entry.deployments, self.breakers.allow):
            provider = self.providers[deployment.provider]
            try:
                result = await attempt(provider, _for(call, deployment))
            except ProviderError as error:
                if not fallback.retryable(error):
                    self.breakers.record_success(deployment.name)  # it answered, for itself
                    await self.controls.release(ticket)
                    raise fallback.upstream_failure(error, ticket.headers) from None
                self.breakers.record_failure(deployment.name)
                last = error
                continue
            except BaseException:
                self.breakers.release_probe(deployment.name)
                await self.controls.release(ticket)
                raise
            return deployment, result
        await self.controls.release(ticket)
        raise fallback.exhausted(entry.name, last, ticket.headers, self.breakers.cooldown_s)


def _for(call: Call, deployment: Deployment) -> Call:
    # The constructor, not NamedTuple._replace: one C call on the hot path.
    return Call(
        call.endpoint, deployment.model, call.body, call.upload, call.request_id, call.prompt_tokens
    )


def _complete(provider: Provider, call: Call) -> Awaitable[Reply]:
    return provider.complete(call)


async def _first_item(provider: Provider, call: Call) -> tuple[_Item, AsyncIterator[_Item]]:
    """Open a stream and pull its first item: the commit point."""
    items = aiter(provider.stream(call))
    try:
        first = await anext(items)
    except StopAsyncIteration:
        raise ProviderError(
            "protocol", "the upstream stream ended before its first event"
        ) from None
    except BaseException:
        close = getattr(items, "aclose", None)
        if close is not None:
            await close()
        raise
    return first, items

"""A small gateway in front of two ``parity upstream`` instances, with one switch per defect.

With no defect it keeps every promise the drills check (a second, independent implementation
that passes them all); each defect breaks exactly one promise, the way real gateways have:

* ``no_fallback_5xx`` / ``no_fallback_429`` / ``no_fallback_reset``: pass the primary's failure on
* ``no_timeout``: wait for a stalled upstream as long as it takes
* ``hang_all_down``: never answer when every upstream failed
* ``splice``: on a cut stream, continue with the fallback's stream and end with [DONE]
* ``done_on_malformed``: treat a chunk that is not JSON as the end of a complete stream
* ``primary_price_typo``: the credits header of the primary's non-stream answers prices output
  tokens at the input price (a price-table typo; the internal ledger is right)
* ``stream_price``: stream credits at the fallback's price
* ``bill_failed_attempt``: a fallback answer is also billed at the failed primary's price
* ``partial_bills_full``: a cut stream is billed as if it had completed
* ``no_reservation``: check the budget before a call, charge after it
* ``per_worker``: rate-limit counters per worker (two workers: twice the limit)
* ``sticky_fallback``: an opened circuit never closes

Legal variants: ``stall_error`` (a timed-out primary answers a 504 error object) and
``cut_without_error`` (a cut stream ends the transfer without an error event).
"""

from __future__ import annotations

import asyncio
import collections
import json
import time
from collections.abc import AsyncIterator
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from conformance.drills.profile import DrillProfile
from conformance.drills.profile import Route as PriceRoute
from reference_server.tokens import count_tokens, message_tokens, prompt_extras

__all__ = ["DEFECTS", "broken_gateway"]

DEFECTS = (
    "no_fallback_5xx",
    "no_fallback_429",
    "no_fallback_reset",
    "no_timeout",
    "hang_all_down",
    "splice",
    "done_on_malformed",
    "primary_price_typo",
    "stream_price",
    "bill_failed_attempt",
    "partial_bills_full",
    "no_reservation",
    "per_worker",
    "sticky_fallback",
    "stall_error",
    "cut_without_error",
)
_RESERVE_PROMPT = 64


class _Failed(Exception):
    def __init__(self, kind: str, response: httpx.Response | None = None) -> None:
        self.kind = kind  # status | reset | timeout
        self.response = response


def _error(status: int, message: str, kind: str, code: str, **headers: str) -> JSONResponse:
    body = {"error": {"message": message, "type": kind, "param": None, "code": code}}
    return JSONResponse(body, status_code=status, headers=headers)


def _cost(route: PriceRoute, prompt: int, completion: int) -> Decimal:
    raw = (prompt * route.input_per_mtok + completion * route.output_per_mtok) / Decimal(10**6)
    return raw.quantize(Decimal("0.000001"), rounding=ROUND_HALF_UP)


def broken_gateway(
    primary: str, fallback: str, profile: DrillProfile, defects: frozenset[str] = frozenset()
) -> Starlette:
    unknown = defects - set(DEFECTS)
    if unknown:
        raise ValueError(f"unknown defects {sorted(unknown)!r}; known: {DEFECTS}")
    routes = [(primary, profile.primary), (fallback, profile.fallback)]
    http = httpx.AsyncClient(headers={"authorization": "Bearer sk-parity-demo"})
    timeout = None if "no_timeout" in defects else profile.timeouts.upstream_s
    spent: dict[str, Decimal] = collections.defaultdict(Decimal)
    held: dict[str, Decimal] = collections.defaultdict(Decimal)
    windows: list[collections.deque[float]] = [collections.deque(), collections.deque()]
    turn = [0]
    failures = {url: 0 for url, _ in routes}
    opened: dict[str, float] = {}
    circuit = profile.circuit

    def allowed(url: str) -> bool:
        if url not in opened:
            return True
        if "sticky_fallback" in defects:
            return False
        assert circuit is not None
        return time.monotonic() - opened[url] >= circuit.window_s

    def record(url: str, ok: bool) -> None:
        if ok:
            failures[url] = 0
            opened.pop(url, None)
            return
        failures[url] += 1
        if circuit is not None and failures[url] >= circuit.failure_threshold:
            opened[url] = time.monotonic()

    def rate_refusal(key: str) -> Response | None:
        rate = profile.rate_limit
        if rate is None or key != rate.api_key:
            return None
        worker = turn[0] % 2 if "per_worker" in defects else 0
        turn[0] += 1
        window, now = windows[worker], time.monotonic()
        while window and now - window[0] >= rate.period_s:
            window.popleft()
        if len(window) >= rate.limit:
            wait = max(1, int(rate.period_s - (now - window[0]) + 0.999))
            return _error(
                429,
                "Rate limit reached.",
                "requests",
                "rate_limit_exceeded",
                **{"retry-after": str(wait)},
            )
        window.append(now)
        return None

    def reserve(key: str, max_tokens: int) -> Decimal | Response:
        budget = profile.budget
        if budget is None or key != budget.api_key:
            return Decimal(0)
        price = max((r for _, r in routes), key=lambda r: r.output_per_mtok)
        estimate = _cost(price, _RESERVE_PROMPT, max_tokens)
        if "no_reservation" in defects:
            estimate = Decimal(0)
        if spent[key] + held[key] + estimate > budget.credits or spent[key] >= budget.credits:
            return _error(
                429, "You exceeded your current quota.", "insufficient_quota", "insufficient_quota"
            )
        held[key] += estimate
        return estimate

    async def attempt(url: str, body: dict[str, Any], stream: bool) -> httpx.Response:
        request = http.build_request(
            "POST",
            f"{url}/v1/chat/completions",
            json=body,
            timeout=httpx.Timeout(timeout, connect=2.0),
        )
        try:
            response = await http.send(request, stream=stream)
        except httpx.TimeoutException:
            raise _Failed("timeout") from None
        except httpx.TransportError:
            raise _Failed("reset") from None
        if response.status_code >= 500 or response.status_code == 429:
            await response.aread()
            raise _Failed("status", response)
        return response

    def passes_on(failure: _Failed) -> bool:
        status = failure.response.status_code if failure.response is not None else 0
        return (
            (failure.kind == "status" and status >= 500 and "no_fallback_5xx" in defects)
            or (failure.kind == "status" and status == 429 and "no_fallback_429" in defects)
            or (failure.kind == "reset" and "no_fallback_reset" in defects)
            or (failure.kind == "timeout" and "stall_error" in defects)
        )

    def failure_response(failure: _Failed) -> Response:
        if failure.response is not None:
            return Response(
                failure.response.content,
                failure.response.status_code,
                media_type="application/json",
            )
        code = 504 if failure.kind == "timeout" else 502
        return _error(code, f"upstream {failure.kind}", "server_error", "upstream_error")

    async def chat(request: Request) -> Response:
        key = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
        body = await request.json()
        refusal = rate_refusal(key)
        if refusal is not None:
            return refusal
        reservation = reserve(key, int(body.get("max_tokens") or 64))
        if isinstance(reservation, Response):
            return reservation
        stream = bool(body.get("stream"))
        upstream_body = {**body, "model": "claude-sonnet-4-6"}
        if stream:
            upstream_body["stream_options"] = {"include_usage": True}
        failed: list[PriceRoute] = []
        for url, price in routes:
            if not allowed(url):
                continue
            upstream_body["model"] = "claude-sonnet-4-6" if url == primary else "claude-haiku-4-5"
            try:
                response = await attempt(url, upstream_body, stream)
            except _Failed as failure:
                record(url, False)
                if passes_on(failure):
                    held[key] -= reservation
                    return failure_response(failure)
                failed.append(price)
                continue
            if stream:
                return await relay(key, reservation, response, url, price, body, upstream_body)
            record(url, True)
            answer = response.json()
            usage = answer.get("usage") or {}
            prompt, completion = int(usage["prompt_tokens"]), int(usage["completion_tokens"])
            credits = _cost(price, prompt, completion)
            if "bill_failed_attempt" in defects:
                credits += sum((_cost(p, prompt, completion) for p in failed), Decimal(0))
            held[key] -= reservation
            spent[key] += credits
            shown = credits
            if "primary_price_typo" in defects and url == primary:
                typo = PriceRoute(price.upstream, price.input_per_mtok, price.input_per_mtok)
                shown = _cost(typo, prompt, completion)
            header = profile.metering.credits_header or "x-credits"
            return JSONResponse(answer, headers={header: str(shown)})
        held[key] -= reservation
        if "hang_all_down" in defects:
            # Longer than the drill waits (all_down_s + 2), short enough to shut down promptly.
            await asyncio.sleep(profile.timeouts.all_down_s + 2.5)
        return _error(503, "every upstream is down", "server_error", "model_unavailable")

    async def relay(
        key: str,
        reservation: Decimal,
        response: httpx.Response,
        url: str,
        price: PriceRoute,
        body: dict[str, Any],
        upstream_body: dict[str, Any],
    ) -> Response:
        lines = response.aiter_lines()
        prompt = message_tokens(body["messages"], prompt_extras(upstream_body))
        try:
            first = await anext(lines)
        except (httpx.TransportError, StopAsyncIteration):
            record(url, False)
            held[key] -= reservation
            return _error(
                502, "upstream failed before its first byte", "server_error", "upstream_error"
            )

        async def events() -> AsyncIterator[bytes]:
            delivered = 0
            line: str | None = first
            settled = False
            try:
                while line is not None:
                    if line.startswith("data: "):
                        payload = line[6:]
                        if payload == "[DONE]":
                            yield b"data: [DONE]\n\n"
                            record(url, True)
                            return
                        try:
                            item = json.loads(payload)
                        except ValueError:
                            if "done_on_malformed" in defects:
                                yield b"data: [DONE]\n\n"
                                return
                            raise _Failed("malformed") from None
                        if isinstance(item.get("usage"), dict):
                            usage = item["usage"]
                            billed = profile.fallback if "stream_price" in defects else price
                            credits = _cost(
                                billed, usage["prompt_tokens"], usage["completion_tokens"]
                            )
                            usage[profile.metering.usage_field or "credits_used"] = float(credits)
                            spent[key] += credits
                            settled = True
                        for choice in item.get("choices") or ():
                            delivered += count_tokens(
                                (choice.get("delta") or {}).get("content") or ""
                            )
                        yield f"data: {json.dumps(item)}\n\n".encode()
                    line = await anext(lines, None)
                raise _Failed("reset")
            except (_Failed, httpx.TransportError) as exc:
                record(url, False)
                if not settled:
                    full = 24 if "partial_bills_full" in defects else delivered
                    spent[key] += _cost(price, prompt, full)
                    settled = True
                transport = not isinstance(exc, _Failed) or exc.kind == "reset"
                if "splice" in defects and url == primary and transport:
                    spliced = await attempt(
                        fallback, {**upstream_body, "model": "claude-haiku-4-5"}, True
                    )
                    async for extra in spliced.aiter_lines():
                        if not extra.startswith("data: "):
                            continue
                        payload = extra[6:]
                        if payload != "[DONE]" and isinstance(
                            json.loads(payload).get("usage"), dict
                        ):
                            usage = json.loads(payload)["usage"]  # billed too: both were served
                            spent[key] += _cost(
                                profile.fallback, usage["prompt_tokens"], usage["completion_tokens"]
                            )
                        yield (extra + "\n\n").encode()
                    return
                if "cut_without_error" in defects:
                    raise RuntimeError("cut") from None
                error = {
                    "error": {
                        "message": "upstream failed mid-stream",
                        "type": "server_error",
                        "param": None,
                        "code": "upstream_error",
                    }
                }
                yield f"data: {json.dumps(error)}\n\n".encode()
            finally:
                held[key] -= reservation
                await response.aclose()

        return StreamingResponse(events(), media_type="text/event-stream")

    async def spend(request: Request) -> Response:
        key = request.query_params.get("key_id", "")
        return JSONResponse({"total_credits": float(spent[key])})

    return Starlette(
        routes=[
            Route("/v1/chat/completions", chat, methods=["POST"]),
            Route("/admin/spend", spend, methods=["GET"]),
        ]
    )

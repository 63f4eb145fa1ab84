"""The fuzz layer's checks (area ``fuzz``, level ``deep``): one per schemathesis failure kind.

One schemathesis run per ``parity check`` run (memoised on the check context) is judged by
several checks, each owning one failure kind, so ``--skip fuzz.status.documented`` or a report
filter works per kind. A check fails with :class:`FuzzFailures`, a :class:`CheckFailed` whose
``findings`` hold every distinct failure of its kind (the message lists them, the evidence is
the first one's exchange); a runner that knows the attribute can fan them out into one result
each.

Must not: run schemathesis in the event loop's thread (it blocks), or spend requests the run's
``--max-requests`` has not got left.
"""

from __future__ import annotations

import asyncio
import weakref
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from conformance.fuzz.document import Deviations
from conformance.fuzz.findings import FuzzFinding, FuzzReport
from conformance.fuzz.run import FuzzTarget, run_fuzz
from conformance.fuzz.settings import FuzzSettings
from conformance.registry import CheckFailed, CheckSkipped, CheckWarning, check
from conformance.seeds import seed_of

if TYPE_CHECKING:
    from conformance.context import CheckContext

__all__ = ["CHECK_IDS", "FuzzFailures", "fuzz_report"]

# schemathesis check name -> parity check id.
CHECK_IDS: dict[str, str] = {
    "not_a_server_error": "fuzz.server.no_server_error",
    "status_code_conformance": "fuzz.status.documented",
    "content_type_conformance": "fuzz.content_type.documented",
    "response_schema_conformance": "fuzz.schema.response_conforms",
    "negative_data_rejection": "fuzz.validation.rejects_invalid",
    "positive_data_acceptance": "fuzz.validation.accepts_valid",
    "openai_error_object": "fuzz.errors.error_object",
    "stream_chunk_conformance": "fuzz.stream.chunk_schema",
    "listed_model_retrievable": "fuzz.stateful.listed_model_retrievable",
}
_LISTED = 5

_REPORTS: weakref.WeakKeyDictionary[object, asyncio.Future[FuzzReport]] = (
    weakref.WeakKeyDictionary()
)


class FuzzFailures(CheckFailed):
    """A failed fuzz check: ``findings`` holds each distinct failure of the check's kind."""

    def __init__(self, message: str, findings: tuple[FuzzFinding, ...]) -> None:
        super().__init__(message, evidence=findings[0].evidence if findings else None)
        self.findings = findings


@runtime_checkable
class _Budgeted(Protocol):
    @property
    def remaining(self) -> int | None: ...


def _settings(ctx: CheckContext) -> FuzzSettings:
    defaults = FuzzSettings()
    wanted = ctx.target.fuzz_requests or defaults.max_requests
    remaining = ctx.client.remaining if isinstance(ctx.client, _Budgeted) else None
    if remaining is not None and remaining < 1:
        raise CheckSkipped("request budget spent before the fuzz run; raise --max-requests")
    requests = wanted if remaining is None else min(wanted, remaining)
    if wanted <= defaults.max_requests:
        return FuzzSettings(max_requests=requests)
    # A bigger request budget is useless if the per-operation example cap or the clock stops
    # the run first: both grow in proportion (20 examples and 45 s per 400 requests).
    scale = wanted / defaults.max_requests
    return FuzzSettings(
        max_requests=requests,
        max_examples=round(defaults.max_examples * scale),
        max_time=round(defaults.max_time * scale),
    )


async def _make_report(ctx: CheckContext) -> FuzzReport:
    target = ctx.target
    settings = _settings(ctx)
    seed = seed_of(target)
    fuzz_target = FuzzTarget(
        base_url=target.base_url,
        api_key=target.api_key,
        models=dict(target.models),
        auth_error_shape=target.profile.auth_error_shape,
        deviations=Deviations(
            default_model=target.profile.default_model is not None,
            images_b64_only=target.profile.images_b64_only,
        ),
    )
    loop = asyncio.get_running_loop()

    async def spend() -> bool:
        try:
            ctx.spend(1)
        except CheckSkipped:
            return False
        return True

    def on_send() -> bool:
        # Each fuzz request counts against --max-requests as it is sent, on the loop's thread
        # (other checks spend from the same budget concurrently).
        return asyncio.run_coroutine_threadsafe(spend(), loop).result(timeout=30)

    report = await asyncio.to_thread(run_fuzz, fuzz_target, settings, seed=seed, on_send=on_send)
    for exchange in report.usage_exchanges:
        ctx.note_tokens(exchange)
    return report


async def fuzz_report(ctx: CheckContext) -> FuzzReport:
    """The run's fuzz report: made by the first fuzz check, awaited by the others."""
    future = _REPORTS.get(ctx)
    if future is None:
        future = asyncio.ensure_future(_make_report(ctx))
        _REPORTS[ctx] = future
    # shield: one check timing out must not cancel the run the others wait for.
    return await asyncio.shield(future)


def _listing(findings: tuple[FuzzFinding, ...]) -> str:
    listed = "\n".join(f.describe() for f in findings[:_LISTED])
    more = f"\n(and {len(findings) - _LISTED} more)" if len(findings) > _LISTED else ""
    return listed + more


async def _judge(ctx: CheckContext, kind: str, *, warn: bool = False) -> None:
    """Fail on the findings of ``kind`` whose verdict is ``failed``; warn on the others.

    A finding's verdict is ``failed`` unless its class says otherwise (negative data breaking
    a constraint OpenAI documents no refusal for, ``spec/fuzz-verdicts.yaml``); ``warn`` makes
    every finding of the kind a warning.
    """
    report = await fuzz_report(ctx)
    if not report.operations:
        raise CheckSkipped(f"no operation to fuzz ({report.summary()})")
    findings = report.of(kind)
    failing = () if warn else tuple(f for f in findings if f.verdict == "failed")
    warning = tuple(f for f in findings if f not in failing)
    if failing:
        aside = (
            f"\n({len(warning)} more of a kind OpenAI documents no refusal for: not failures)"
            if warning
            else ""
        )
        raise FuzzFailures(
            f"{len(failing)} distinct {kind} finding(s) over {report.summary()}:\n"
            f"{_listing(failing)}{aside}",
            failing,
        )
    if warning:
        raise CheckWarning(
            f"{len(warning)} distinct {kind} finding(s) over {report.summary()}:\n"
            f"{_listing(warning)}",
            evidence=warning[0].evidence,
        )


_SCHEMATHESIS = "schemathesis 4 check `{}` (schemathesis docs, Checks reference)"
_SPEC = "spec/openai.yaml (from the official openai-openapi)"


@check(
    "fuzz.server.no_server_error",
    area="fuzz",
    level="deep",
    endpoint="*",
    asserts="No generated request, valid or not, gets a 5xx answer.",
    source=f"{_SCHEMATHESIS.format('not_a_server_error')}; OpenAI API reference, Error codes",
)
async def check_fuzz_no_server_error(ctx: CheckContext) -> None:
    await _judge(ctx, "not_a_server_error")


@check(
    "fuzz.status.documented",
    area="fuzz",
    level="deep",
    endpoint="*",
    asserts="Every status the target answers is one the spec documents for the operation.",
    source=f"{_SCHEMATHESIS.format('status_code_conformance')}; {_SPEC} responses",
)
async def check_fuzz_status_documented(ctx: CheckContext) -> None:
    await _judge(ctx, "status_code_conformance")


@check(
    "fuzz.content_type.documented",
    area="fuzz",
    level="deep",
    endpoint="*",
    asserts="Every answer's Content-Type is one the spec documents for its status.",
    source=f"{_SCHEMATHESIS.format('content_type_conformance')}; {_SPEC} responses",
)
async def check_fuzz_content_type_documented(ctx: CheckContext) -> None:
    await _judge(ctx, "content_type_conformance")


@check(
    "fuzz.schema.response_conforms",
    area="fuzz",
    level="deep",
    endpoint="*",
    asserts="Every JSON answer to a generated request validates against the spec's schema.",
    source=f"{_SCHEMATHESIS.format('response_schema_conformance')}; {_SPEC} components",
)
async def check_fuzz_response_conforms(ctx: CheckContext) -> None:
    await _judge(ctx, "response_schema_conformance")


@check(
    "fuzz.validation.rejects_invalid",
    area="fuzz",
    level="deep",
    endpoint="*",
    asserts="A request that violates the spec is answered 4xx: failed where OpenAI refuses the "
    "kind of violation with a documented code (type, enum, required, numeric range, string and "
    "array length, unknown top-level argument, JSON syntax), a warning for the other kinds "
    "(pattern, format, nested additionalProperties).",
    source=f"{_SCHEMATHESIS.format('negative_data_rejection')}; OpenAI API reference, Error codes "
    "(400); spec/fuzz-verdicts.yaml (constraint kind -> OpenAI error, with sources)",
)
async def check_fuzz_rejects_invalid(ctx: CheckContext) -> None:
    await _judge(ctx, "negative_data_rejection")


@check(
    "fuzz.validation.accepts_valid",
    area="fuzz",
    level="deep",
    endpoint="*",
    asserts="A request the spec allows (with a served model) is not refused (warning only).",
    source=f"{_SCHEMATHESIS.format('positive_data_acceptance')}; {_SPEC} request schemas",
)
async def check_fuzz_accepts_valid(ctx: CheckContext) -> None:
    # A warning, not a failure: the spec cannot state OpenAI's cross-field rules, so OpenAI
    # itself refuses some schema-valid requests (API reference, Chat: `top_logprobs` needs
    # `logprobs: true`; `tool_choice` must name a listed tool; Embeddings: input "cannot be an
    # empty string", which the official schema does not encode).
    await _judge(ctx, "positive_data_acceptance", warn=True)


@check(
    "fuzz.errors.error_object",
    area="fuzz",
    level="deep",
    endpoint="*",
    asserts="Every 4xx/5xx answer to a generated request is OpenAI's error object.",
    source="OpenAI API reference, Error codes; spec component ErrorResponse; openai-python "
    "APIStatusError reads error.message",
)
async def check_fuzz_error_object(ctx: CheckContext) -> None:
    await _judge(ctx, "openai_error_object")


@check(
    "fuzz.stream.chunk_schema",
    area="fuzz",
    level="deep",
    endpoint="POST /chat/completions",
    asserts="Every chunk of every generated streamed answer matches the stream chunk schema.",
    source="OpenAI API reference, Chat Completions, The chat completion chunk object; spec "
    "component CreateChatCompletionStreamResponse",
)
async def check_fuzz_stream_chunks(ctx: CheckContext) -> None:
    await _judge(ctx, "stream_chunk_conformance")


@check(
    "fuzz.stateful.listed_model_retrievable",
    area="fuzz",
    level="deep",
    endpoint="GET /v1/models -> GET /v1/models/{model}",
    asserts="Every model id GET /models lists (followed by the stateful phase) is retrievable.",
    source="OpenAI API reference, Models: List models ('the currently available models') and "
    "Retrieve model; spec link listModels -> retrieveModel",
)
async def check_fuzz_listed_model_retrievable(ctx: CheckContext) -> None:
    await _judge(ctx, "listed_model_retrievable")


@check(
    "fuzz.run.completed",
    area="fuzz",
    level="deep",
    endpoint="*",
    asserts="The fuzz run reaches the target throughout (no network errors or dropped answers).",
    source="schemathesis 4 engine errors (network errors, timeouts); OpenAI API reference, "
    "Error codes",
)
async def check_fuzz_run_completed(ctx: CheckContext) -> None:
    report = await fuzz_report(ctx)
    if not report.operations:
        raise CheckSkipped(f"no operation to fuzz ({report.summary()})")
    other = [f for f in report.findings if f.check not in CHECK_IDS]
    network = list(report.network_errors)
    if network or other:
        lines = [*network[:_LISTED], *(f.describe() for f in other[:_LISTED])]
        raise FuzzFailures(
            f"the fuzz run hit errors over {report.summary()}:\n" + "\n".join(lines), tuple(other)
        )
    if report.errors:
        raise CheckWarning(
            f"schemathesis could not test everything over {report.summary()}:\n"
            + "\n".join(report.errors[:_LISTED])
        )

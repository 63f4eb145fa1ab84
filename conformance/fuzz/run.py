"""One bounded schemathesis run against a target, turned into a :class:`FuzzReport`.

Drives schemathesis 4 through its Python API (``schemathesis.openapi.from_dict`` and
``schemathesis.engine.from_schema(...).execute()``, the event stream its CLI consumes): the
examples, coverage, fuzzing and stateful phases over ``spec/openai.yaml`` (and
``spec/catalog.yaml`` when the target serves ``GET /api/models``), the built-in checks named
in :data:`~conformance.fuzz.settings.BUILTIN_CHECKS` plus parity's
:mod:`~conformance.fuzz.oracles`. Every failure becomes a :class:`FuzzFinding`; schemathesis'
own errors (network errors, schemas it cannot generate from) become report lines.

Synchronous and blocking (schemathesis sends with ``requests`` from its own threads): async
callers run it in a worker thread.

Must not: import the runner, or send a request the budget does not admit.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from conformance.exchange import Exchange
from conformance.fuzz.artifacts import form_reads_legal, route_changer
from conformance.fuzz.document import Deviations, Document, load_document, prepare_document
from conformance.fuzz.findings import FuzzFinding, FuzzReport, curl_for, exchange_from, redact
from conformance.fuzz.oracles import CUSTOM_CHECKS, install_checks
from conformance.fuzz.session import FuzzSession, install_hooks
from conformance.fuzz.settings import FuzzSettings, schemathesis_config
from conformance.fuzz.verdicts import load_verdicts, violations_of
from conformance.registry import Capability

__all__ = ["FuzzTarget", "run_fuzz"]

# The catalog is a gateway extension, not OpenAI's API: a small share of the budget.
_CATALOG_SHARE = 0.1
# Coverage enumerates boundary and invalid values deterministically and could spend the whole
# budget on the first large request schema: it gets half, split evenly between operations and
# between valid and invalid cases; the generative phases get the rest.
_COVERAGE_SHARE = 0.5
# The fuzzing phase gets this share, split evenly between operations (its example count), so
# every operation is fuzzed and the stateful phase keeps what the others leave.
_FUZZING_SHARE = 0.4
_TARGET_ERROR_KINDS = ("connection_", "network_", "server_unavailable")
_TIME_CAPPED = "max_time (cut by the clock: a replay may reach further or less far)"
_NEGATIVE = "negative_data_rejection"
_POSITIVE = "positive_data_acceptance"


@dataclass(frozen=True, slots=True)
class FuzzTarget:
    """Where to fuzz: base URL (``.../v1``), key, one model per offered capability, and the
    profile's documented deviations (auth error shape, default model, images as b64 only)."""

    base_url: str
    api_key: str | None
    models: Mapping[Capability, str] = field(default_factory=dict)
    auth_error_shape: str | None = None
    deviations: Deviations = field(default_factory=Deviations)

    @property
    def origin(self) -> str:
        scheme, _, rest = self.base_url.partition("://")
        return f"{scheme}://{rest.split('/', 1)[0]}"


@dataclass(slots=True)
class _Collector:
    """Accumulates findings across documents; dedupes by (check, operation, title, constraint).

    ``document`` is the spec document of the run under way (its multipart bodies are judged as
    the server reads them, see :mod:`conformance.fuzz.artifacts`).
    """

    target: FuzzTarget
    seed: int
    document: Document | None = None
    findings: dict[tuple[str, str, str, str], FuzzFinding] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    network_errors: list[str] = field(default_factory=list)
    usage: list[Exchange] = field(default_factory=list)
    cases: int = 0
    by_phase: dict[str, int] = field(default_factory=dict)
    prompt: int = 0
    completion: int = 0

    def scenario(self, recorder: Any) -> None:
        self.cases += len(recorder.interactions)
        for case_id in recorder.interactions:
            node = recorder.cases.get(case_id)
            phase = _phase_of(node.value if node is not None else None)
            key = f"{phase} {node.value.operation.label}" if node is not None else phase
            self.by_phase[key] = self.by_phase.get(key, 0) + 1
        for interaction in recorder.interactions.values():
            self._count_tokens(interaction)
        for case_id, nodes in recorder.checks.items():
            for node in nodes:
                info = node.failure_info
                if info is not None:
                    self._finding(recorder, case_id, node.name, info.failure)

    def _count_tokens(self, interaction: Any) -> None:
        response = interaction.response
        if response is None or not 200 <= response.status_code < 300:
            return
        exchange = exchange_from(interaction.request, response, finished_at=time.monotonic())
        prompt, completion = _usage(exchange)
        if prompt or completion:
            self.prompt += prompt
            self.completion += completion
            self.usage.append(exchange)

    def _finding(self, recorder: Any, case_id: str, check: str, failure: Any) -> None:
        key_secret = self.target.api_key
        node = recorder.cases.get(case_id)
        case = node.value if node is not None else None
        operation = str(failure.operation or getattr(case, "operation", None) or "?")
        operation = getattr(case.operation, "label", operation) if case is not None else operation
        title = redact(str(failure.title), key_secret)
        if case is not None and self._artifact(check, case):
            return
        kind = where = None
        if check == _NEGATIVE and case is not None:
            kind, violation = load_verdicts().judge(violations_of(case))
            where = violation.where if violation is not None else None
        key = (check, operation, title, kind.kind if kind is not None else "")
        existing = self.findings.get(key)
        if existing is not None:
            self.findings[key] = _bump(existing)
            return
        interaction = recorder.interactions.get(case_id)
        if interaction is None:
            return
        exchange = exchange_from(interaction.request, interaction.response)
        meta = getattr(case, "meta", None)
        phase = _phase_of(case)
        mode = getattr(getattr(getattr(meta, "generation", None), "mode", None), "value", "?")
        scenario = getattr(getattr(getattr(meta, "phase", None), "data", None), "description", "")
        self.findings[key] = FuzzFinding(
            check=check,
            code=str(getattr(failure, "code", "ST900")),
            title=title,
            message=_clip(redact(str(failure.message), key_secret).strip()),
            operation=operation,
            phase=str(phase),
            mode=str(mode),
            scenario=redact(str(scenario or ""), key_secret),
            seed=self.seed,
            curl=curl_for(
                exchange.method, exchange.url, exchange.request_headers, exchange.request_body
            ),
            evidence=exchange,
            constraint=f"{kind.kind} at {where}" if kind and where else (kind.kind if kind else ""),
            openai_answer=kind.openai_answer() if kind is not None else "",
            verdict=kind.verdict if kind is not None else "failed",
        )

    def _artifact(self, check: str, case: Any) -> bool:
        """A case that tests the generator, not the target (:mod:`conformance.fuzz.artifacts`).

        A route-changing path parameter is never judged at all (the filter keeps most of them
        from being sent, but the examples phase applies no filter); a form body is judged by
        the data-acceptance checks only as the server read it.
        """
        if route_changer(getattr(case, "path_parameters", None)) is not None:
            return True
        if check not in (_NEGATIVE, _POSITIVE) or self.document is None:
            return False
        method = str(getattr(case, "method", "")).upper()
        component = self.document.form_components.get((method, case.operation.path))
        if component is None or not isinstance(case.body, Mapping):
            return False
        legal = form_reads_legal(case.body, component, self.document.raw, self.document.name)
        return legal if check == _NEGATIVE else not legal


def _phase_of(case: Any) -> str:
    meta = getattr(case, "meta", None)
    return str(getattr(getattr(getattr(meta, "phase", None), "name", None), "value", "?"))


def _clip(text: str, limit: int = 1500) -> str:
    """schemathesis messages quote whole schemas; a report needs the start."""
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text) - limit} more chars)"


def _bump(finding: FuzzFinding) -> FuzzFinding:
    from dataclasses import replace

    return replace(finding, occurrences=finding.occurrences + 1)


def _usage(exchange: Exchange) -> tuple[int, int]:
    """(prompt, completion) tokens a JSON body or the last usage chunk of a stream reports."""
    bodies: Iterable[Any]
    if exchange.content_type == "text/event-stream":
        bodies = []
        for line in exchange.body.splitlines():
            if line.startswith(b"data:") and line[5:].strip() not in (b"", b"[DONE]"):
                try:
                    bodies.append(json.loads(line[5:]))
                except ValueError:
                    continue
    else:
        try:
            bodies = [json.loads(exchange.body)]
        except ValueError:
            return 0, 0
    prompt = completion = 0
    for body in bodies:
        usage = body.get("usage") if isinstance(body, dict) else None
        if isinstance(usage, dict):
            p = usage.get("prompt_tokens", usage.get("input_tokens", 0))
            c = usage.get("completion_tokens", usage.get("output_tokens", 0))
            prompt = p if isinstance(p, int) else prompt
            completion = c if isinstance(c, int) else completion
    return prompt, completion


def _serves_catalog(target: FuzzTarget, timeout: float) -> bool:
    import httpx

    try:
        response = httpx.get(f"{target.origin}/api/models", timeout=timeout)
    except httpx.HTTPError:
        return False
    return response.status_code == 200 and "json" in response.headers.get("content-type", "")


def _execute(schema: Any) -> tuple[Iterable[Any], Any]:
    """``Engine.execute()`` of schemathesis 4.32, keeping hold of the run's ExecutionControl."""
    import threading

    from schemathesis.config import InferenceAlgorithm
    from schemathesis.engine import from_schema
    from schemathesis.engine.context import EngineContext
    from schemathesis.engine.observations import Observations
    from schemathesis.engine.run import PhaseName, PhaseSkipReason

    plan = from_schema(schema)._create_execution_plan()
    inference = schema.config.phases.stateful.inference
    wants_observations = any(
        phase.name == PhaseName.STATEFUL_TESTING
        and phase.skip_reason in (None, PhaseSkipReason.NOT_APPLICABLE)
        for phase in plan.phases
    ) and inference.is_algorithm_enabled(InferenceAlgorithm.LOCATION_HEADERS)
    ctx = EngineContext(
        schema=schema,
        stop_event=threading.Event(),
        observations=Observations() if wants_observations else None,
        max_time=schema.config.max_time,
    )
    return plan.execute(ctx), ctx.control


def _run_document(
    document: Document,
    target: FuzzTarget,
    settings: FuzzSettings,
    *,
    seed: int,
    budget: int,
    max_time: int,
    collector: _Collector,
    on_send: Callable[[], bool] | None,
) -> tuple[int, str]:
    import schemathesis
    from schemathesis.engine import events

    headers = {"Authorization": f"Bearer {target.api_key}"} if target.api_key else {}
    base_url = document.raw["servers"][0]["url"]
    config = schemathesis.Config.from_dict(
        schemathesis_config(
            settings,
            base_url=base_url,
            seed=seed,
            headers=headers,
            custom_checks=CUSTOM_CHECKS,
            fuzz_examples=int(budget * _FUZZING_SHARE / len(document.operation_ids)),
        )
    )
    schema = schemathesis.openapi.from_dict(document.raw, config=config)
    session = FuzzSession(
        models=target.models,
        stream_components=document.stream_components,
        budget=budget,
        max_tokens=settings.max_tokens,
        max_choices=settings.max_choices,
        auth_error_shape=target.auth_error_shape,
        document=document.name,
        on_send=on_send,
        coverage_cap=max(1, int(budget * _COVERAGE_SHARE / 2 / len(document.operation_ids))),
    )
    session.open(schema)
    collector.document = document
    stop_reason = "completed"
    # The clock is parity's, not schemathesis': given a time budget, schemathesis splits it
    # into per-operation slices and cuts each operation's cases when its slice runs out, so
    # how many cases run (and which findings appear) would follow the target's speed. Without
    # one, the seed, the example caps and the request budget decide; this timer only ends a
    # run that outlives ``max_time``, and the report says so (stop reason ``max_time``).
    clock = threading.Timer(max_time, session.expire)
    clock.daemon = True
    try:
        stream, control = _execute(schema)
        # A spent request budget winds the run down the way a spent time budget does: the
        # engine stops before the next case and still reports the scenarios under way
        # (an interrupt would drop them).
        session.stop = lambda: setattr(control, "max_time", 0)
        clock.start()
        for event in stream:
            if isinstance(event, events.ScenarioFinished | events.FuzzScenarioFinished):
                collector.scenario(event.recorder)
            elif isinstance(event, events.NonFatalError):
                text = redact(
                    f"{event.label}: {event.info.title}: {event.info.message}", target.api_key
                )
                kind = str(getattr(event.info, "_kind", ""))
                # Connection and network errors are the target's; the rest are generation
                # limits (schemas schemathesis cannot satisfy) worth a warning.
                if kind.startswith(_TARGET_ERROR_KINDS):
                    collector.network_errors.append(text)
                else:
                    collector.errors.append(text)
            elif isinstance(event, events.FatalError):
                collector.errors.append(redact(f"fatal: {event.exception!r}", target.api_key))
            elif isinstance(event, events.EngineFinished):
                stop_reason = str(event.stop_reason.value)
    finally:
        clock.cancel()
        session.close(schema)
    if session.budget_spent:
        stop_reason = "request_budget"
    if session.expired:
        stop_reason = _TIME_CAPPED
    return session.sent, stop_reason


def run_fuzz(
    target: FuzzTarget,
    settings: FuzzSettings,
    *,
    seed: int,
    on_send: Callable[[], bool] | None = None,
) -> FuzzReport:
    """Fuzz ``target`` within ``settings``; blocking. Raises only for a spec that will not load.

    ``on_send`` is asked before every request (from schemathesis' threads) and stops the run
    when it answers False: the caller's own request budget.
    """
    install_checks()
    install_hooks()
    started = time.monotonic()
    offered = [cap for cap, model in target.models.items() if model]
    documents = [
        prepare_document(
            "openai.yaml",
            load_document("openai.yaml"),
            server_url=target.base_url,
            offered=offered,
            only=settings.operations,
            deviations=target.deviations,
        )
    ]
    probes = 0
    if settings.catalog and not settings.operations:
        probes = 1
        if _serves_catalog(target, settings.request_timeout):
            documents.append(
                prepare_document(
                    "catalog.yaml",
                    load_document("catalog.yaml"),
                    server_url=target.origin,
                    offered=offered,
                    deviations=target.deviations,
                )
            )
    collector = _Collector(target=target, seed=seed)
    sent = probes
    reasons: list[str] = []
    skipped: dict[str, str] = {}
    operations: list[str] = []
    for index, document in enumerate(documents):
        skipped.update(document.skipped)
        operations += document.operation_ids
        if not document.operation_ids:
            continue
        remaining = settings.max_requests - sent
        last = index == len(documents) - 1
        share = 1.0 if last else 1.0 - _CATALOG_SHARE
        if remaining <= 0:
            reasons.append("request_budget")
            break
        budget = max(1, int(remaining * share))
        time_left = max(1, int((settings.max_time - (time.monotonic() - started)) * share))
        used, reason = _run_document(
            document,
            target,
            settings,
            seed=seed,
            budget=budget,
            max_time=time_left,
            collector=collector,
            on_send=on_send,
        )
        sent += used
        reasons.append(reason)
    return FuzzReport(
        seed=seed,
        findings=tuple(collector.findings.values()),
        errors=tuple(dict.fromkeys(collector.errors)),
        network_errors=tuple(dict.fromkeys(collector.network_errors)),
        cases=collector.cases,
        cases_by_phase=dict(sorted(collector.by_phase.items())),
        requests=sent,
        tokens=(collector.prompt, collector.completion),
        duration=round(time.monotonic() - started, 3),
        stop_reason=", ".join(dict.fromkeys(reasons)) or "nothing to test",
        operations=tuple(operations),
        skipped=skipped,
        usage_exchanges=tuple(collector.usage),
    )

"""What one fuzz run found, gathered from schemathesis' scenario recorders.

Owns turning each recorded failure into a :class:`~conformance.fuzz.findings.FuzzFinding`:
deduplicated by (check, operation, title, constraint kind), its negative-data verdict class
(:mod:`conformance.fuzz.verdicts`), and the generator artifacts that are never judged
(:mod:`conformance.fuzz.artifacts`); plus the cases, phases and tokens the run cost.

Must not: send requests, or put the API key into any text it keeps.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Protocol

from conformance.exchange import Exchange
from conformance.fuzz.artifacts import form_reads_legal, route_changer
from conformance.fuzz.findings import FuzzFinding, curl_for, exchange_from, redact
from conformance.fuzz.verdicts import load_verdicts, violations_of

if TYPE_CHECKING:
    from conformance.fuzz.document import Document

__all__ = ["Collector"]

_NEGATIVE = "negative_data_rejection"
_POSITIVE = "positive_data_acceptance"


class _Keyed(Protocol):
    @property
    def api_key(self) -> str | None: ...


@dataclass(slots=True)
class Collector:
    """Accumulates findings across documents; dedupes by (check, operation, title, constraint).

    ``document`` is the spec document of the run under way (its multipart bodies are judged as
    the server reads them, see :mod:`conformance.fuzz.artifacts`).
    """

    target: _Keyed
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

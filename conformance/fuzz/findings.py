"""What a fuzz run found, as data: one :class:`FuzzFinding` per distinct failure, and the run.

A finding carries the schemathesis failure kind (the check that fired and its ``ST`` code),
the request that caused it as an :class:`~conformance.exchange.Exchange` (so the report
writers render and redact it like any other evidence), a ``curl`` line that reproduces it with
``$PARITY_API_KEY`` in place of the key, and the seed that regenerates the run.

Must not: render reports (the writers do), or put the API key into any text it composes.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from conformance.exchange import Exchange, Read
from conformance.fuzz.verdicts import Verdict

__all__ = ["FuzzFinding", "FuzzReport", "curl_for", "exchange_from", "redact"]

# Headers a reproduction does not need (the transport adds its own).
_NOISE = frozenset(
    {"authorization", "user-agent", "accept-encoding", "connection", "content-length", "accept"}
)


def redact(text: str, secret: str | None) -> str:
    """``text`` with every occurrence of ``secret`` replaced by ``***``.

    Secrets shorter than 4 characters are left alone: replacing every "k" of a text protects
    nothing and garbles the message (real keys are dozens of characters).
    """
    return text.replace(secret, "***") if secret and len(secret) >= 4 else text


def _flat(headers: Mapping[str, Any] | None) -> dict[str, str]:
    flat: dict[str, str] = {}
    for name, value in (headers or {}).items():
        flat[str(name).lower()] = str(value[0] if isinstance(value, list) and value else value)
    return flat


def curl_for(method: str, url: str, headers: Mapping[str, str], body: bytes | None) -> str:
    """A ``curl`` command line for the request; the key comes from ``$PARITY_API_KEY``."""
    parts = ["curl", "-X", method.upper(), shlex.quote(url)]
    if "authorization" in headers:
        parts += ["-H", '"Authorization: Bearer $PARITY_API_KEY"']
    for name, value in sorted(headers.items()):
        if name not in _NOISE and not name.startswith("x-schemathesis"):
            parts += ["-H", shlex.quote(f"{name}: {value}")]
    if body:
        parts += ["--data-binary", shlex.quote(body.decode("utf-8", errors="replace"))]
    return " ".join(parts)


def exchange_from(request: Any, response: Any | None, *, finished_at: float = 0.0) -> Exchange:
    """An Exchange from a schemathesis interaction's request and (optional) response."""
    body = request.body if isinstance(request.body, bytes) else b""
    if response is None:
        return Exchange(
            method=str(request.method).upper(),
            url=str(request.uri),
            request_headers=_flat(request.headers),
            request_body=body,
            status=None,
            error="no response (network error or timeout)",
        )
    elapsed = float(response.elapsed)
    return Exchange(
        method=str(request.method).upper(),
        url=str(request.uri),
        request_headers=_flat(request.headers),
        request_body=body,
        status=int(response.status_code),
        headers=_flat(response.headers),
        body=bytes(response.content),
        reads=(Read(at=elapsed, data=bytes(response.content)),),
        headers_at=elapsed,
        finished_at=finished_at or elapsed,
    )


@dataclass(frozen=True, slots=True)
class FuzzFinding:
    """One distinct failure: the kind, where, the first request that showed it, how to replay.

    ``check`` is the schemathesis check name (``not_a_server_error``...), ``code`` its failure
    code (``ST1xx``...), ``mode`` ``positive`` (valid input) or ``negative`` (invalid input),
    ``phase`` the schemathesis phase (examples, coverage, fuzzing, stateful), ``scenario``
    schemathesis' description of the generated input when it gave one; ``occurrences`` counts
    the cases that failed the same way.

    A negative-data finding also names the ``constraint`` kind the request broke, what OpenAI
    answers for it (``openai_answer``) and the ``verdict`` that follows (``spec/fuzz-verdicts.yaml``):
    ``failed`` where OpenAI refuses the kind with a documented code, ``warning`` otherwise.
    """

    check: str
    code: str
    title: str
    message: str
    operation: str
    phase: str
    mode: str
    scenario: str
    seed: int
    curl: str
    evidence: Exchange
    occurrences: int = 1
    constraint: str = ""
    openai_answer: str = ""
    verdict: Verdict = "failed"

    def describe(self) -> str:
        """A few lines for a report: kind, where, what, how to replay."""
        what = f"{self.mode} input" + (f" ({self.scenario})" if self.scenario else "")
        basis = (
            f"\n  constraint: {self.constraint} ({self.verdict}): {self.openai_answer}"
            if self.constraint
            else ""
        )
        return (
            f"[{self.code} {self.check}] {self.operation}, {self.phase} phase, {what}, "
            f"seen {self.occurrences}x: {self.title}: {self.message}{basis}\n"
            f"  reproduce: {self.curl}\n"
            f"  regenerate: parity check --level deep --only fuzz --seed {self.seed}"
        )


@dataclass(frozen=True, slots=True)
class FuzzReport:
    """One fuzz run: its findings, its engine errors, and what it cost.

    ``cases`` counts generated cases that got an answer or a network error (``cases_by_phase``
    by ``"<phase> <METHOD> <path>"``); ``requests`` the
    requests sent (never more than the budget); ``tokens`` the usage the target reported
    (prompt, completion); ``stop_reason`` is schemathesis' (``completed``, ``max_time``...) or
    ``request_budget``. ``network_errors`` are the target's (refused or dropped connections,
    timeouts); ``errors`` are schemathesis' (a schema it could not generate from).
    """

    seed: int
    findings: tuple[FuzzFinding, ...] = ()
    errors: tuple[str, ...] = ()
    network_errors: tuple[str, ...] = ()
    cases: int = 0
    cases_by_phase: Mapping[str, int] = field(default_factory=dict)
    requests: int = 0
    tokens: tuple[int, int] = (0, 0)
    duration: float = 0.0
    stop_reason: str = "completed"
    operations: tuple[str, ...] = ()
    skipped: Mapping[str, str] = field(default_factory=dict)
    usage_exchanges: tuple[Exchange, ...] = ()

    def of(self, *checks: str) -> tuple[FuzzFinding, ...]:
        return tuple(f for f in self.findings if f.check in checks)

    def summary(self) -> str:
        prompt, completion = self.tokens
        return (
            f"{self.cases} generated cases, {self.requests} requests, "
            f"{prompt + completion} tokens ({prompt} prompt, {completion} completion) in "
            f"{self.duration:.1f} s over {len(self.operations)} operations; seed {self.seed}; "
            f"stopped: {self.stop_reason}"
        )

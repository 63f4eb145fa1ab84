"""Fuzz verdict classes: the constraint an accepted invalid request broke decides failed or
warning (spec/fuzz-verdicts.yaml), and generator artifacts are never findings."""

from __future__ import annotations

import asyncio
import copy
from types import SimpleNamespace
from typing import Any

import pytest
from schemathesis.transport.serialization import Binary

import conformance.fuzz.checks as fuzz_checks
import conformance.fuzz.collector as fuzz_collector
import conformance.fuzz.run as fuzz_run
import conformance.fuzz.session as fuzz_session
from conformance.exchange import Exchange
from conformance.fuzz import FuzzReport, FuzzSettings, FuzzTarget, run_fuzz
from conformance.fuzz.artifacts import form_reads_legal, route_changer
from conformance.fuzz.document import load_document
from conformance.fuzz.findings import FuzzFinding
from conformance.fuzz.verdicts import Violation, load_verdicts, parse_verdicts, violations_of
from conformance.registry import CheckFailed, CheckWarning
from tests.fuzz.apps import KEY, MODEL, TRANSCRIBER, Variant, build_app
from tests.live import serve

# --- the mapping


@pytest.mark.parametrize(
    ("kind", "code"),
    [
        ("type", "invalid_type"),
        ("enum", "invalid_value"),
        ("required", "missing_required_parameter"),
        ("numeric_range", "decimal_above_max_value"),
        ("numeric_range", "decimal_below_min_value"),
        ("string_length", "string_above_max_length"),
        ("array_length", "array_above_max_length"),
    ],
    ids=str,
)
def test_verdicts_failed_kinds_cite_the_openai_code(kind: str, code: str) -> None:
    by_name = {k.kind: k for k in load_verdicts().kinds}
    entry = by_name[kind]
    assert entry.verdict == "failed"
    assert entry.status == 400
    assert code in entry.codes
    assert code in entry.openai_answer()
    assert entry.sources


def test_verdicts_unknown_top_level_argument_cites_openai_message() -> None:
    entry = {k.kind: k for k in load_verdicts().kinds}["unknown_argument"]
    assert entry.verdict == "failed"
    assert entry.where == "top_level"
    assert "Unrecognized request argument supplied" in entry.openai_answer()


@pytest.mark.parametrize("kind", ["pattern", "format", "nested_additional_properties"], ids=str)
def test_verdicts_kinds_without_evidence_are_warnings(kind: str) -> None:
    entry = {k.kind: k for k in load_verdicts().kinds}[kind]
    assert entry.verdict == "warning"
    assert entry.sources
    assert "no documented OpenAI refusal" in entry.openai_answer()
    assert load_verdicts().unclassified.verdict == "warning"


@pytest.mark.parametrize(
    ("raw", "match"),
    [
        ({"kinds": [{"kind": "x", "verdict": "maybe", "sources": ["s"]}]}, "'maybe'"),
        ({"kinds": [{"kind": "x", "verdict": "failed", "sources": ["s"]}]}, "4xx status.*None"),
        ({"kinds": [{"kind": "x", "verdict": "warning"}]}, "at least one source"),
        ({"kinds": [{"kind": "x", "verdict": "warning", "sources": "s"}]}, "list of strings.*'s'"),
        ({"kinds": "none"}, "`kinds` list"),
    ],
    ids=["bad-verdict", "failed-without-status", "no-source", "source-not-list", "no-kinds"],
)
def test_verdicts_file_errors_show_the_offending_value(raw: object, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        parse_verdicts(raw)


# --- classifying a schemathesis case


def _mutation(keywords: tuple[str, ...], path: tuple[object, ...] = (), operator: str = "x") -> Any:
    return SimpleNamespace(
        keywords=keywords,
        path=path,
        schema_pointer="",
        operator=SimpleNamespace(value=operator),
    )


def _case(*mutations: Any, scenario: str | None = None, location: str = "") -> Any:
    data = SimpleNamespace(
        mutations=mutations,
        scenario=SimpleNamespace(value=scenario) if scenario else None,
        location=location,
        parameter_location=SimpleNamespace(value="body"),
        parameter=None,
    )
    return SimpleNamespace(meta=SimpleNamespace(phase=SimpleNamespace(data=data)))


@pytest.mark.parametrize(
    ("case", "kind", "verdict"),
    [
        (
            _case(scenario="value_above_maximum", location="/properties/top_p/maximum"),
            "numeric_range",
            "failed",
        ),
        (_case(scenario="incorrect_type", location="/properties/n/type"), "type", "failed"),
        (_case(_mutation(("enum",), ("tools", 0, "type"))), "enum", "failed"),
        (_case(_mutation(("required",))), "required", "failed"),
        (_case(_mutation(("maxItems",), ("stop",))), "array_length", "failed"),
        (_case(_mutation(("maxLength",), ("user",))), "string_length", "failed"),
        (_case(_mutation((), operator="syntax_fuzzing")), "json_syntax", "failed"),
        (_case(_mutation(("additionalProperties",))), "unknown_argument", "failed"),
        (
            _case(_mutation(("additionalProperties",), ("tools", 0))),
            "nested_additional_properties",
            "warning",
        ),
        (
            _case(
                scenario="object_unexpected_properties",
                location="/properties/tools/items/additionalProperties",
            ),
            "nested_additional_properties",
            "warning",
        ),
        (_case(_mutation(("pattern",), ("tools", 0, "function", "name"))), "pattern", "warning"),
        (_case(_mutation(("format",), ("image_url", "url"))), "format", "warning"),
        (_case(_mutation(("oneOf",), ("tool_choice",))), "other", "warning"),
        (_case(), "other", "warning"),
        # one evidenced violation makes the case a failure, whatever else it breaks
        (
            _case(_mutation(("pattern",), ("tools", 0)), _mutation(("maximum",), ("temperature",))),
            "numeric_range",
            "failed",
        ),
    ],
    ids=[
        "coverage-range",
        "coverage-type",
        "enum",
        "required",
        "array-length",
        "string-length",
        "json-syntax",
        "unknown-top-level",
        "nested-unknown",
        "coverage-nested-unknown",
        "pattern",
        "format",
        "union",
        "nothing-said",
        "pattern-and-range",
    ],
)
def test_verdicts_judge_a_case_by_what_it_broke(case: Any, kind: str, verdict: str) -> None:
    decided, _ = load_verdicts().judge(violations_of(case))
    assert (decided.kind, decided.verdict) == (kind, verdict)


def test_verdicts_name_where_the_violation_is() -> None:
    (violation,) = violations_of(
        _case(
            scenario="array_below_min_items",
            location="/properties/messages/items/oneOf/0/allOf/0/properties/content/oneOf/1/minItems",
        )
    )
    assert violation == Violation(
        scenario="array_below_min_items", nested=True, where="messages[].content"
    )
    (mutated,) = violations_of(_case(_mutation(("pattern",), ("tools", 0, "function", "name"))))
    assert mutated.where == "tools[0].function.name"


# --- generator artifacts


@pytest.mark.parametrize(
    ("parameters", "changer"),
    [
        ({"model": ""}, "model"),
        ({"model": "."}, "model"),
        ({"video_id": ".."}, "video_id"),
        ({"model": "a/b"}, "model"),
        ({"model": "a%2Fb"}, "model"),
        ({"model": "what?"}, "model"),
        ({"model": "gpt-4o"}, None),
        ({"model": "ft:gpt-4o:org:x:1"}, None),
        (None, None),
    ],
    ids=["empty", "dot", "dotdot", "slash", "encoded-slash", "query", "plain", "colons", "none"],
)
def test_artifacts_route_changing_path_parameters(
    parameters: dict[str, str] | None, changer: str | None
) -> None:
    assert route_changer(parameters) == changer


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    return load_document("openai.yaml")


def _form(**fields: object) -> dict[str, object]:
    return {"file": Binary(b"RIFF...."), "model": "whisper-1", **fields}


@pytest.mark.parametrize(
    ("body", "legal"),
    [
        (_form(prompt=123), True),
        (_form(prompt=None), True),
        (_form(prompt=True), True),
        (_form(language=["en", "fr"]), True),
        (_form(temperature=0.5), True),
        (_form(temperature="0.5"), True),
        (_form(timestamp_granularities="word"), True),
        (_form(temperature=True), False),
        (_form(temperature="warm"), False),
        (_form(temperature=None), False),
        (_form(response_format=5), False),
        ({"file": Binary(b"RIFF....")}, False),
    ],
    ids=[
        "number-prompt",
        "null-prompt",
        "bool-prompt",
        "repeated-language",
        "number-temperature",
        "text-temperature",
        "one-granularity",
        "bool-temperature",
        "word-temperature",
        "null-temperature",
        "number-format",
        "no-model",
    ],
)
def test_artifacts_form_fields_read_as_text(
    spec: dict[str, Any], body: dict[str, object], legal: bool
) -> None:
    assert form_reads_legal(body, "CreateTranscriptionRequest", spec, "openai.yaml") is legal


def test_artifacts_filter_drops_route_changing_cases() -> None:
    schema = object()
    session = fuzz_session.FuzzSession(
        models={}, stream_components={}, budget=5, max_tokens=16, max_choices=1
    )
    session.open(schema)
    try:

        def case(model: str) -> Any:
            operation = SimpleNamespace(schema=schema, label="GET /models/{model}")
            return SimpleNamespace(operation=operation, path_parameters={"model": model}, meta=None)

        assert fuzz_session._filter_case(None, case("gpt-4o"))
        assert not fuzz_session._filter_case(None, case(""))
        assert not fuzz_session._filter_case(None, case(".."))
    finally:
        session.close(schema)


# --- the check's outcome


def _finding(verdict: str, constraint: str) -> FuzzFinding:
    return FuzzFinding(
        check="negative_data_rejection",
        code="ST1xx",
        title="Schema-violating request accepted",
        message="Invalid data should have been rejected",
        operation="POST /chat/completions",
        phase="fuzzing",
        mode="negative",
        scenario="",
        seed=0,
        curl="curl -X POST http://t/v1/chat/completions",
        evidence=Exchange(
            method="POST",
            url="http://t/v1/chat/completions",
            request_headers={},
            request_body=b"{}",
            status=200,
        ),
        constraint=constraint,
        openai_answer="OpenAI answers 400 invalid_request_error `decimal_above_max_value`"
        if verdict == "failed"
        else "no documented OpenAI refusal for this kind",
        verdict="failed" if verdict == "failed" else "warning",
    )


class _Context:
    """Stands for the check context: the fuzz report is memoised per context (weakly)."""


def _outcome(*findings: FuzzFinding, report: FuzzReport | None = None) -> BaseException | None:
    """What ``fuzz.validation.rejects_invalid`` makes of a fuzz report."""
    if report is None:
        report = FuzzReport(seed=0, findings=findings, operations=("createChatCompletion",))
    ctx = _Context()

    async def judge() -> None:
        future: asyncio.Future[FuzzReport] = asyncio.get_running_loop().create_future()
        future.set_result(report)
        fuzz_checks._REPORTS[ctx] = future
        await fuzz_checks.check_fuzz_rejects_invalid(ctx)  # type: ignore[arg-type]

    try:
        asyncio.run(judge())
    except (CheckFailed, CheckWarning) as exc:
        return exc
    return None


def test_rejects_invalid_fails_citing_the_code_and_warns_without_evidence() -> None:
    failed = _outcome(
        _finding("failed", "numeric_range at temperature"), _finding("warning", "pattern at name")
    )
    assert isinstance(failed, CheckFailed)
    assert not isinstance(failed, CheckWarning)
    assert "numeric_range at temperature (failed)" in failed.message
    assert "decimal_above_max_value" in failed.message
    assert "1 more of a kind OpenAI documents no refusal for" in failed.message
    warned = _outcome(_finding("warning", "pattern at name"))
    assert isinstance(warned, CheckWarning)
    assert "pattern at name (warning)" in warned.message
    assert _outcome() is None


# --- live fakes


@pytest.mark.slow
def test_fuzz_out_of_range_accepted_fails_citing_the_openai_code() -> None:
    # The coverage phase reaches the out-of-range values after ~170 other invalid cases.
    with serve(build_app("lax_ranges")) as origin:
        target = FuzzTarget(f"{origin}/v1", KEY, {"chat": MODEL})
        settings = FuzzSettings(
            max_requests=1400, operations=("createChatCompletion",), phases=("coverage",)
        )
        report = run_fuzz(target, settings, seed=0)
    outcome = _outcome(report=report)
    assert isinstance(outcome, CheckFailed)
    assert not isinstance(outcome, CheckWarning)
    assert "numeric_range at " in outcome.message
    assert "decimal_above_max_value" in outcome.message
    (finding,) = report.of("negative_data_rejection")
    assert finding.verdict == "failed"
    assert finding.evidence.status == 200


@pytest.mark.slow
def test_fuzz_pattern_violation_accepted_is_a_warning_with_evidence() -> None:
    # The coverage phase reaches the function-name pattern of tools[] (`^[a-zA-Z0-9_-]{1,64}$`).
    with serve(build_app("lax_patterns")) as origin:
        target = FuzzTarget(f"{origin}/v1", KEY, {"chat": MODEL})
        settings = FuzzSettings(
            max_requests=2000,
            catalog=False,
            operations=("createChatCompletion",),
            phases=("coverage",),
        )
        report = run_fuzz(target, settings, seed=0)
    accepted = report.of("negative_data_rejection")
    assert accepted, report.summary()
    assert {f.verdict for f in accepted} == {"warning"}
    assert {f.constraint for f in accepted} == {"pattern at tools[].function.name"}
    assert all(f.evidence.status == 200 for f in accepted)
    assert "no documented OpenAI refusal" in accepted[0].describe()


@pytest.fixture
def path_examples(monkeypatch: pytest.MonkeyPatch) -> None:
    """The spec with explicit examples that empty or dot the ``model`` path parameter."""
    original = load_document

    def load(name: str) -> dict[str, Any]:
        raw = copy.deepcopy(original(name))
        for parameter in raw["paths"]["/models/{model}"]["get"]["parameters"]:
            if parameter.get("name") == "model":
                parameter["examples"] = {
                    "empty": {"value": ""},
                    "dot": {"value": "."},
                    "dots": {"value": ".."},
                }
        return raw

    monkeypatch.setattr(fuzz_run, "load_document", load)
    return


def _faithful(variant: Variant = "legal") -> FuzzReport:
    with serve(build_app(variant)) as origin:
        target = FuzzTarget(f"{origin}/v1", KEY, {"chat": MODEL, "transcription": TRANSCRIBER})
        settings = FuzzSettings(
            max_requests=300,
            catalog=False,
            operations=("listModels", "retrieveModel", "createTranscription"),
            per_operation={},
        )
        # Seed 2 draws a number for the transcription's `prompt` (see the test below).
        return run_fuzz(target, settings, seed=2)


@pytest.mark.slow
@pytest.mark.usefixtures("path_examples")
def test_fuzz_faithful_fake_has_no_finding_for_path_or_form_artifacts() -> None:
    report = _faithful()
    assert report.findings == (), "\n".join(f.describe() for f in report.findings)
    assert report.cases_by_phase.get("examples GET /models/{model}", 0) >= 3, report.cases_by_phase
    assert any(key.endswith("POST /audio/transcriptions") for key in report.cases_by_phase)


@pytest.mark.slow
@pytest.mark.usefixtures("path_examples")
def test_fuzz_without_the_artifact_rules_the_faithful_fake_fails(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The test above can fail: with both rules off, the same run reports the artifacts.
    monkeypatch.setattr(fuzz_collector, "route_changer", lambda parameters: None)
    monkeypatch.setattr(fuzz_session, "route_changer", lambda parameters: None)
    monkeypatch.setattr(fuzz_collector, "form_reads_legal", lambda *args: False)
    report = _faithful()
    urls = {f.evidence.url.rsplit("/v1", 1)[-1] for f in report.findings}
    assert "/models/" in urls, [f.describe() for f in report.findings]
    assert "/audio/transcriptions" in urls, [f.describe() for f in report.findings]
    typed = [f for f in report.findings if f.constraint == "type at prompt"]
    assert typed, [f.describe() for f in report.findings]  # a number sent as the prompt

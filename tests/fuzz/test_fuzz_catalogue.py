"""The fuzz layer alone catches each broken server, and finds nothing on the legal one."""

from __future__ import annotations

import json

import pytest

from conformance.fuzz import FuzzSettings, FuzzTarget, run_fuzz
from tests.fuzz.apps import KEY
from tests.fuzz.conftest import FuzzApp
from tests.live import free_port

CHAT_AND_MODELS = ("createChatCompletion", "listModels", "retrieveModel")

pytestmark = pytest.mark.slow


def test_fuzz_catches_server_error_on_documented_maximum(fuzz_app: FuzzApp) -> None:
    settings = FuzzSettings(
        max_requests=700, operations=("createChatCompletion",), phases=("coverage",)
    )
    report = fuzz_app("boundary_500", settings)
    errors = report.of("not_a_server_error")
    assert errors, report.summary()
    finding = errors[0]
    assert finding.operation == "POST /chat/completions"
    assert finding.mode == "positive"
    assert len(json.loads(finding.evidence.request_body)["stop"]) == 4
    assert finding.evidence.status == 500
    assert finding.seed == report.seed == 1
    assert "--seed 1" in finding.describe()
    assert finding.curl.startswith("curl -X POST ")
    assert "$PARITY_API_KEY" in finding.curl
    assert KEY not in finding.curl
    assert KEY not in finding.describe()


def test_fuzz_catches_accepted_out_of_range_values(fuzz_app: FuzzApp) -> None:
    # coverage sends invalid cases first; the out-of-range ones come after ~170 others
    settings = FuzzSettings(
        max_requests=1400, operations=("createChatCompletion",), phases=("coverage",)
    )
    report = fuzz_app("lax_ranges", settings)
    accepted = report.of("negative_data_rejection")
    assert accepted, report.summary()
    assert all(f.mode == "negative" for f in accepted)
    assert any("minimum" in f.message or "maximum" in f.message for f in accepted)
    assert all(f.evidence.status == 200 for f in accepted)
    assert not report.of("not_a_server_error")


def test_fuzz_catches_bad_seventh_stream_chunk(fuzz_app: FuzzApp) -> None:
    settings = FuzzSettings(max_requests=50, operations=CHAT_AND_MODELS, phases=("examples",))
    report = fuzz_app("bad_seventh_chunk", settings)
    (finding,) = report.of("stream_chunk_conformance")
    assert "stream chunk 7 of " in finding.message
    assert "CreateChatCompletionStreamResponse" in finding.message
    assert "'chat.completion'" in finding.message
    assert finding.evidence.content_type == "text/event-stream"
    # schemathesis' own schema check is not confused by the event stream
    assert not report.of("response_schema_conformance")


def test_fuzz_legal_app_has_no_findings(fuzz_app: FuzzApp) -> None:
    settings = FuzzSettings(max_requests=300, max_time=30, operations=CHAT_AND_MODELS)
    report = fuzz_app("legal", settings)
    assert report.findings == (), "\n".join(f.describe() for f in report.findings)
    assert report.network_errors == ()
    assert report.requests <= 300
    assert report.cases >= 250
    assert report.tokens[1] > 0


def test_fuzz_reports_an_unreachable_target_as_network_errors() -> None:
    target = FuzzTarget(f"http://127.0.0.1:{free_port()}/v1", KEY, {"chat": "any"})
    report = run_fuzz(target, FuzzSettings(max_requests=5, catalog=False), seed=1)
    assert report.network_errors
    assert all("Connection" in error for error in report.network_errors)
    assert report.requests <= 5
    assert report.findings == ()


def test_fuzz_stateful_phase_retrieves_the_listed_models(fuzz_app: FuzzApp) -> None:
    settings = FuzzSettings(
        max_requests=60, operations=("listModels", "retrieveModel"), phases=("stateful",)
    )
    report = fuzz_app("legal", settings)
    assert report.cases_by_phase.get("stateful GET /models/{model}", 0) >= 10, report.cases_by_phase
    assert report.findings == ()


def test_fuzz_stateful_phase_catches_a_listed_model_that_cannot_be_retrieved(
    fuzz_app: FuzzApp,
) -> None:
    settings = FuzzSettings(
        max_requests=60, operations=("listModels", "retrieveModel"), phases=("stateful",)
    )
    report = fuzz_app("ghost_model", settings)
    (finding,) = report.of("listed_model_retrievable")
    assert "'ghost-model'" in finding.message
    assert finding.phase == "stateful"
    assert finding.evidence.status == 404

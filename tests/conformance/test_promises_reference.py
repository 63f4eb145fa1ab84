"""``parity check --profile reference --admin-key ...`` against the reference gateway (default
catalog and prices): every promise of the profile area judged, none failed, none skipped; the
keys it minted are revoked and appear in no output. Without the admin key, each promise it could
not judge is listed with the flag that would judge it."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from conformance.cli import main
from reference_server.app import create_app
from reference_server.config import settings_from_mapping
from tests.live import serve

ADMIN_KEY = "sk-parity-admin-e2e-0123456789"
DEMO_KEY = "sk-parity-demo"


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    db = tmp_path_factory.mktemp("reference") / "controls.db"
    controls = {"store": {"path": str(db)}, "admin_key": ADMIN_KEY}
    with serve(create_app(settings_from_mapping({"controls": controls}))) as origin:
        yield f"{origin}/v1", db


def _check(base_url: str, report_dir: Path, *extra: str) -> tuple[int, dict]:
    status = main(
        [
            "check",
            "--base-url", base_url,
            "--api-key", DEMO_KEY,
            "--profile", "reference",
            "--only", "profile",
            "--report-dir", str(report_dir),
            *extra,
        ]
    )  # fmt: skip
    return status, json.loads((report_dir / "report.json").read_text())


def test_reference_profile_judges_every_promise_with_the_admin_key(
    gateway: tuple[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PARITY_ADMIN_KEY", raising=False)
    base_url, db = gateway
    status, report = _check(base_url, tmp_path, "--admin-key", ADMIN_KEY)
    outcomes = {c["id"]: c["outcome"] for c in report["checks"]}
    assert status == 0, {i: o for i, o in outcomes.items() if o != "passed"}
    assert set(outcomes.values()) == {"passed"}
    # Budgets, rate limits and the scope are each judged by at least one passed check.
    for judged in (
        "profile.budget.exhausted",
        "profile.rate_limit.refusal",
        "profile.rate_limit.headers",
        "profile.scope.consume",
        "profile.credits.priced",
        "profile.models.listings",
        "profile.vision.image_part",
    ):
        assert outcomes[judged] == "passed", judged
    # Every key it minted is revoked, and no secret reached an output.
    with sqlite3.connect(db) as conn:
        left = conn.execute("SELECT name FROM keys WHERE source = 'admin'").fetchall()
    assert left == []
    for written in tmp_path.iterdir():
        text = written.read_text(errors="replace")
        assert ADMIN_KEY not in text
        assert "sk-parity-" not in text.replace("sk-parity-demo", "")


def test_reference_profile_without_keys_names_each_unjudged_promise_and_its_flag(
    gateway: tuple[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PARITY_ADMIN_KEY", raising=False)
    status, report = _check(gateway[0], tmp_path)
    skipped = {c["id"] for c in report["checks"] if c["outcome"] == "skipped"}
    assert skipped == {
        "profile.budget.exhausted",
        "profile.rate_limit.refusal",
        "profile.rate_limit.headers",
        "profile.scope.consume",
    }
    assert status == 0
    for check_id in skipped:
        [note] = [n for n in report["notes"] if n.startswith(f"not judged: {check_id}:")]
        assert "--admin-key" in note
        assert "--key " in note


def test_reference_profile_takes_keys_by_role(
    gateway: tuple[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without a key API, --key ROLE=KEY supplies them: a spent key minted by hand here."""
    import httpx

    monkeypatch.delenv("PARITY_ADMIN_KEY", raising=False)
    base_url, _ = gateway
    origin = base_url.removesuffix("/v1")
    minted = httpx.post(
        f"{origin}/admin/keys",
        json={"name": "by-hand", "owner": "by-hand", "budget_credits": 0},
        headers={"Authorization": f"Bearer {ADMIN_KEY}"},
    ).json()["key"]
    status, report = _check(base_url, tmp_path, "--key", f"spent={minted}", "--only", "profile")
    outcomes = {c["id"]: c["outcome"] for c in report["checks"]}
    assert outcomes["profile.budget.exhausted"] == "passed"
    assert outcomes["profile.scope.consume"] == "skipped"
    assert minted not in (tmp_path / "report.json").read_text()
    assert status == 0

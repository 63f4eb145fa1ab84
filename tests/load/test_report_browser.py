"""``report.html`` in a real browser: headless Chromium renders the verdict first, then the
percentile table, then every plot at its size with marks drawn, and the overhead charts.

Driven over the Chrome DevTools Protocol (a WebSocket, ``websockets``' sync client): the page is
loaded from disk, its layout is measured in the browser (``getBoundingClientRect``), and a
full-page screenshot is kept beside the report (``report.png``). Skips, saying why, where no
Chromium is installed (``apt-get install chromium``; ``.ci/run`` installs it).
"""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.sync.client import ClientConnection, connect

from conformance.launch import free_port
from tests.load.conftest import run_load, summary_of

_BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
_MEASURE = """(() => {
  const box = e => { const b = e.getBoundingClientRect(); return {w: b.width, h: b.height, top: b.top + scrollY}; };
  const verdict = document.querySelector('#verdict');
  const table = document.querySelector('#percentiles');
  return {
    first: document.body.firstElementChild.id,
    verdict: {...box(verdict), text: verdict.textContent, bg: getComputedStyle(verdict).backgroundColor},
    table: {...box(table), rows: table.querySelectorAll('tbody tr').length,
            header: [...table.querySelectorAll('thead th')].map(t => t.textContent)},
    overhead: document.querySelector('#overhead') ? box(document.querySelector('#overhead')) : null,
    plots: [...document.querySelectorAll('figure.plot')].map(f => {
      const svg = f.querySelector('svg');
      return {name: f.dataset.plot, ...box(svg), marks: svg.querySelectorAll('rect, polyline').length,
              labels: [...svg.querySelectorAll('text')].map(t => t.textContent)};
    }),
  };
})()"""


def _browser() -> str:
    for name in _BROWSERS:
        if path := shutil.which(name):
            return path
    pytest.skip("no Chromium on this machine (apt-get install chromium): report.html not rendered")


class _Page:
    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.next_id = 0

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv(timeout=30))
            if message.get("id") == self.next_id:
                assert "error" not in message, message
                return dict(message.get("result") or {})

    def wait_for(self, event: str) -> None:
        while json.loads(self.ws.recv(timeout=30)).get("method") != event:
            pass


@pytest.fixture(scope="module")
def page() -> Iterator[_Page]:
    browser = _browser()
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="parity-chromium-") as profile:
        proc = subprocess.Popen(
            [
                browser,
                "--headless=new",
                "--no-sandbox",  # CI runs as root
                "--disable-gpu",
                "--no-first-run",
                f"--user-data-dir={profile}",
                f"--remote-debugging-port={port}",
                "--window-size=1280,900",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 30
            targets: list[dict[str, Any]] = []
            while not targets:
                assert proc.poll() is None, f"{browser} exited with {proc.returncode}"
                assert time.monotonic() < deadline, "Chromium's DevTools did not answer in 30 s"
                try:
                    listed = httpx.get(f"http://127.0.0.1:{port}/json/list", timeout=2).json()
                    targets = [t for t in listed if t.get("type") == "page"]
                except (httpx.HTTPError, ValueError):
                    time.sleep(0.2)
            with connect(targets[0]["webSocketDebuggerUrl"], max_size=None) as ws:
                yield _Page(ws)
        finally:
            proc.terminate()
            proc.wait(timeout=10)


@pytest.fixture(scope="module")
def report(fake_target: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real overhead run (A/A: the fake target on both sides), with one SLO that holds."""
    out = tmp_path_factory.mktemp("report")
    result = run_load(
        "--base-url",
        fake_target,
        "--direct-url",
        fake_target,
        "--scenario",
        "overhead",
        "--users",
        "3",
        "--duration",
        "3s",
        "--max-tokens",
        "8",
        "--stop-timeout",
        "5",
        "--max-loop-lag-ms",
        "250",
        "--slo",
        "ttft_p50_ms<5000",
        "--report-dir",
        str(out),
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return out


def test_report_browser_renders_verdict_table_and_plots(page: _Page, report: Path) -> None:
    page.call("Page.enable")
    page.call("Page.navigate", url=(report / "report.html").as_uri())
    page.wait_for("Page.loadEventFired")
    seen = page.call("Runtime.evaluate", expression=_MEASURE, returnByValue=True)
    layout = seen["result"]["value"]
    # the verdict comes first, green, and says which SLOs held
    assert layout["first"] == "verdict"
    assert layout["verdict"]["text"].startswith("PASS: every SLO held (ttft_p50_ms<5000)")
    assert layout["verdict"]["bg"] == "rgb(220, 252, 231)"
    assert layout["verdict"]["h"] > 20
    # then the percentile table, with rows for TTFT, ITL and E2E at least
    assert layout["verdict"]["top"] < layout["table"]["top"]
    assert layout["table"]["header"][:4] == ["metric", "unit", "count", "p50"]
    assert layout["table"]["rows"] >= 3
    assert layout["table"]["h"] > 60
    # then the overhead view and the plots, each drawn at full size with marks and round ticks
    plots = {p["name"]: p for p in layout["plots"]}
    assert {"overhead-ttft", "overhead-e2e", "ttft-histogram", "itl-histogram"} <= set(plots)
    assert layout["table"]["top"] < layout["overhead"]["top"] < plots["overhead-ttft"]["top"]
    for plot in plots.values():
        assert (plot["w"], plot["h"]) == (560, 240), plot["name"]
        assert plot["marks"] > 0, plot["name"]
    assert "TTFT (ms)" in plots["ttft-histogram"]["labels"]
    assert "percentile" in plots["overhead-ttft"]["labels"]
    assert "through the gateway" in plots["overhead-ttft"]["labels"]
    # a full-page screenshot, kept beside the report: a rendered page, not a blank one
    height = page.call("Runtime.evaluate", expression="document.body.scrollHeight")
    page.call(
        "Emulation.setDeviceMetricsOverride",
        width=1280,
        height=int(height["result"]["value"]),
        deviceScaleFactor=1,
        mobile=False,
    )
    shot = base64.b64decode(page.call("Page.captureScreenshot", format="png")["data"])
    (report / "report.png").write_bytes(shot)
    assert shot.startswith(b"\x89PNG")
    assert len(shot) > 50_000
    assert summary_of(report)["exit_code"] == 0

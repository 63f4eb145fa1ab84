"""The per-process side of a locust run: the ``--parity-*`` options, the :class:`Harness` (plan,
keys, schedule, records, self-monitoring) and the record sink.

Each process keeps one :class:`Harness` (built at ``test_start`` from the parsed options, which
locust forwards from master to workers). Records go to ``requests-<pid>.jsonl`` in the report
directory, flushed every second (workers ship them to the master with ``runner.send_message``,
so ``--master``/``--worker`` across hosts needs no shared disk). A monitor greenlet samples this
process's CPU and the gevent hub's lag (how late a 50 ms sleep wakes up): the figures that say
whether the client, not the target, was the bottleneck.

Must not: be imported into a pytest process (gevent monkey-patching), print secrets.
"""

from __future__ import annotations

import gc
import json
import os
import resource
import time
from argparse import Namespace
from pathlib import Path
from typing import Any

import gevent
import orjson
from locust import events
from locust.env import Environment
from locust.runners import STATE_RUNNING, STATE_SPAWNING, MasterRunner, WorkerRunner

from load.metrics import RequestRecord
from load.scenarios import KINDS, RequestKind, RequestPlan, get_scenario
from load.scenarios.payloads import Sizes
from load.shapes import ArrivalSchedule, Steps, parse_steps
from load.wire import IdleWatch

__all__ = ["Harness", "harness"]

_MESSAGE = "parity_records"
_LAG_PROBE_S = 0.05
_FLUSH_S = 1.0
_BATCH = 500


def _add_options(parser: Any) -> None:
    group = parser.add_argument_group("parity", "parity load harness options")
    group.add_argument("--parity-scenario", default="chat-stream", help="scenario name")
    group.add_argument(
        "--parity-models", default="monday-standard", help="chat models, comma-separated"
    )
    group.add_argument(
        "--parity-kind-models", default="", help="models of other kinds: kind=model,..."
    )
    group.add_argument("--parity-mix", default="", help="mixed: kind=weight,... (catalog-based)")
    group.add_argument("--parity-baseline-model", default="", help="fallback: the healthy model")
    group.add_argument("--parity-max-tokens", type=int, default=64)
    group.add_argument("--parity-prompt-tokens", type=int, default=0, help="0: the default")
    group.add_argument("--parity-audio-seconds", type=float, default=1.0)
    group.add_argument("--parity-image-size", default="1024x1024")
    group.add_argument("--parity-speech-chars", type=int, default=200)
    group.add_argument("--parity-direct-url", default="", help="overhead: the upstream's base URL")
    group.add_argument("--parity-direct-model", default="", help="overhead: model name upstream")
    group.add_argument("--parity-rate", type=float, default=0.0, help="open-loop req/s (0: closed)")
    group.add_argument("--parity-arrival", default="constant", choices=("constant", "poisson"))
    group.add_argument("--parity-steps", default="", help="sweep steps, e.g. 1,2,4,8")
    group.add_argument("--parity-step-seconds", type=float, default=10.0)
    group.add_argument("--parity-report-dir", default="reports/locust-load")
    group.add_argument("--parity-timeout", type=float, default=60.0, help="per request, seconds")
    group.add_argument("--parity-seed", type=int, default=0)
    group.add_argument(
        "--parity-start-jitter", type=float, default=0.0, help="random delay before a user starts"
    )
    group.add_argument(
        "--parity-processes", type=int, default=1, help="load processes sharing --parity-rate"
    )
    group.add_argument(
        "--parity-run-seconds", type=float, default=0.0, help="open loop: no slot after this"
    )


def _pairs(text: str) -> dict[str, str]:
    return dict(part.split("=", 1) for part in text.split(",") if "=" in part)


def _plan(opts: Namespace) -> RequestPlan:
    kinds: dict[str, RequestKind] = {k: k for k in KINDS}
    mix = tuple((kinds[k], float(w)) for k, w in _pairs(opts.parity_mix).items() if k in kinds)
    return RequestPlan(
        scenario=get_scenario(opts.parity_scenario),
        models=tuple(m for m in opts.parity_models.split(",") if m),
        sizes=Sizes(
            max_tokens=opts.parity_max_tokens,
            prompt_tokens=opts.parity_prompt_tokens or None,
            audio_seconds=opts.parity_audio_seconds,
            image_size=opts.parity_image_size,
            speech_chars=opts.parity_speech_chars,
            lengths=get_scenario(opts.parity_scenario).lengths,
        ),
        kind_models=_pairs(opts.parity_kind_models),
        baseline_model=opts.parity_baseline_model or None,
        mix=mix,
    )


def _keys_from_environment() -> list[tuple[str, str]]:
    """(label, secret) pairs. ``PARITY_LOAD_KEYS`` (JSON list of {label, secret}) is set by
    ``parity load`` for budget/rate-limit keys; otherwise PARITY_API_KEY or OPENAI_API_KEY."""
    raw = os.environ.get("PARITY_LOAD_KEYS")
    if raw:
        return [(str(k["label"]), str(k["secret"])) for k in json.loads(raw)]
    secret = os.environ.get("PARITY_API_KEY") or os.environ.get("OPENAI_API_KEY") or ""
    return [("default", secret)]


class Harness:
    """Per-process state of a run: plan, keys, schedule, records and monitor samples."""

    def __init__(self, environment: Environment) -> None:
        opts: Namespace = environment.parsed_options  # type: ignore[assignment]
        self.environment = environment
        self.options = opts
        self.plan = _plan(opts)
        self.keys = _keys_from_environment()
        # The overhead scenario's upstream key (the gateway's keys are in self.keys).
        self.direct_key = os.environ.get("PARITY_DIRECT_API_KEY", "")
        self.report_dir = Path(opts.parity_report_dir)
        self.start = time.perf_counter()
        steps = parse_steps(opts.parity_steps) if opts.parity_steps else None
        self.steps = Steps(steps, opts.parity_step_seconds) if steps else None
        self.schedule: ArrivalSchedule | None = None
        if opts.parity_rate > 0:
            self.schedule = ArrivalSchedule(
                opts.parity_rate,
                opts.parity_arrival,
                self.start + 0.2,  # let the users spawn before the first slot
                seed=opts.parity_seed + os.getpid(),
                steps=self.steps,
                # No slot after the run: a user would sleep through locust's stop timeout.
                # (Workers do not get -t from the master; they get the parity options.)
                end=self.start + opts.parity_run_seconds if opts.parity_run_seconds else None,
            )
            if isinstance(environment.runner, WorkerRunner):
                # Each load process takes an equal part of the rate.
                self.schedule.share = 1.0 / max(1, opts.parity_processes)
        self.local_users = 0
        self.records: list[RequestRecord] = []
        self.lag_ms: list[float] = []
        self.cpu: list[float] = []
        self.rss_bytes: list[int] = []
        self.running = True
        self.watch = IdleWatch(opts.parity_timeout)
        self.watcher = gevent.spawn(self.watch.run)
        self.monitor = gevent.spawn(self._monitor)
        self.flusher = gevent.spawn(self._flush_loop)

    def register_user(self) -> int:
        index = self.local_users
        self.local_users += 1
        return index

    def step_at(self, at: float) -> int | None:
        if self.schedule is not None:
            return self.schedule.step_at(at)
        return None if self.steps is None else self.steps.index_at(at - self.start)

    def _monitor(self) -> None:
        wall, cpu = time.perf_counter(), time.process_time()
        while self.running:
            before = time.perf_counter()
            gevent.sleep(_LAG_PROBE_S)
            now = time.perf_counter()
            runner = self.environment.runner
            if runner is not None and runner.state not in (STATE_RUNNING, STATE_SPAWNING):
                continue  # stopping: locust's own shutdown work is not load-time lag
            self.lag_ms.append(round((now - before - _LAG_PROBE_S) * 1000.0, 3))
            if now - wall >= 1.0:
                used = time.process_time()
                self.cpu.append(round((used - cpu) / (now - wall), 4))
                # Peak resident set size (Linux reports KiB): what the streams held at most.
                self.rss_bytes.append(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)
                wall, cpu = now, used

    def _flush_loop(self) -> None:
        # Small, frequent flushes: one large serialization would stall the event loop (and
        # every timestamp taken meanwhile) for as long as it runs.
        while self.running:
            gevent.sleep(_FLUSH_S)
            if self.records:
                self.flush(final=False)

    def flush(self, *, final: bool) -> None:
        records, self.records = self.records, []
        monitor = (
            {
                "pid": os.getpid(),
                "cpu": self.cpu,
                "lag_ms": self.lag_ms,
                "rss_bytes": self.rss_bytes,
            }
            if final
            else None
        )
        runner = self.environment.runner
        if isinstance(runner, WorkerRunner):
            for at in range(0, len(records), _BATCH):
                runner.send_message(
                    _MESSAGE, {"pid": os.getpid(), "records": records[at : at + _BATCH]}
                )
            if monitor is not None:
                runner.send_message(
                    _MESSAGE, {"pid": os.getpid(), "records": [], "monitor": monitor}
                )
        else:
            _write(self.report_dir, os.getpid(), records, monitor)

    def stop(self) -> None:
        self.running = False
        self.watcher.kill(block=False)
        self.flush(final=True)


def _write(
    report_dir: Path, pid: int, records: list[RequestRecord], monitor: dict[str, Any] | None
) -> None:
    report_dir.mkdir(parents=True, exist_ok=True)
    if records:
        with (report_dir / f"requests-{pid}.jsonl").open("ab") as out:
            # orjson: about ten times faster than json here, and the loop waits for it.
            out.write(b"".join(orjson.dumps(r) + b"\n" for r in records))
    if monitor is not None:
        (report_dir / f"monitor-{pid}.json").write_text(json.dumps(monitor), encoding="utf-8")


_HARNESS: list[Harness] = []  # one per process; a list so tests of wiring can see it


def harness() -> Harness:
    return _HARNESS[0]


def _on_init(environment: Environment, **_: Any) -> None:
    if isinstance(environment.runner, MasterRunner):

        def receive(environment: Environment, msg: Any, **__: Any) -> None:
            data = msg.data
            report_dir = Path(environment.parsed_options.parity_report_dir)  # type: ignore[union-attr]
            _write(report_dir, int(data["pid"]), data["records"], data.get("monitor"))

        environment.runner.register_message(_MESSAGE, receive)


def _on_test_start(environment: Environment, **_: Any) -> None:
    if isinstance(environment.runner, MasterRunner) or _HARNESS:
        return
    # Everything alive now is long-lived: keep it out of the collector's full passes, which
    # otherwise stall the event loop (and every timestamp) as the run's records pile up.
    gc.collect()
    gc.freeze()
    _HARNESS.append(Harness(environment))


def _on_test_stop(environment: Environment, **_: Any) -> None:
    if _HARNESS:
        _HARNESS.pop().stop()


events.init_command_line_parser.add_listener(_add_options)  # type: ignore[no-untyped-call]
events.init.add_listener(_on_init)  # type: ignore[no-untyped-call]
events.test_start.add_listener(_on_test_start)  # type: ignore[no-untyped-call]
events.test_stop.add_listener(_on_test_stop)  # type: ignore[no-untyped-call]

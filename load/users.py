"""The locust side of ``parity load``: options, the user that sends requests, the sweep shape,
per-process self-monitoring, and the record sink.

Each process keeps one :class:`Harness` (built at ``test_start`` from the parsed options, which
locust forwards from master to workers). Users read streams through :func:`load.wire.execute`;
records go to ``requests-<pid>.jsonl`` in the report directory (workers ship them to the master
with ``runner.send_message``, so ``--master``/``--worker`` across hosts needs no shared disk).
A monitor greenlet samples this process's CPU and the gevent hub's lag (how late a 50 ms sleep
wakes up): the figures that say whether the client, not the target, was the bottleneck.

Must not: be imported into a pytest process (gevent monkey-patching), print secrets.
"""

from __future__ import annotations

import gc
import json
import os
import random
import resource
import time
from argparse import Namespace
from pathlib import Path
from typing import Any

import gevent
from gevent import monkey
from geventhttpclient import HTTPClient
from geventhttpclient.url import URL
from locust import LoadTestShape, User, constant, events, task
from locust.env import Environment
from locust.exception import StopUser
from locust.rpc import Message
from locust.runners import STATE_RUNNING, STATE_SPAWNING, MasterRunner, WorkerRunner

from load.metrics import RequestRecord
from load.scenarios import RequestPlan, get_scenario
from load.shapes import ArrivalSchedule, Steps, parse_steps
from load.wire import execute

__all__ = ["Harness", "ParityShape", "ParityUser"]

_MESSAGE = "parity_records"
_REAL_SELECT = monkey.get_original("select", "select")
_LAG_PROBE_S = 0.05
_FLUSH_EVERY = 2000
_EXHAUSTED_PAUSE_S = 0.1


def _add_options(parser: Any) -> None:
    group = parser.add_argument_group("parity", "parity load harness options")
    group.add_argument("--parity-scenario", default="chat-stream", help="scenario name")
    group.add_argument(
        "--parity-models", default="monday-standard", help="chat models, comma-separated"
    )
    group.add_argument("--parity-embedding-model", default="text-embedding-3-small")
    group.add_argument("--parity-baseline-model", default="", help="fallback: the healthy model")
    group.add_argument("--parity-max-tokens", type=int, default=64)
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


class Harness:
    """Per-process state of a run: plan, keys, schedule, records and monitor samples."""

    def __init__(self, environment: Environment) -> None:
        opts: Namespace = environment.parsed_options  # type: ignore[assignment]
        self.environment = environment
        self.options = opts
        scenario = get_scenario(opts.parity_scenario)
        self.plan = RequestPlan(
            scenario=scenario,
            models=tuple(m for m in opts.parity_models.split(",") if m),
            embedding_model=opts.parity_embedding_model,
            max_tokens=opts.parity_max_tokens,
            baseline_model=opts.parity_baseline_model or None,
        )
        self.keys = _keys_from_environment()
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
        while self.running:
            gevent.sleep(2.0)
            if len(self.records) >= _FLUSH_EVERY:
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
            for at in range(0, max(len(records), 1), 500):
                runner.send_message(
                    _MESSAGE, {"pid": os.getpid(), "records": records[at : at + 500]}
                )
            if monitor is not None:
                runner.send_message(
                    _MESSAGE, {"pid": os.getpid(), "records": [], "monitor": monitor}
                )
        else:
            _write(self.report_dir, os.getpid(), records, monitor)

    def stop(self) -> None:
        self.running = False
        self.flush(final=True)


def _socket_alive(sock: Any) -> bool:
    """An idle keep-alive socket is alive when it is open and has nothing to read (no FIN)."""
    try:
        if sock is None or sock.fileno() < 0:
            return False
        readable, _, _ = _REAL_SELECT([sock], [], [], 0.0)
    except (OSError, ValueError):
        return False
    return not readable


def _keys_from_environment() -> list[tuple[str, str]]:
    """(label, secret) pairs. ``PARITY_LOAD_KEYS`` (JSON list of {label, secret}) is set by
    ``parity load`` for budget/rate-limit keys; otherwise PARITY_API_KEY or OPENAI_API_KEY."""
    raw = os.environ.get("PARITY_LOAD_KEYS")
    if raw:
        return [(str(k["label"]), str(k["secret"])) for k in json.loads(raw)]
    secret = os.environ.get("PARITY_API_KEY") or os.environ.get("OPENAI_API_KEY") or ""
    return [("default", secret)]


def _write(
    report_dir: Path, pid: int, records: list[RequestRecord], monitor: dict[str, Any] | None
) -> None:
    report_dir.mkdir(parents=True, exist_ok=True)
    if records:
        with (report_dir / f"requests-{pid}.jsonl").open("a", encoding="utf-8") as out:
            out.writelines(json.dumps(r, separators=(",", ":")) + "\n" for r in records)
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


class ParityUser(User):
    """Sends the scenario's requests back to back (closed loop) or at scheduled times (open)."""

    wait_time = constant(0)

    def on_start(self) -> None:
        h = harness()
        self.index = h.register_user()
        url = URL(self.host or "")
        self.base_path = url.path.rstrip("/")
        self.http = HTTPClient(
            url.host,
            port=url.port,
            ssl=url.scheme == "https",
            concurrency=1,
            connection_timeout=min(10.0, h.options.parity_timeout),
            network_timeout=h.options.parity_timeout,
        )
        # geventhttpclient checks a pooled socket with gevent's select(timeout=0), which yields
        # to the hub *after* our send stamp: under load the request waits a whole round of the
        # event loop (ms of false TTFT). The real select on the fd answers without yielding.
        self.http._connection_pool._is_socket_alive = _socket_alive  # type: ignore[method-assign]
        self.key_label, secret = h.keys[self.index % len(h.keys)]
        self.headers = {"Content-Type": "application/json", "Accept": "text/event-stream, */*"}
        if secret:
            self.headers["Authorization"] = f"Bearer {secret}"
        self.rng = random.Random(h.options.parity_seed * 100003 + os.getpid() * 1009 + self.index)
        # Locust starts users in bursts; streams of equal length then keep them in lockstep, so
        # every cycle the target meets all requests at once and queues them (a load pattern, not
        # a latency of the target or of this harness). A random start offset spreads them.
        jitter = getattr(h.options, "parity_start_jitter", 0.0)
        if jitter > 0:
            gevent.sleep(self.rng.uniform(0.0, jitter))

    def on_stop(self) -> None:
        self.http.close()

    @task
    def send(self) -> None:
        h = harness()
        sched = None
        if h.schedule is not None:
            sched = h.schedule.claim()
            if sched is None:
                raise StopUser()
            delay = sched - time.perf_counter()
            if delay > 0:
                gevent.sleep(delay)
        elif h.steps is not None and h.step_at(time.perf_counter()) is None:
            raise StopUser()
        kind, model, path, body = h.plan.choose(self.rng)
        record = execute(
            self.http,
            kind=kind,
            model=model,
            path=self.base_path + path,
            body=body,
            headers=self.headers,
            key_label=self.key_label,
            sched=sched,
            step=h.step_at(sched if sched is not None else time.perf_counter()),
        )
        h.records.append(record)
        error = record["error"]
        if error == "insufficient_quota":
            # OpenAI's quota error is final (the official SDK does not retry it), so a client
            # pauses rather than spin: a refusal takes microseconds, and hammering an exhausted
            # key only saturates this process and invalidates the run.
            gevent.sleep(_EXHAUSTED_PAUSE_S)
        self.environment.events.request.fire(
            request_type=kind,
            name=model,
            response_time=record["end_ms"] or record["headers_ms"] or 0.0,
            response_length=len(record["chunks"]),
            exception=RuntimeError(f"{error}: {record['detail']}") if error else None,
            context={"key": self.key_label},
        )


class ParityShape(LoadTestShape):
    """Closed-loop sweep steps (``--parity-steps`` without a rate); otherwise locust's own
    ``-u``/``-r``/``-t`` (``use_common_options``)."""

    use_common_options = True

    def tick(self) -> tuple[int, float] | None:
        opts = self.runner.environment.parsed_options if self.runner else None
        if opts is None:
            return None
        result = self._tick(opts, float(self.get_run_time()))  # type: ignore[no-untyped-call]
        if result is None and isinstance(self.runner, MasterRunner):
            # A headless master ends with quit(), which gives workers 0.5 s: tell them to quit
            # first and wait until they have (each runs test_stop and ships its last records
            # before its quit message, in order on the same channel).
            runner = self.runner
            for client in list(runner.clients.all):
                runner.server.send_to_client(Message("quit", None, client.id))  # type: ignore[no-untyped-call]
            deadline = time.monotonic() + runner.environment.stop_timeout + 10.0
            while runner.clients.all and time.monotonic() < deadline:
                gevent.sleep(0.1)
        return result

    @staticmethod
    def _tick(opts: Namespace, run_time: float) -> tuple[int, float] | None:
        if opts.parity_steps and not opts.parity_rate:
            steps = Steps(parse_steps(opts.parity_steps), opts.parity_step_seconds)
            index = steps.index_at(run_time)
            if index is None:
                return None
            users = int(steps.values[index])
            return users, float(max(users, 100))
        if opts.run_time and run_time > opts.run_time:
            return None
        return int(opts.num_users or 1), float(opts.spawn_rate or 1)

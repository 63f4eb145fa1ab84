"""The locust user that sends a run's requests, and the load shape of a sweep.

Users read HTTP answers through :func:`load.wire.execute` and Realtime sessions through
:func:`load.realtime.realtime_session`; their records go to the process's
:class:`~load.harness.Harness`. In the overhead scenario each user rotates its requests over three
sides, each with its own keep-alive connection: through the gateway (``--host``), straight to the
upstream (``--parity-direct-url``), and straight to the upstream again (``aa``: the A/A pair that
shows the harness's own floor). Rotating within every user interleaves the sides in time, so
whatever the machine does meanwhile hits them alike.

Must not: be imported into a pytest process (gevent monkey-patching), print secrets.
"""

from __future__ import annotations

import os
import random
import time
from argparse import Namespace
from dataclasses import dataclass
from typing import Any

import gevent
from gevent import monkey
from geventhttpclient import HTTPClient
from geventhttpclient.url import URL
from locust import LoadTestShape, User, constant, task
from locust.exception import StopUser
from locust.rpc import Message
from locust.runners import MasterRunner

from load.harness import harness
from load.realtime import realtime_session
from load.shapes import Steps, parse_steps
from load.wire import execute

__all__ = ["ParityShape", "ParityUser"]

_REAL_SELECT = monkey.get_original("select", "select")
_EXHAUSTED_PAUSE_S = 0.1
_SIDES = ("gateway", "direct", "aa")


def _socket_alive(sock: Any) -> bool:
    """An idle keep-alive socket is alive when it is open and has nothing to read (no FIN)."""
    try:
        if sock is None or sock.fileno() < 0:
            return False
        readable, _, _ = _REAL_SELECT([sock], [], [], 0.0)
    except (OSError, ValueError):
        return False
    return not readable


@dataclass(frozen=True, slots=True)
class _Side:
    """One place requests go: its base URL, connection, key and model name there."""

    name: str
    base_url: str
    base_path: str
    http: HTTPClient
    secret: str
    model: str | None  # None: the plan's model


def _client(base_url: str, options: Namespace) -> tuple[HTTPClient, str]:
    url = URL(base_url)
    http = HTTPClient(
        url.host,
        port=url.port,
        ssl=url.scheme == "https",
        concurrency=1,
        connection_timeout=min(10.0, options.parity_timeout),
        # No per-read timer (see load.wire): the request's own timeout and the idle watch.
        # geventhttpclient passes the value to socket.settimeout, where None means blocking.
        network_timeout=None,  # type: ignore[arg-type]
    )
    # geventhttpclient checks a pooled socket with gevent's select(timeout=0), which yields
    # to the hub *after* our send stamp: under load the request waits a whole round of the
    # event loop (ms of false TTFT). The real select on the fd answers without yielding.
    http._connection_pool._is_socket_alive = _socket_alive  # type: ignore[method-assign]
    return http, url.path.rstrip("/")


class ParityUser(User):
    """Sends the scenario's requests back to back (closed loop) or at scheduled times (open)."""

    wait_time = constant(0)

    def on_start(self) -> None:
        h = harness()
        opts = h.options
        self.index = h.register_user()
        self.key_label, secret = h.keys[self.index % len(h.keys)]
        host = (self.host or "").rstrip("/")
        http, path = _client(host, opts)
        self.sides = [_Side("gateway", host, path, http, secret, None)]
        if h.plan.scenario.overhead and opts.parity_direct_url:
            direct = opts.parity_direct_url.rstrip("/")
            for name in _SIDES[1:]:
                http, path = _client(direct, opts)
                model = opts.parity_direct_model or None
                self.sides.append(_Side(name, direct, path, http, h.direct_key, model))
            # Each user starts on another side, so at any moment all three are in flight.
            turn = self.index % len(self.sides)
            self.sides = self.sides[turn:] + self.sides[:turn]
        self.turn = 0
        self.rng = random.Random(opts.parity_seed * 100003 + os.getpid() * 1009 + self.index)
        # Locust starts users in bursts; streams of equal length then keep them in lockstep, so
        # every cycle the target meets all requests at once and queues them (a load pattern, not
        # a latency of the target or of this harness). A random start offset spreads them.
        jitter = getattr(opts, "parity_start_jitter", 0.0)
        if jitter > 0:
            gevent.sleep(self.rng.uniform(0.0, jitter))

    def on_stop(self) -> None:
        for side in self.sides:
            side.http.close()

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
        side = self.sides[self.turn % len(self.sides)]
        self.turn += 1
        kind, model, outgoing = h.plan.choose(self.rng, model=side.model)
        step = h.step_at(sched if sched is not None else time.perf_counter())
        headers = {"Accept": "text/event-stream, */*"}
        if side.secret:
            headers["Authorization"] = f"Bearer {side.secret}"
        if outgoing.protocol == "realtime":
            record = realtime_session(
                side.base_url,
                outgoing,
                api_key=side.secret,
                timeout=h.options.parity_timeout,
                model=model,
                key_label=self.key_label,
                sched=sched,
                step=step,
            )
        else:
            record = execute(
                side.http,
                outgoing,
                kind=kind,
                model=model,
                base_path=side.base_path,
                headers=headers,
                key_label=self.key_label,
                sched=sched,
                step=step,
                watch=h.watch,
            )
        if len(self.sides) > 1:
            record["side"] = side.name
        h.records.append(record)
        error = record["error"]
        if error == "insufficient_quota":
            # OpenAI's quota error is final (the official SDK does not retry it), so a client
            # pauses rather than spin: a refusal takes microseconds, and hammering an exhausted
            # key only saturates this process and invalidates the run.
            gevent.sleep(_EXHAUSTED_PAUSE_S)
        self.environment.events.request.fire(
            request_type=kind,
            name=model if len(self.sides) == 1 else f"{side.name}:{model}",
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

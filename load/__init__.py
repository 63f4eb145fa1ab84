"""parity's load harness: locust scenarios measuring streaming latency on every endpoint, the
latency a gateway adds over its upstream, throughput, and whether limits hold.

Owns: the ``parity load`` command (``load.command``), the locust side (``load.locustfile``,
``load.users``, ``load.harness``, the readers ``load.wire`` and ``load.realtime``), the metric
definitions (``load.metrics``) and the reports. Its errors are drawn in ``load.errors``.

Must not: import ``reference_server`` (of the suite it uses ``conformance.launch`` alone, to start
local servers); be imported into a pytest process where locust runs (locust patches with gevent:
tests drive the locust side through a subprocess; the pure modules may be imported).
"""

from __future__ import annotations

__all__: list[str] = []

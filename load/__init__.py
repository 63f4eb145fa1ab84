"""parity's load harness: locust scenarios measuring streaming latency, throughput and limits.

Must not: import ``reference_server``; be imported into a pytest process (locust patches with
gevent: tests drive it through a subprocess).
"""

from __future__ import annotations

__all__: list[str] = []

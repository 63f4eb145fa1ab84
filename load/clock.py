"""The clock of one load process: ``time.perf_counter()`` stamps, and their offset to Unix time.

Every reader stamps with ``perf_counter`` (monotonic, sub-microsecond); records carry Unix
seconds so records of several processes (``--processes``, workers on other hosts) align. The
offset is read once per process, so all records of a process share it.

Must not: import anything of the harness.
"""

from __future__ import annotations

import time

__all__ = ["WALL_OFFSET", "wall"]

# perf_counter -> Unix seconds, fixed once per process so records from several processes align.
WALL_OFFSET = time.time() - time.perf_counter()


def wall(stamp: float) -> float:
    """A ``perf_counter`` stamp as Unix seconds (microsecond resolution)."""
    return round(stamp + WALL_OFFSET, 6)

"""The load harness's exceptions, in one tree (the way httpx draws its own)::

    LoadError                 anything ``parity load`` reports in one line and exits 2 on
    ├── UsageError            bad input: an argument, a duration, a rate, a payload size
    │   ├── ScenarioError     an unknown ``--scenario`` name
    │   └── SloError          a malformed ``--slo`` expression or an unknown metric
    ├── PreflightError        the target is unreachable or refuses the scenario's first request
    ├── AdminError            the gateway's admin API is missing, refuses the key, or answers nonsense
    └── RunError              a run could not produce figures (a local server did not start,
                              a calibration stage wrote no summary)

Every message shows the offending value and says how to fix it; none carries a key.

Must not: import anything of the harness (every module may import this one).
"""

from __future__ import annotations

__all__ = [
    "AdminError",
    "LoadError",
    "PreflightError",
    "RunError",
    "ScenarioError",
    "SloError",
    "UsageError",
]


class LoadError(Exception):
    """Base of every error ``parity load`` reports in one line (exit status 2)."""


class UsageError(LoadError, ValueError):
    """Bad input on the command line: the message shows the value and the valid choices."""


class ScenarioError(UsageError):
    """An unknown scenario name."""


class SloError(UsageError):
    """A malformed ``--slo`` expression or an unknown metric name."""


class PreflightError(LoadError):
    """The target cannot be load-tested as asked (nothing was sent)."""


class AdminError(LoadError):
    """The admin API is missing, refused the admin key, or answered something unusable."""


class RunError(LoadError):
    """A run could not produce its figures; the message says where its log is."""

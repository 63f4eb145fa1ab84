"""Every exception the suite raises on purpose, in one tree.

```
Exception
 ├── ParityError                 the suite cannot do what it was asked; the message says what to fix
 │    ├── UsageError             a mistake in the command line, the environment, or a file they
 │    │    │                     name: ``parity check``, ``parity drill`` and the plugin exit 2
 │    │    ├── ProfileError      a target profile (name or YAML file) that cannot be used
 │    │    └── DrillProfileError a drill profile that cannot be used
 │    ├── CheckLoadError         a module of checks failed to import
 │    ├── TargetUnreachableError the target did not answer at all (connection, DNS, TLS, timeout)
 │    │    └── TargetRefusedError  it answered, but refused the run's credentials
 │    ├── UpstreamControlError   a drill's upstream control API refused or could not be reached
 │    └── LaunchError            a local server process exited or did not answer in time
 ├── CheckOutcome                raised by a check to end with an outcome other than "passed"
 │    ├── CheckFailed            the target breaks an OpenAI client or contradicts OpenAI's API
 │    ├── CheckWarning           legal but unusual behaviour worth knowing
 │    └── CheckSkipped           the check does not apply (capability, profile, budget)
 └── CheckItemFailure            a failed check as a pytest item reports it (the plugin's)
UserWarning
 └── ParityWarning               a check's warning in pytest's warnings summary
```

``ProfileError`` and ``DrillProfileError`` are also ``ValueError`` and ``LaunchError`` is also
``RuntimeError``, as they were before the tree. A :class:`CheckOutcome` is not an error of the
suite: it is how a check reports its verdict (the runner turns it into a result); checks import
these from :mod:`conformance.registry`, the check author's module.

Must not: import anything but :mod:`conformance.exchange` and :mod:`conformance.vocabulary` (for
typing): every module may import this one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from conformance.exchange import Exchange
    from conformance.vocabulary import SkipKind

__all__ = [
    "CheckFailed",
    "CheckItemFailure",
    "CheckLoadError",
    "CheckOutcome",
    "CheckSkipped",
    "CheckWarning",
    "DrillProfileError",
    "LaunchError",
    "ParityError",
    "ParityWarning",
    "ProfileError",
    "TargetRefusedError",
    "TargetUnreachableError",
    "UpstreamControlError",
    "UsageError",
]


class ParityError(Exception):
    """The suite cannot do what it was asked; the message says what to fix."""


class UsageError(ParityError):
    """A mistake in the command line, the environment or a file they name; says how to fix it."""


class ProfileError(UsageError, ValueError):
    """A profile name or file that cannot be used; the message names the bad field."""


class DrillProfileError(UsageError, ValueError):
    """A drill profile that cannot be used; the message names the field and the offending value."""


class CheckLoadError(ParityError):
    """A module under ``conformance.checks`` (or another check package) failed to import."""


class TargetUnreachableError(ParityError):
    """The target did not answer at all (connection refused, DNS, TLS, timeout)."""


class TargetRefusedError(TargetUnreachableError):
    """The target answered, but refused the run's credentials before any check ran."""


class UpstreamControlError(ParityError):
    """The control API refused or could not be reached; the message says which and why."""


class LaunchError(ParityError, RuntimeError):
    """A local server exited or did not answer in time; the message says which and where to look."""


class CheckOutcome(Exception):
    """Raised by a check to end it with an outcome other than "passed"."""


class CheckFailed(CheckOutcome):
    """The target breaks an OpenAI client or contradicts OpenAI's documented API."""

    def __init__(self, message: str, evidence: Exchange | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.evidence = evidence


class CheckWarning(CheckOutcome):
    """Legal but unusual behaviour worth knowing; does not change the exit status."""

    def __init__(self, message: str, evidence: Exchange | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.evidence = evidence


class CheckSkipped(CheckOutcome):
    """The check does not apply (capability not offered, profile says so, budget spent).

    ``kind`` says why, for the run's count of checks it could not judge (the words are
    :data:`conformance.vocabulary.SKIP_KINDS`); a check's own reason is ``"check"``.
    """

    def __init__(self, reason: str, kind: SkipKind = "check") -> None:
        super().__init__(reason)
        self.reason = reason
        self.kind: SkipKind = kind


class CheckItemFailure(Exception):
    """Raised by the pytest plugin's item for a failed check; ``text`` is what pytest prints."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text


class ParityWarning(UserWarning):
    """A check's warning: legal but unusual behaviour of the target."""

"""One fuzz run's live state, and the request shaping schemathesis applies before every call.

Schemathesis dispatches ``before_call`` hooks and custom checks globally, from its worker
threads; they find the run they belong to through the schema object of the case
(:func:`session_for`). ``filter_case`` drops cases whose path parameters would change the route
(:func:`conformance.fuzz.artifacts.route_changer`) and keeps each operation's coverage cases
within its share (per valid/invalid mode); ``before_call``:

- counts the request against the run's budget (and the caller's ``on_send`` budget), and
  winds the engine down once it is spent (the engine checks before each next case), so no run
  sends more than ``max_requests``;
- swaps a generated ``model`` string for the model the target serves for the operation's
  capability, so a valid case can be served (a random model id only ever earns a 404);
- forces ``max_tokens`` / ``max_completion_tokens`` (a number or null) down to the cap (adding
  ``max_completion_tokens``, OpenAI's current field, when neither is set), caps ``n``, and
  caps ``max_output_tokens`` of Responses requests: the spec allows all to be large, and a
  paid target bills them;
- puts a short silent WAV where schemathesis generated the bytes of a transcription ``file``
  (it generates a PNG, which no speech-to-text model can read).

Schemathesis re-validates a case a hook edits (``Case.call``), so a case these edits make valid
is judged as a valid case, and one that stays invalid as an invalid one.

Must not: send requests itself, or keep a reference to a run after :meth:`FuzzSession.close`.
"""

from __future__ import annotations

import struct
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from conformance.fuzz.artifacts import route_changer
from conformance.fuzz.document import CAPABILITY_BY_PATH
from conformance.registry import Capability

__all__ = ["FuzzSession", "install_hooks", "session_for"]

_CHAT_PATHS = frozenset({"/chat/completions", "/completions"})
_RESPONSES_PATHS = frozenset({"/responses"})
_AUDIO_PATHS = frozenset({"/audio/transcriptions", "/audio/translations"})

_ACTIVE: dict[int, FuzzSession] = {}
_ACTIVE_LOCK = threading.Lock()
_INSTALLED = threading.Event()


@dataclass(slots=True, eq=False)
class FuzzSession:
    """State of one schemathesis run against one target (mutable; guarded by ``lock``)."""

    models: Mapping[Capability, str]
    stream_components: Mapping[tuple[str, str], str]
    budget: int
    max_tokens: int
    max_choices: int
    auth_error_shape: str | None = None
    document: str = "openai.yaml"
    coverage_cap: int | None = None
    sent: int = 0
    coverage_kept: dict[tuple[str, str], int] = field(default_factory=dict)
    budget_spent: bool = False
    expired: bool = False
    stop: Callable[[], None] | None = None
    # Asked before each request; False when the run-wide budget (--max-requests) is spent.
    on_send: Callable[[], bool] | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    def open(self, schema: object) -> None:
        with _ACTIVE_LOCK:
            _ACTIVE[id(schema)] = self

    def close(self, schema: object) -> None:
        with _ACTIVE_LOCK:
            _ACTIVE.pop(id(schema), None)

    def admit(self) -> bool:
        """Count one request; False (and the engine told to stop) once the budget is spent."""
        with self.lock:
            if self.sent >= self.budget or (self.on_send is not None and not self.on_send()):
                self.budget_spent = True
                admitted = False
            else:
                self.sent += 1
                admitted = True
                self.budget_spent = self.sent >= self.budget
            spent = self.budget_spent
        if spent and self.stop is not None:
            self.stop()
        return admitted

    def expire(self) -> None:
        """The run's time is up: stop the engine before its next case (from a timer thread)."""
        with self.lock:
            self.expired = True
        if self.stop is not None:
            self.stop()

    def keep(self, operation: str, mode: str) -> bool:
        """Whether a coverage case of ``mode`` for ``operation`` is still within its share.

        Coverage enumerates every boundary and invalid value (about 700 cases for the chat
        request schema), negative ones first; each operation gets ``coverage_cap`` cases per
        mode, so valid boundary cases are reached and the generative phases keep a budget.
        """
        if self.coverage_cap is None:
            return True
        with self.lock:
            key = (operation, mode)
            kept = self.coverage_kept.get(key, 0)
            if kept >= self.coverage_cap:
                return False
            self.coverage_kept[key] = kept + 1
            return True

    def shape(self, path: str, body: Any) -> None:
        """Edit a generated JSON body in place (see the module docstring)."""
        if not isinstance(body, dict):
            return
        capability = CAPABILITY_BY_PATH.get(path)
        model = self.models.get(capability) if capability is not None else None
        if model and isinstance(body.get("model"), str):
            body["model"] = model
        if path in _CHAT_PATHS:
            self._cap_tokens(body, ("max_tokens", "max_completion_tokens"), "max_completion_tokens")
            if _is_int(body.get("n")) and body["n"] > self.max_choices:
                body["n"] = self.max_choices
        elif path in _RESPONSES_PATHS:
            self._cap_tokens(body, ("max_output_tokens",), "max_output_tokens")

    def _cap_tokens(self, body: dict[str, Any], fields: tuple[str, ...], default: str) -> None:
        present = [name for name in fields if name in body]
        for name in present:
            # null means "no limit" (the fields are nullable): as costly as a large number.
            if body[name] is None or (_is_int(body[name]) and body[name] > self.max_tokens):
                body[name] = self.max_tokens
        if not present:
            body[default] = self.max_tokens


def _swap_audio(body: Any) -> bool:
    """Put a silent WAV where schemathesis generated file bytes (a PNG no ASR model reads)."""
    from schemathesis.transport.serialization import Binary

    if not isinstance(body, dict):
        return False
    current = body.get("file")
    if isinstance(current, Binary):
        body["file"] = Binary(_SILENT_WAV)
        return True
    if isinstance(current, bytes | bytearray):
        body["file"] = _SILENT_WAV
        return True
    return False


def _silent_wav(seconds: float = 0.5, rate: int = 16_000) -> bytes:
    """A mono 16-bit PCM WAV file of silence (RIFF/WAVE, which every ASR model reads)."""
    data = b"\x00\x00" * int(seconds * rate)
    header = b"fmt " + struct.pack("<IHHIIHH", 16, 1, 1, rate, rate * 2, 2, 16)
    chunk = b"data" + struct.pack("<I", len(data)) + data
    return b"RIFF" + struct.pack("<I", 4 + len(header) + len(chunk)) + b"WAVE" + header + chunk


_SILENT_WAV = _silent_wav()


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def session_for(case: Any) -> FuzzSession | None:
    """The run a schemathesis case belongs to (None: a schemathesis run that is not ours)."""
    with _ACTIVE_LOCK:
        return _ACTIVE.get(id(case.operation.schema))


def _filter_case(context: Any, case: Any) -> bool:
    session = session_for(case)
    if session is None:
        return True
    if route_changer(getattr(case, "path_parameters", None)) is not None:
        return False  # it would address another route (conformance.fuzz.artifacts)
    meta = getattr(case, "meta", None)
    if meta is None:
        return True
    if str(getattr(meta.phase.name, "value", "")) != "coverage":
        return True
    return session.keep(str(case.operation.label), str(getattr(meta.generation.mode, "value", "")))


def _before_call(context: Any, case: Any, kwargs: dict[str, Any]) -> None:
    session = session_for(case)
    if session is None:
        return
    if not session.admit():
        # schemathesis' own "time slice spent" signal (schemathesis 4.32, engine.run.unit):
        # the scenario under way ends and reports what it has; nothing more is sent for it.
        from schemathesis.engine.run.unit._case import BudgetExpired

        raise BudgetExpired
    session.shape(case.operation.path, case.body)
    if case.operation.path in _AUDIO_PATHS and _swap_audio(case.body):
        # The swap keeps the case as valid or invalid as generated (a file for a file, the
        # model string for a string), but schemathesis cannot validate binary parts and would
        # relabel the case invalid: take the edited body as the generated one, as schemathesis
        # itself does for auth and overrides written after generation (Case._record_starting_state).
        case._record_starting_state()


def install_hooks() -> None:
    """Register the global hooks once per process (they ignore other runs)."""
    if _INSTALLED.is_set():
        return
    import schemathesis

    with _ACTIVE_LOCK:
        if _INSTALLED.is_set():
            return
        schemathesis.hook("before_call")(_before_call)
        schemathesis.hook("filter_case")(_filter_case)
        _INSTALLED.set()

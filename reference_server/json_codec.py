"""JSON on the wire: orjson on the hot path, the standard library's semantics at the edges.

Encoding a chat completion and decoding its request were a sixth of the reference server's
CPU per request with the ``json`` module; orjson does both several times faster. The two
libraries differ only at the edges, and there the standard library decides, so that moving
to orjson changes no answer the server gives:

- :func:`decode` hands anything orjson refuses to ``json.loads``: bodies in UTF-16/32 (RFC
  8259 section 8.1 allows a parser to accept them, ``json.loads`` does), lone surrogate
  escapes, ``NaN``. orjson reads an integer beyond 64 bits as a float, where ``json.loads``
  keeps it exact (``max_tokens: 18446744073709551616`` is then refused as out of range, not
  as "not an integer"), so a body with a run of 19 or more digits anywhere goes to
  ``json.loads`` too; shorter integers always fit. What ``json.loads`` refuses too raises its
  ``ValueError``, whose message names the line and column; nesting too deep for it is a
  ``ValueError`` as well, never a ``RecursionError`` that would surface as a 500.
- :func:`encode` hands anything orjson cannot write (an echoed string holding a lone
  surrogate, an integer beyond 64 bits, a non-string key) to ``json.dumps`` with compact
  separators and ASCII escapes, so that even a lone surrogate leaves as valid JSON (as
  ``"\\ud800"``) rather than failing to encode as UTF-8.

Must not: know anything about requests or responses.
"""

from __future__ import annotations

import json
import re
from typing import Any

import orjson

__all__ = ["decode", "encode"]

_LONG_DIGITS = re.compile(rb"[0-9]{19}")
# No circular-reference bookkeeping: payloads are trees built per request.
_stdlib_dumps = json.JSONEncoder(separators=(",", ":"), check_circular=False).encode


def decode(raw: bytes) -> Any:
    """The JSON value in ``raw``; ``ValueError`` (with the position) when it is not JSON."""
    if _LONG_DIGITS.search(raw) is None:
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError:
            pass
    try:
        return json.loads(raw)
    except RecursionError:
        raise ValueError("the JSON value is nested too deeply") from None


def encode(payload: Any) -> bytes:
    """Compact UTF-8 JSON for ``payload``."""
    try:
        return orjson.dumps(payload)
    except TypeError:  # orjson.JSONEncodeError is a TypeError
        return _stdlib_dumps(payload).encode("ascii")

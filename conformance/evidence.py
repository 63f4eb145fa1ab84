"""Evidence as a reader sees it, and the one redactor every output of a run goes through.

Owns: redaction (:class:`Redactor`: the run's secrets wherever they appear, credential headers
by name, bearer tokens, ``sk-`` style keys and ``x-api-key``/``api-key`` values in any text,
credentials in a URL's userinfo), :func:`secrets_of` (what counts as a secret of a run) and
:func:`redactor_for`; body excerpts; and the ``curl`` line that reproduces a request with every
header it sent, ``$PARITY_API_KEY`` in place of the key. The report writers, the terminal and
the pytest plugin all redact through :func:`redactor_for`, so a key the target echoes (in a
body, a header, an error message, an SSE event) reaches no output.

Must not: judge anything, or write files (the report writers do).
"""

from __future__ import annotations

import dataclasses
import html
import json
import re
import shlex
import urllib.parse
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, TypedDict

from conformance.exchange import Exchange

if TYPE_CHECKING:
    from conformance.target import Target

__all__ = [
    "EXCERPT_BYTES",
    "EvidenceDict",
    "Redactor",
    "RequestDict",
    "curl_command",
    "redactor_for",
    "render_evidence",
    "secrets_of",
]

EXCERPT_BYTES = 2048
REDACTED = "[redacted]"
# Headers that carry credentials (OpenAI: Authorization; Azure: api-key; others: x-api-key,
# cookies); any header whose name mentions a key, token, secret or password counts too.
_SENSITIVE = {"authorization", "proxy-authorization", "cookie", "set-cookie", "api-key"}
_SENSITIVE_PART = re.compile(r"key|token|secret|passw|auth|session", re.IGNORECASE)
# Key-like strings in any text: bearer tokens, OpenAI-style keys (sk-..., sk-proj-...), and the
# value of an Authorization, x-api-key or api-key field (a header echoed into a body).
_KEYLIKE = re.compile(
    r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]{8,}"
    r"|\bsk-[A-Za-z0-9_-]{8,}"
    r"|(\b(?:x-api-key|api[-_]key|authorization)[\"']?\s*[:=]\s*[\"']?(?:(?:bearer|basic)\s+)?)"
    r"(?!(?:bearer|basic)\b)[A-Za-z0-9._~+/=-]{6,}"
)
# Credentials in a URL's userinfo (https://user:password@host/...).
_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/@\s:]+:[^/@\s]+@")
# Headers curl derives from the URL and the body itself (and gets right when the body is edited).
_CURL_DERIVED = {"host", "content-length"}
_CURL_INLINE_LIMIT = 16 * 1024


class RequestDict(TypedDict):
    method: str
    url: str
    headers: dict[str, str]
    body_excerpt: str


class EvidenceDict(TypedDict):
    request: RequestDict
    status: int | None
    headers: dict[str, str]
    body_excerpt: str
    body_bytes: int
    error: str | None
    # The first attempt's transport error, when the request was sent again on a fresh connection.
    retried: str | None
    timing: dict[str, float | int | None]
    curl: str


def is_sensitive(name: str) -> bool:
    lowered = name.lower()
    return lowered in _SENSITIVE or bool(_SENSITIVE_PART.search(lowered))


def _forms(secret: str) -> set[str]:
    """The secret as it may appear in an output: as is, URL-encoded, escaped in JSON or HTML."""
    return {
        secret,
        urllib.parse.quote(secret, safe=""),
        json.dumps(secret)[1:-1],
        html.escape(secret),
    }


class Redactor:
    """Replaces the run's secrets (and anything key-like) in text and headers."""

    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        # Longest first, so a secret that contains another is replaced whole.
        self.secrets = sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True)
        forms = {form for secret in self.secrets for form in _forms(secret)}
        self._forms = sorted(forms, key=len, reverse=True)

    def scrub(self, value: str) -> str:
        """Only the run's secrets replaced (a rendered file's last pass)."""
        for form in self._forms:
            value = value.replace(form, REDACTED)
        return value

    def text(self, value: str) -> str:
        value = _USERINFO.sub(lambda m: f"{m.group(1)}{REDACTED}@", self.scrub(value))
        return _KEYLIKE.sub(lambda m: f"{m.group(1) or m.group(2) or ''}{REDACTED}", value)

    def headers(self, headers: Mapping[str, str]) -> dict[str, str]:
        return {
            self.text(name): REDACTED if is_sensitive(name) else self.text(value)
            for name, value in headers.items()
        }


def secrets_of(target: Target) -> list[str]:
    """The run's secrets: its key, its admin key, the keys of its roles (given or minted), the
    other secrets it was given, and every key-like string field of its profile."""
    found: list[str | None] = [
        target.api_key,
        target.admin_key,
        *target.roles.keys.values(),
        *target.secrets,
    ]
    for item in dataclasses.fields(target.profile):
        value = getattr(target.profile, item.name)
        if "key" in item.name and isinstance(value, str):
            found.append(value)
    return [s for s in found if s]


def redactor_for(target: Target) -> Redactor:
    """The one redactor of a run: every output of the run goes through it."""
    return Redactor(secrets_of(target))


def _excerpt(body: bytes, redactor: Redactor, limit: int = EXCERPT_BYTES) -> str:
    # Redact before cutting: a secret straddling the cut must not leave its first half behind.
    longest = max((len(secret.encode()) for secret in redactor.secrets), default=0)
    text = redactor.text(body[: limit + longest + 64].decode("utf-8", errors="replace"))
    if len(body) > limit:
        text = text[:limit] + f"\n... ({len(body) - limit} more bytes)"
    return text


def _double_quoted(text: str) -> str:
    """``text`` made safe inside a double-quoted shell word."""
    return re.sub(r'([\\"$`])', r"\\\1", text)


def _shell_word(text: str, redactor: Redactor, api_key: str | None) -> str:
    """``text`` as one shell word: the run's key becomes ``$PARITY_API_KEY``, another secret
    ``$PARITY_SECRET`` (both expanded by the shell), anything else key-like is masked."""
    placeholders = {secret: "$PARITY_SECRET" for secret in redactor.secrets}
    if api_key:
        placeholders[api_key] = "$PARITY_API_KEY"
    found = [secret for secret in sorted(placeholders, key=len, reverse=True) if secret in text]
    if not found:
        return shlex.quote(redactor.text(text))
    pattern = re.compile("|".join(re.escape(secret) for secret in found))
    pieces: list[str] = []
    position = 0
    for match in pattern.finditer(text):
        pieces.append(_double_quoted(redactor.text(text[position : match.start()])))
        pieces.append(placeholders[match.group()])
        position = match.end()
    pieces.append(_double_quoted(redactor.text(text[position:])))
    return '"' + "".join(pieces) + '"'


def curl_command(exchange: Exchange, redactor: Redactor, api_key: str | None) -> str:
    """A shell line reproducing the request, with every header the check sent.

    The key is read from ``$PARITY_API_KEY`` (another secret of the run from
    ``$PARITY_SECRET``); a key-like value that is no secret of the run (a deliberately wrong key
    a check made up) is masked like every key-like string, which keeps it a wrong key. Only
    ``Host`` and ``Content-Length`` are left to curl, which derives them from the URL and the
    body; ``--compressed`` decodes what ``Accept-Encoding`` asked for. Bodies over 16 KiB, or
    not text, are replaced by a note.
    """
    headers = exchange.request_headers
    parts = ["curl", "-sS", "-X", exchange.method, _shell_word(exchange.url, redactor, api_key)]
    if "accept-encoding" in headers:
        parts.append("--compressed")
    for name, value in headers.items():
        if name.lower() in _CURL_DERIVED:
            continue
        parts += ["-H", _shell_word(f"{name}: {value}", redactor, api_key)]
    body = exchange.request_body
    if body:
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            text = None
        if text is None or len(body) > _CURL_INLINE_LIMIT:
            parts += ["--data-binary", "@request-body.bin", f"# ({len(body)} bytes, not inlined)"]
        else:
            parts += ["--data-binary", shlex.quote(redactor.text(text))]
    return " ".join(parts)


def render_evidence(
    exchange: Exchange, redactor: Redactor, api_key: str | None = None
) -> EvidenceDict:
    """The exchange as report data: redacted, excerpted, with timing and a curl line."""
    reads = exchange.reads
    return {
        "request": {
            "method": exchange.method,
            "url": redactor.text(exchange.url),
            "headers": redactor.headers(exchange.request_headers),
            "body_excerpt": _excerpt(exchange.request_body, redactor),
        },
        "status": exchange.status,
        "headers": redactor.headers(exchange.headers),
        "body_excerpt": _excerpt(exchange.body, redactor),
        "body_bytes": len(exchange.body),
        "error": redactor.text(exchange.error) if exchange.error else None,
        "retried": redactor.text(exchange.retried) if exchange.retried else None,
        "timing": {
            "headers_s": _round(exchange.headers_at),
            "first_read_s": _round(reads[0].at) if reads else None,
            "last_read_s": _round(reads[-1].at) if reads else None,
            "finished_s": _round(exchange.finished_at),
            "reads": len(reads),
        },
        "curl": curl_command(exchange, redactor, api_key),
    }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)

"""Evidence as a reader sees it: an Exchange rendered with every secret redacted.

Owns: redaction (credential headers, the run's secrets wherever they appear, bearer tokens and
``sk-`` style keys in bodies), body excerpts, and the ``curl`` line that reproduces a request
with ``$PARITY_API_KEY`` in place of the key.

Must not: judge anything, or write files (the report writers do).
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable, Mapping
from typing import TypedDict

from conformance.exchange import Exchange

__all__ = [
    "EXCERPT_BYTES",
    "EvidenceDict",
    "Redactor",
    "RequestDict",
    "curl_command",
    "render_evidence",
]

EXCERPT_BYTES = 2048
REDACTED = "[redacted]"
# Headers that carry credentials (OpenAI: Authorization; Azure: api-key; others: x-api-key,
# cookies); any header whose name mentions a key, token, secret or password counts too.
_SENSITIVE = {"authorization", "proxy-authorization", "cookie", "set-cookie", "api-key"}
_SENSITIVE_PART = re.compile(r"key|token|secret|passw|auth|session", re.IGNORECASE)
# Key-like strings in bodies: bearer tokens and OpenAI-style keys (sk-..., sk-proj-...).
_KEYLIKE = re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]{8,}|\bsk-[A-Za-z0-9_-]{8,}")
# Credentials in a URL's userinfo (https://user:password@host/...).
_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/@\s:]+:[^/@\s]+@")
# Headers the client sets itself; a curl line need not repeat them.
_CURL_OMIT = {"host", "content-length", "accept-encoding", "connection", "user-agent", "accept"}
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
    timing: dict[str, float | int | None]
    curl: str


def is_sensitive(name: str) -> bool:
    lowered = name.lower()
    return lowered in _SENSITIVE or bool(_SENSITIVE_PART.search(lowered))


class Redactor:
    """Replaces the run's secrets (and anything key-like) in text."""

    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        # Longest first, so a secret that contains another is replaced whole.
        self.secrets = sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True)

    def text(self, value: str) -> str:
        for secret in self.secrets:
            value = value.replace(secret, REDACTED)
        value = _USERINFO.sub(lambda m: f"{m.group(1)}{REDACTED}@", value)
        return _KEYLIKE.sub(lambda m: f"{m.group(1) or ''}{REDACTED}", value)

    def headers(self, headers: Mapping[str, str]) -> dict[str, str]:
        return {
            name: REDACTED if is_sensitive(name) else self.text(value)
            for name, value in headers.items()
        }


def _excerpt(body: bytes, redactor: Redactor, limit: int = EXCERPT_BYTES) -> str:
    text = body[:limit].decode("utf-8", errors="replace")
    if len(body) > limit:
        text += f"\n... ({len(body) - limit} more bytes)"
    return redactor.text(text)


def curl_command(exchange: Exchange, redactor: Redactor, api_key: str | None) -> str:
    """A shell line reproducing the request; the key is read from ``$PARITY_API_KEY``.

    A credential header that carries a secret of the run becomes ``$PARITY_API_KEY`` (the
    run's key) or ``$PARITY_SECRET`` (another configured secret); one that carries a value the
    check made up (a deliberately wrong key) is kept, since it is no secret and the request
    needs it. Bodies over 16 KiB, or not text, are replaced by a note.
    """
    url = exchange.url
    if api_key and api_key in url:
        url_arg = '"' + redactor.text(url.replace(api_key, "$PARITY_API_KEY")) + '"'
    else:
        url_arg = shlex.quote(redactor.text(url))
    parts = ["curl", "-sS", "-X", exchange.method, url_arg]
    for name, value in exchange.request_headers.items():
        if name in _CURL_OMIT:
            continue
        if api_key and api_key in value:
            rendered = value.replace(api_key, "$PARITY_API_KEY")
            parts += ["-H", f'"{name}: {rendered}"']
            continue
        if any(secret in value for secret in redactor.secrets):
            masked = value
            for secret in redactor.secrets:
                masked = masked.replace(secret, "$PARITY_SECRET")
            parts += ["-H", f'"{name}: {masked}"']
            continue
        parts += ["-H", shlex.quote(f"{name}: {value}")]
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

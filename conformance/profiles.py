"""Gateway profiles: what a target promises beyond (or instead of) OpenAI's API.

A profile names documented, deliberate deviations (an auth error shape of its own, images only
as ``b64_json``) and gateway features to verify (aliases, a default model, a metering header,
a budget-exhausted key). The built-in ``openai`` profile is strict: no deviations.

Must not: weaken a rule that is not named here; perform I/O except in :func:`load_profile`.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["OPENAI", "Profile"]


@dataclass(frozen=True, slots=True)
class Profile:
    """What the target promises. Defaults describe OpenAI itself."""

    name: str = "openai"
    # Aliases the gateway lists and serves, and the one used when `model` is omitted.
    aliases: tuple[str, ...] = ()
    default_model: str | None = None
    # Name of a response header carrying the request's metered cost, if any.
    credits_header: str | None = None
    # A key whose budget is spent (answers 429 insufficient_quota), if the profile provides one.
    exhausted_key: str | None = None
    # Whether the target sends OpenAI's x-ratelimit-* headers.
    rate_limit_headers: bool = False
    # Images only as b64_json (a `url` request is refused or answered with b64_json).
    images_b64_only: bool = False
    # Auth errors use a documented platform-specific body instead of the OpenAI error object;
    # the value names that shape for the report. None: the OpenAI error object is required.
    auth_error_shape: str | None = None


OPENAI = Profile()

"""The target under test and the gateway profile that says what it promises.

Read once at the command-line boundary (command line > environment > default) into frozen
objects; checks receive them through the context.

Must not: touch the network or read the environment here (the CLI and the plugin do).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from conformance.keyapi import RoleKeys

if TYPE_CHECKING:
    from conformance.profiles import Profile
    from conformance.vocabulary import Capability, Level

__all__ = ["Target"]


@dataclass(frozen=True, slots=True)
class Target:
    """Where to send requests, with what key, and which model serves each capability.

    ``base_url`` ends with the API version segment (``http://127.0.0.1:8000/v1``), as the
    official SDK's ``base_url`` does. ``api_key`` and ``secrets`` are secrets: never rendered
    in reports or the terminal, nor in this object's ``repr``.
    ``models`` maps a capability to the model chosen for it (pinned with ``--model`` or
    discovered from ``/v1/models``); a capability missing here is not offered.
    """

    base_url: str
    api_key: str | None = field(repr=False)
    level: Level
    profile: Profile
    models: Mapping[Capability, str] = field(default_factory=dict)
    max_requests: int | None = None
    # Seed of the generated (fuzz and property) cases; None: the fixed default (see
    # conformance.seeds). The report shows it so `parity check --level deep --seed N` replays.
    seed: int | None = None
    # Requests the schema-driven fuzz run may send (deep level); None: its default budget.
    fuzz_requests: int | None = None
    # Hosts other than the target's own from which URLs the target hands out may be fetched.
    allow_fetch: tuple[str, ...] = ()
    # Other secrets of the run (an admin key, upstream control keys, read from the environment):
    # never sent by the suite, but redacted wherever a target might echo them.
    secrets: tuple[str, ...] = field(default=(), repr=False)
    # The gateway's admin key (--admin-key): sent only to the profile's key API, to mint the
    # keys of ``roles``; a secret, never rendered.
    admin_key: str | None = field(default=None, repr=False)
    # The keys the promise checks use by role (--key ROLE=KEY, or minted at the run's start).
    roles: RoleKeys = field(default_factory=RoleKeys)

    @property
    def origin(self) -> str:
        """Scheme, host and port of the base URL (for paths outside ``/v1``, like ``/api``)."""
        scheme, _, rest = self.base_url.partition("://")
        return f"{scheme}://{rest.split('/', 1)[0]}"

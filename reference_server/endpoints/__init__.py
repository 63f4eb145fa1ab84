"""HTTP endpoints: read the request into a ``Job``, hand it to ``Gateway.serve``, render the
answer as JSON, bytes, server-sent events (``sse``) or Realtime events (``realtime``).

``chat`` (chat completions, Responses), ``media`` (embeddings, images, audio, video), ``models``
(the listings), ``admin`` (the admin API over the controls' store), ``http`` (body reading and
JSON responses shared by them).

Must not: hold business rules (routing, fallback, billing live in ``gateway/`` and
``controls/``).
"""

from __future__ import annotations

__all__: list[str] = []

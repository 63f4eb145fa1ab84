"""Request rules from the OpenAI spec: a body that passes is one the providers can serve.

``schemas`` checks a body against its request component in ``spec/openai.yaml`` and
``refusals`` words a violation as OpenAI's error object; ``chat`` (chat completions,
Responses) and ``media`` (embeddings, images, audio, video) add the rules no schema states,
with the field checks in ``fields``.

Must not: do I/O, touch the catalog or the controls, or import ``endpoints``.
"""

from __future__ import annotations

__all__: list[str] = []

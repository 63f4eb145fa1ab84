"""Fake OpenAI-compatible servers for the check tests: correct ones and deliberately broken ones.

Written from OpenAI's API reference, independently of ``reference_server`` (never import it):
a check that passes here and on the reference server has two independent witnesses.

- ``base.py``: :class:`Knobs` and :func:`create_app` (auth, models, errors, wire quirks).
- ``chat.py``: deterministic chat completions, JSON and SSE, with every knob applied.
- ``variants.py``: the catalogue: ``BROKEN`` (each trips exactly one check id) and ``LEGAL``
  (unusual but correct; trips none).

Other modules here (``breadth*``, ``realtime*``, ``media*``) hold fakes for other endpoints.
"""

from __future__ import annotations

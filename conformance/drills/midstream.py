"""Mid-stream drills: the primary fails after the gateway relayed part of its stream.

Past the commit point (status and first bytes sent) a gateway cannot fall back invisibly. The
client must learn the answer is incomplete: an in-stream error event (the SDK raises
``APIError`` on a ``data: {"error": ...}`` event: openai-python ``_streaming.py``), never a
``[DONE]`` (which presents the truncated answer as complete), and never text from two upstreams
spliced into one answer.

Must not: leave a fault plan behind.
"""

from __future__ import annotations

from conformance.context import CheckContext
from conformance.drills import DRILLS
from conformance.drills.environment import client_stream, current
from conformance.drills.verdicts import judge_midstream
from conformance.registry import CheckFailed, CheckWarning, check

__all__: list[str] = []

_SOURCE = (
    "OpenAI API reference, 'Streaming' (data: [DONE] ends a complete stream); openai-python "
    "_streaming.py raises APIError on an in-stream error event; spec/PROVENANCE.md, "
    "'Gateway drills' 2"
)
AFTER_CHUNKS = 4


async def _drill(ctx: CheckContext, kind: str) -> None:
    env = current()
    await env.warm(ctx, stream=True)
    marks = await env.reset()
    await env.primary.fault(kind, count=1, after_chunks=AFTER_CHUNKS)
    bound = env.profile.timeouts.upstream_s + env.profile.timeouts.fallback_added_s + 5
    try:
        exchange, _ = await env.chat(ctx, stream=True, timeout=bound)
        served = await env.served(marks)
    finally:
        await env.reset()
    if not any(s.upstream == env.primary.name and s.fault == kind for s in served):
        raise CheckFailed(
            f"the primary upstream {env.primary.name!r} never served the stream: the gateway "
            "does not route this model to it first, as the profile says",
            exchange,
        )
    if exchange.status != 200:
        raise CheckFailed(
            f"status {exchange.status!r}: the primary's first chunks were healthy, so the "
            "stream should have started",
            exchange,
        )
    problems, notes = judge_midstream(client_stream(exchange), served)
    if problems:
        raise CheckFailed("; ".join(problems), exchange)
    if notes:
        raise CheckWarning("; ".join(notes), exchange)


@check(
    "drills.midstream.disconnect",
    area="drills",
    level="standard",
    endpoint="POST /v1/chat/completions (stream)",
    asserts="the primary drops the connection after 4 chunks: in-stream error, no [DONE], "
    "no spliced text",
    source=_SOURCE,
    into=DRILLS,
)
async def check_disconnect(ctx: CheckContext) -> None:
    await _drill(ctx, "disconnect")


@check(
    "drills.midstream.malformed_chunk",
    area="drills",
    level="standard",
    endpoint="POST /v1/chat/completions (stream)",
    asserts="the primary sends a chunk that is not JSON after 4 chunks: in-stream error, "
    "no [DONE], no spliced text",
    source=_SOURCE,
    into=DRILLS,
)
async def check_malformed_chunk(ctx: CheckContext) -> None:
    await _drill(ctx, "malformed_chunk")

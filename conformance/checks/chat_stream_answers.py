"""Chat completion streams measured against other answers: the same request not streamed, and
choice 1 against choice 0 of a streamed ``n: 2``.

Each rule here needs a second answer to compare with; the single-stream rules are
``chat_stream.py``'s (whose parsed stream and failure helpers these reuse).

Must not: judge what one stream alone can show (``chat_stream.py``), or framing (``sse.py``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from conformance.checks.chat import CHAT, basic_body, basic_completion, usage_stream
from conformance.checks.chat_stream import CHUNK_SOURCE, judged_stream
from conformance.checks.verdicts import refused_documented
from conformance.registry import CheckFailed, CheckSkipped, CheckWarning, check

if TYPE_CHECKING:
    from conformance.context import CheckContext

__all__: list[str] = []


def _usage(body: Any) -> dict[str, Any]:
    usage = body.get("usage") if isinstance(body, dict) else None
    return usage if isinstance(usage, dict) else {}


@check(
    "chat.stream.agreement",
    area="chat",
    level="standard",
    endpoint=CHAT,
    asserts="The same request streamed and not streamed agree: same model, number of choices, "
    "usage fields and prompt_tokens (a different finish_reason is a warning).",
    source="OpenAI OpenAPI spec: CreateChatCompletionStreamResponse mirrors "
    "CreateChatCompletionResponse ('streamed chunk of a chat completion response')",
    capability="chat",
)
async def check_agreement(ctx: CheckContext) -> None:
    plain = await basic_completion(ctx)
    streamed = await usage_stream(ctx)
    if plain.status != 200:
        raise CheckSkipped("the non-streamed request failed; see chat.completion.accepted")
    stream = await judged_stream(ctx, streamed, complete=True)
    try:
        body = plain.json()
    except ValueError:
        raise CheckSkipped("the non-streamed answer is not JSON") from None
    if not isinstance(body, dict):
        raise CheckSkipped("the non-streamed answer is not an object")
    problems: list[str] = []
    stream_model = stream.chunks[0].body.get("model")
    if body.get("model") != stream_model:
        problems.append(f"model {body.get('model')!r} vs streamed {stream_model!r}")
    raw_choices = body.get("choices")
    choices: list[Any] = raw_choices if isinstance(raw_choices, list) else []
    indexes = {ch.get("index") for c in stream.chunks for ch in c.choices}
    if len(choices) != len(indexes):
        problems.append(f"{len(choices)} choices vs {len(indexes)} streamed")
    usage_chunks = [c for c in stream.chunks if c.body.get("usage") is not None]
    streamed_usage = _usage(usage_chunks[-1].body) if usage_chunks else {}
    plain_usage = _usage(body)
    keys = {"prompt_tokens", "completion_tokens", "total_tokens"}
    if streamed_usage and (keys & plain_usage.keys()) != (keys & streamed_usage.keys()):
        problems.append(f"usage fields {sorted(plain_usage)} vs streamed {sorted(streamed_usage)}")
    if streamed_usage and plain_usage.get("prompt_tokens") != streamed_usage.get("prompt_tokens"):
        problems.append(
            f"prompt_tokens {plain_usage.get('prompt_tokens')!r} vs streamed "
            f"{streamed_usage.get('prompt_tokens')!r} for the same prompt"
        )
    if problems:
        raise CheckFailed("; ".join(problems), streamed)
    plain_reason = (
        choices[0].get("finish_reason") if choices and isinstance(choices[0], dict) else None
    )
    reasons = [ch.get("finish_reason") for c in stream.chunks for ch in c.choices]
    streamed_reason = next((r for r in reasons if r is not None), None)
    if plain_reason != streamed_reason:
        raise CheckWarning(
            f"finish_reason {plain_reason!r} vs streamed {streamed_reason!r}", streamed
        )


@check(
    "chat.stream.n_choices",
    area="chat",
    level="deep",
    endpoint=CHAT,
    asserts="A stream with `n: 2` carries choices 0 and 1, and choice 1 gets a role delta and "
    "a finish_reason as choice 0 does (refusing `n` fails, skipped if the profile declares "
    "`chat.n` unsupported).",
    source=f"{CHUNK_SOURCE}.choices ('Can contain more than one element if n is greater than 1'); "
    "CreateChatCompletionRequest.n",
    capability="chat",
)
async def check_stream_n(ctx: CheckContext) -> None:
    body = basic_body(ctx.model("chat"), stream=True, n=2, max_completion_tokens=8)
    exchange = await ctx.shared(
        "chat.stream.n", lambda: ctx.client.request("POST", CHAT, json=body)
    )
    if exchange.status == 400:
        refused_documented(ctx, "chat.n", exchange, "a streamed n=2")
    if exchange.status != 200:
        raise CheckFailed(f"a streamed n=2 got {exchange.status} {exchange.text[:200]!r}", exchange)
    stream = await judged_stream(ctx, exchange, complete=True)
    indexes = sorted({ch.get("index") for c in stream.chunks for ch in c.choices}, key=repr)
    if indexes != [0, 1]:
        raise CheckFailed(f"a streamed n=2 carried choice indexes {indexes!r}", exchange)
    # Role and finish rules themselves are chat.stream.first_role's and .finish_reason's;
    # here: whatever choice 0 gets, choice 1 gets too (gateways drop it for index > 0).
    has: dict[str, set[Any]] = {"role": set(), "finish_reason": set()}
    for chunk in stream.chunks:
        for choice in chunk.choices:
            delta = choice.get("delta")
            if isinstance(delta, dict) and delta.get("role"):
                has["role"].add(choice.get("index"))
            if choice.get("finish_reason"):
                has["finish_reason"].add(choice.get("index"))
    for field, indexes_with in has.items():
        if 0 in indexes_with and 1 not in indexes_with:
            raise CheckFailed(f"choice 0 carries a {field} but choice 1 never does", exchange)

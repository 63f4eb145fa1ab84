"""The official SDK as an oracle: the pinned ``openai`` package drives every offered capability.

Each check builds ``AsyncOpenAI(base_url=target.base_url, api_key=..., max_retries=0)`` and
makes the calls a typical application makes (create, stream accumulation, structured-output
``parse``, tools, embeddings with the SDK's default base64, images, speech, transcriptions,
responses create and stream, models). Any exception the SDK raises is a failure whose message
summarises its traceback: the exception type, its message and the innermost frames. The SDK
makes its own requests, counted (approximately) against the run's budget.

Must not: retry (``max_retries=0``: a retry would hide the failure), or expect exact text.
"""

from __future__ import annotations

import functools
import math
import ssl
import traceback
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import openai
from pydantic import BaseModel

from conformance.media import wav_tone
from conformance.registry import CheckFailed, CheckSkipped, check

if TYPE_CHECKING:
    from conformance.context import CheckContext
    from conformance.registry import Capability, CheckFunc, Level

__all__: list[str] = []

T = TypeVar("T")
_SOURCE = f"official SDK behaviour: openai-python {openai.__version__}"
_MESSAGES: Any = [{"role": "user", "content": "Say hello."}]


class _Answer(BaseModel):
    """Structured output asked of the model through ``parse``."""

    answer: str
    confidence: int


class GetWeather(BaseModel):
    """Get the weather for a city."""

    city: str


@functools.cache
def _tls() -> ssl.SSLContext:
    """One default TLS context for every SDK client of the process (building one costs ~0.15 s)."""
    return ssl.create_default_context()


def _summarise(exc: BaseException, secret: str | None) -> str:
    frames = traceback.extract_tb(exc.__traceback__)[-3:]
    where = " <- ".join(f"{Path(f.filename).name}:{f.lineno} in {f.name}" for f in reversed(frames))
    detail = str(exc)
    if isinstance(exc, openai.APIStatusError):
        detail = f"HTTP {exc.status_code}: {exc.message}"
    cause = exc.__cause__ or exc.__context__
    if cause is not None and not isinstance(exc, openai.APIStatusError):
        detail += f" (caused by {type(cause).__name__}: {str(cause)[:160]})"
    text = (
        f"the SDK raised {type(exc).__module__}.{type(exc).__name__}: {detail[:400]} [at {where}]"
    )
    return text.replace(secret, "***") if secret else text


async def _drive(ctx: CheckContext, requests: int, call: Callable[[Any], Awaitable[T]]) -> T:
    """Run ``call(client)`` with a fresh SDK client; an SDK exception becomes a failure."""
    spend = getattr(ctx.client, "spend", None)
    if callable(spend):
        spend(requests)
    target = ctx.target
    client = openai.AsyncOpenAI(
        base_url=target.base_url,
        api_key=target.api_key or "parity-no-key",
        max_retries=0,
        timeout=60.0,
        http_client=openai.DefaultAsyncHttpxClient(verify=_tls()),
    )
    try:
        return await call(client)
    except (CheckFailed, CheckSkipped):
        raise
    except Exception as exc:  # noqa: BLE001 - any SDK exception is the verdict
        raise CheckFailed(_summarise(exc, target.api_key)) from None
    finally:
        await client.close()


def _sdk_check(
    check_id: str, asserts: str, level: Level, capability: Capability | None, endpoint: str
) -> Callable[[CheckFunc], CheckFunc]:
    return check(
        check_id,
        area="sdk",
        level=level,
        endpoint=endpoint,
        asserts=asserts,
        source=_SOURCE,
        capability=capability,
    )


@_sdk_check(
    "sdk.chat.create",
    "chat.completions.create returns a completion with a message",
    "smoke",
    "chat",
    "POST /chat/completions",
)
async def check_sdk_chat_create(ctx: CheckContext) -> None:
    model = ctx.model("chat")
    completion = await _drive(
        ctx,
        1,
        lambda c: c.chat.completions.create(model=model, messages=_MESSAGES, max_tokens=16),
    )
    if not completion.choices or completion.choices[0].message.content is None:
        raise CheckFailed(f"the SDK's completion has no message content: {completion!r:.200}")


@_sdk_check(
    "sdk.chat.stream",
    "chat.completions.stream accumulates the streamed chunks into a final completion",
    "standard",
    "chat",
    "POST /chat/completions",
)
async def check_sdk_chat_stream(ctx: CheckContext) -> None:
    model = ctx.model("chat")

    async def call(client: Any) -> Any:
        async with client.chat.completions.stream(
            model=model, messages=_MESSAGES, max_tokens=64
        ) as stream:
            async for _ in stream:
                pass
            try:
                return await stream.get_final_completion()
            except openai.LengthFinishReasonError as exc:
                # The helper refuses to parse a reply cut by max_tokens: legal for any model,
                # and the accumulated completion rides on the exception.
                return exc.completion

    final = await _drive(ctx, 1, call)
    if not final.choices or not isinstance(final.choices[0].message.content, str):
        raise CheckFailed(f"the accumulated completion has no content: {final!r:.200}")


@_sdk_check(
    "sdk.chat.parse",
    "chat.completions.parse with a Pydantic response_format (json_schema strict) yields a "
    "parsed object (or a refusal)",
    "standard",
    "chat",
    "POST /chat/completions",
)
async def check_sdk_chat_parse(ctx: CheckContext) -> None:
    model = ctx.model("chat")
    completion = await _drive(
        ctx,
        1,
        lambda c: c.chat.completions.parse(
            model=model, messages=_MESSAGES, response_format=_Answer, max_tokens=256
        ),
    )
    message = completion.choices[0].message
    if not isinstance(message.parsed, _Answer) and not message.refusal:
        raise CheckFailed(f"parse gave neither a parsed object nor a refusal: {message!r:.200}")


@_sdk_check(
    "sdk.chat.tools",
    "a forced strict function tool (pydantic_function_tool) comes back as a tool call whose "
    "arguments the SDK parses",
    "standard",
    "chat",
    "POST /chat/completions",
)
async def check_sdk_chat_tools(ctx: CheckContext) -> None:
    model = ctx.model("chat")
    completion = await _drive(
        ctx,
        1,
        lambda c: c.chat.completions.parse(
            model=model,
            messages=[{"role": "user", "content": "What is the weather in Paris?"}],
            tools=[openai.pydantic_function_tool(GetWeather)],
            tool_choice={"type": "function", "function": {"name": "GetWeather"}},
            max_tokens=256,
        ),
    )
    calls = completion.choices[0].message.tool_calls or []
    if not calls or calls[0].function.name != "GetWeather":
        raise CheckFailed(f"the forced tool was not called: {completion.choices[0].message!r:.200}")
    if not isinstance(calls[0].function.parsed_arguments, GetWeather):
        raise CheckFailed(f"the SDK could not parse the arguments: {calls[0].function!r:.200}")


@_sdk_check(
    "sdk.embeddings.create",
    "embeddings.create with the SDK's default base64 encoding yields float vectors",
    "standard",
    "embedding",
    "POST /embeddings",
)
async def check_sdk_embeddings_create(ctx: CheckContext) -> None:
    model = ctx.model("embedding")
    result = await _drive(ctx, 1, lambda c: c.embeddings.create(model=model, input="hello"))
    vector = result.data[0].embedding if result.data else []
    if not vector or not all(isinstance(x, float) and math.isfinite(x) for x in vector):
        raise CheckFailed(f"the SDK decoded no finite float vector: {vector!r:.120}")


@_sdk_check(
    "sdk.images.generate",
    "images.generate returns an image as b64_json or url",
    "standard",
    "image",
    "POST /images/generations",
)
async def check_sdk_images_generate(ctx: CheckContext) -> None:
    model = ctx.model("image")
    result = await _drive(
        ctx,
        1,
        lambda c: c.images.generate(model=model, prompt="a red square", size="1024x1024"),
    )
    if not result.data or not (result.data[0].b64_json or result.data[0].url):
        raise CheckFailed(f"the SDK got no image: {result!r:.200}")


@_sdk_check(
    "sdk.speech.create",
    "audio.speech.create returns audio bytes",
    "standard",
    "speech",
    "POST /audio/speech",
)
async def check_sdk_speech_create(ctx: CheckContext) -> None:
    model = ctx.model("speech")
    response = await _drive(
        ctx, 1, lambda c: c.audio.speech.create(model=model, voice="alloy", input="Hello.")
    )
    if not response.content:
        raise CheckFailed("the SDK received no audio bytes")


@_sdk_check(
    "sdk.transcriptions.create",
    "audio.transcriptions.create (verbose_json, word and segment timestamps) returns text "
    "and words",
    "standard",
    "transcription",
    "POST /audio/transcriptions",
)
async def check_sdk_transcriptions_create(ctx: CheckContext) -> None:
    model = ctx.model("transcription")
    result = await _drive(
        ctx,
        1,
        lambda c: c.audio.transcriptions.create(
            model=model,
            file=("parity.wav", wav_tone(1.0), "audio/wav"),
            response_format="verbose_json",
            timestamp_granularities=["word", "segment"],
        ),
    )
    if not isinstance(result.text, str) or getattr(result, "words", None) is None:
        raise CheckFailed(f"the SDK's transcription lacks text or words: {result!r:.200}")


@_sdk_check(
    "sdk.responses.create",
    "responses.create returns a response whose output_text the SDK assembles",
    "standard",
    "responses",
    "POST /responses",
)
async def check_sdk_responses_create(ctx: CheckContext) -> None:
    model = ctx.model("responses")
    response = await _drive(ctx, 1, lambda c: c.responses.create(model=model, input="Say hello."))
    if not isinstance(response.output_text, str) or not response.id:
        raise CheckFailed(f"the SDK's response lacks id or output_text: {response!r:.200}")


@_sdk_check(
    "sdk.responses.stream",
    "responses.stream accumulates the event stream into a final response",
    "standard",
    "responses",
    "POST /responses",
)
async def check_sdk_responses_stream(ctx: CheckContext) -> None:
    model = ctx.model("responses")

    async def call(client: Any) -> Any:
        async with client.responses.stream(model=model, input="Say hello.") as stream:
            async for _ in stream:
                pass
            return await stream.get_final_response()

    final = await _drive(ctx, 1, call)
    if not isinstance(final.output_text, str):
        raise CheckFailed(f"the accumulated response has no output_text: {final!r:.200}")


@_sdk_check(
    "sdk.models.list",
    "models.list pages through the models and models.retrieve returns the first of them",
    "smoke",
    None,
    "GET /models",
)
async def check_sdk_models_list(ctx: CheckContext) -> None:
    async def call(client: Any) -> tuple[list[str], Any]:
        ids = [model.id async for model in client.models.list()]
        if not ids:
            raise CheckFailed("the SDK listed no models")
        return ids, await client.models.retrieve(ids[0])

    ids, first = await _drive(ctx, 2, call)
    if first.id != ids[0]:
        raise CheckFailed(f"models.retrieve({ids[0]!r}) returned {first.id!r}")

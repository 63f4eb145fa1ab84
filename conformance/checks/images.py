"""Checks for ``POST /images/generations``: real image bytes, ``n``, ``url`` and ``created``.

Sources: OpenAI's API reference for images (``CreateImageRequest``, ``ImagesResponse``,
``Image``). ``size`` 1024x1024 is the one size every OpenAI image model accepts. gpt-image
models refuse ``response_format`` and always answer base64, so a 400 naming that parameter is
followed by a request without it.

Must not: judge the picture itself (any correct model draws something else).
"""

from __future__ import annotations

import base64
import binascii
import time
from typing import TYPE_CHECKING, Any

from conformance.checks.verdicts import ok_json, refusal_problem, require_refusal
from conformance.media import sniff_image
from conformance.registry import CheckFailed, CheckWarning, check

if TYPE_CHECKING:
    from conformance.context import CheckContext
    from conformance.exchange import Exchange

__all__: list[str] = []

_ENDPOINT = "POST /images/generations"
_PROMPT = "a small red square on a white background"
_SIZE = "1024x1024"
_EARLIEST = 1_577_836_800  # 2020-01-01: a `created` before this is no Unix time in seconds


async def _generate(ctx: CheckContext, key: str, **fields: Any) -> Exchange:
    body = {"model": ctx.model("image"), "prompt": _PROMPT, "size": _SIZE, **fields}

    async def make() -> Exchange:
        exchange = await ctx.client.request("POST", "/images/generations", json=body)
        if _refuses_response_format(exchange) and fields.get("response_format") == "b64_json":
            # gpt-image models answer base64 only and refuse the parameter itself.
            retry = {k: v for k, v in body.items() if k != "response_format"}
            exchange = await ctx.client.request("POST", "/images/generations", json=retry)
        return exchange

    return await ctx.shared(key, make)


def _refuses_response_format(exchange: Exchange) -> bool:
    if exchange.status != 400 or refusal_problem(exchange) is not None:
        return False
    error = exchange.json()["error"]
    return error.get("param") == "response_format" or "response_format" in error["message"]


def _items(body: dict[str, Any], exchange: Exchange) -> list[dict[str, Any]]:
    data = body.get("data")
    if not isinstance(data, list) or not data or not all(isinstance(i, dict) for i in data):
        raise CheckFailed(f"`data` must be a non-empty list of images, got {data!r:.120}", exchange)
    return data


def _decode(item: dict[str, Any], position: int, exchange: Exchange) -> bytes:
    raw = item.get("b64_json")
    if not isinstance(raw, str) or not raw:
        raise CheckFailed(
            f"data[{position}].b64_json must be a base64 string, got {raw!r:.60}", exchange
        )
    try:
        return base64.b64decode(raw, validate=True)
    except (ValueError, binascii.Error) as exc:
        raise CheckFailed(
            f"data[{position}].b64_json is not valid base64: {exc}", exchange
        ) from None


def _judge_image(data: bytes, where: str, exchange: Exchange) -> None:
    info = sniff_image(data)
    if info is None:
        raise CheckFailed(
            f"{where} is not a PNG, JPEG or WebP image (starts {data[:12]!r})", exchange
        )
    if info.size != _SIZE:
        raise CheckFailed(
            f"{where} is a {info.format} of {info.size} pixels; size {_SIZE} was asked", exchange
        )


@check(
    "images.b64_json.decodes",
    area="images",
    level="smoke",
    endpoint=_ENDPOINT,
    asserts=f"b64_json decodes to a real PNG, JPEG or WebP whose header size is the asked {_SIZE}",
    source="OpenAI API reference: CreateImageRequest.response_format and size, Image.b64_json",
    capability="image",
)
async def check_images_b64_json_decodes(ctx: CheckContext) -> None:
    exchange = await _generate(ctx, "images.b64", response_format="b64_json")
    items = _items(ok_json(exchange, "image request"), exchange)
    _judge_image(_decode(items[0], 0, exchange), "data[0].b64_json", exchange)


@check(
    "images.response.created",
    area="images",
    level="smoke",
    endpoint=_ENDPOINT,
    asserts="`created` is an integer Unix time in seconds (not milliseconds, not a string)",
    source="OpenAI API reference: ImagesResponse.created",
    capability="image",
)
async def check_images_response_created(ctx: CheckContext) -> None:
    exchange = await _generate(ctx, "images.b64", response_format="b64_json")
    created = ok_json(exchange, "image request").get("created")
    if not isinstance(created, int) or isinstance(created, bool):
        raise CheckFailed(f"`created` must be an integer, got {created!r}", exchange)
    if not _EARLIEST <= created <= time.time() + 86_400:
        raise CheckFailed(
            f"`created` {created} is not a Unix time in seconds (milliseconds?)", exchange
        )


@check(
    "images.n.honoured",
    area="images",
    level="standard",
    endpoint=_ENDPOINT,
    asserts="n=2 gives two images, or a 400 error object; never silently one",
    source="OpenAI API reference: CreateImageRequest.n",
    capability="image",
)
async def check_images_n_honoured(ctx: CheckContext) -> None:
    exchange = await _generate(ctx, "images.n2", response_format="b64_json", n=2)
    if exchange.status is not None and 400 <= exchange.status < 500:
        require_refusal(exchange, "n=2 refused")
        return
    items = _items(ok_json(exchange, "n=2 request"), exchange)
    if len(items) != 2:
        raise CheckFailed(f"n=2 was asked, {len(items)} image(s) came back", exchange)
    for position, item in enumerate(items):
        _decode(item, position, exchange)


@check(
    "images.url.fetchable",
    area="images",
    level="standard",
    endpoint=_ENDPOINT,
    asserts="response_format url gives an http(s) URL serving the image, or a 4xx refusal "
    "(a warning; allowed by profiles whose images are b64_json only)",
    source="OpenAI API reference: CreateImageRequest.response_format, Image.url",
    capability="image",
)
async def check_images_url_fetchable(ctx: CheckContext) -> None:
    b64_only = ctx.target.profile.images_b64_only
    exchange = await ctx.client.request(
        "POST",
        "/images/generations",
        json={
            "model": ctx.model("image"),
            "prompt": _PROMPT,
            "size": _SIZE,
            "response_format": "url",
        },
    )
    if exchange.status is not None and 400 <= exchange.status < 500:
        require_refusal(exchange, "response_format url refused", statuses=(400,))
        if b64_only:
            return
        raise CheckWarning(
            "response_format url is refused (OpenAI's dall-e models serve URLs)", exchange
        )
    items = _items(ok_json(exchange, "url request"), exchange)
    url = items[0].get("url")
    if url is None and isinstance(items[0].get("b64_json"), str):
        if b64_only:
            return
        raise CheckFailed(
            "response_format url was asked but b64_json came back instead "
            "(a profile may declare images as b64_json only)",
            exchange,
        )
    if not isinstance(url, str) or not url.startswith(("https://", "http://")):
        raise CheckFailed(f"data[0].url must be an http(s) URL, got {url!r:.120}", exchange)
    # The client fetches only from the target's own host or an --allow-fetch host (else the
    # check is skipped, saying which host): a URL must not point parity at another machine.
    fetched = await ctx.client.request("GET", url, auth=False)
    if fetched.status != 200:
        answer = fetched.status if fetched.status is not None else fetched.error
        raise CheckFailed(f"data[0].url {url!r} cannot be fetched: {answer}", fetched)
    _judge_image(fetched.body, "the image at data[0].url", fetched)


@check(
    "images.size.unsupported_refused",
    area="images",
    level="deep",
    endpoint=_ENDPOINT,
    asserts="an unsupported size (123x45) is refused with a 400 error object",
    source="OpenAI API reference: CreateImageRequest.size (enumerated values)",
    capability="image",
)
async def check_images_size_unsupported_refused(ctx: CheckContext) -> None:
    exchange = await ctx.client.request(
        "POST",
        "/images/generations",
        json={"model": ctx.model("image"), "prompt": _PROMPT, "size": "123x45"},
    )
    require_refusal(exchange, "size 123x45")

"""OpenAI chat messages as Anthropic messages and a system prompt.

OpenAI's chat completions reference (``ChatCompletionRequestMessage`` and its content parts) on
one side, Anthropic's API reference ("Messages"; the "Tool use" and "Vision" guides) on the
other:

* ``system`` and ``developer`` messages, wherever they sit, join Anthropic's top-level
  ``system`` (text blocks, in order): Anthropic has no system turn inside the conversation;
* ``user`` and ``assistant`` messages keep their order; messages of the same Anthropic role in
  a row merge into one, because Anthropic wants every ``tool_result`` answering an assistant
  turn in the one user message after it, before any text ("Tool use": formatting results);
* content parts: ``text`` -> text blocks; ``image_url`` -> image blocks (a ``data:`` URL as a
  base64 source of a JPEG, PNG, GIF or WebP image; an http(s) URL as a url source); ``file``
  with an inline PDF (``file_data``) -> a document block; a part's ``cache_control`` (which
  some clients add for Anthropic's prompt caching) is passed on; empty text is dropped, as is a
  turn left empty by it (Anthropic refuses empty content);
* ``tool_calls`` -> ``tool_use`` blocks (``arguments`` parsed: it must be a JSON object, as an
  Anthropic ``input`` is); ``tool`` messages -> ``tool_result`` blocks.

Refused with a 400 naming the message or part: other part types (``input_audio``), files by
id, ``function`` messages (legacy functions), arguments that are not a JSON object.

Must not: do I/O, or translate the request's other parameters (``anthropic_request``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from reference_server.providers.anthropic_errors import refusal

__all__ = ["translate_messages"]

_DATA_URL = re.compile(r"^data:([\w.+-]+/[\w.+-]+);base64,(.*)$", re.DOTALL)
_IMAGE_TYPES = ("image/jpeg", "image/png", "image/gif", "image/webp")


def _text(value: Any, param: str) -> list[dict[str, Any]]:
    """Text blocks of a system / developer / tool content (string or text parts)."""
    if isinstance(value, str):
        return [{"type": "text", "text": value}] if value else []
    blocks: list[dict[str, Any]] = []
    for index, part in enumerate(value or ()):
        if isinstance(part, Mapping) and part.get("type") == "text":
            blocks.extend(_with_cache(part, {"type": "text", "text": str(part.get("text"))}))
        else:
            kind = part.get("type") if isinstance(part, Mapping) else part
            raise refusal(f"{param}[{index}]", f"{kind!r} parts cannot be sent here; use text")
    return [b for b in blocks if b["text"]]


def _with_cache(part: Mapping[str, Any], block: dict[str, Any]) -> list[dict[str, Any]]:
    if isinstance(part.get("cache_control"), Mapping):
        block["cache_control"] = dict(part["cache_control"])
    return [block]


def _image(url: Any, param: str) -> dict[str, Any]:
    if not isinstance(url, str) or not url:
        raise refusal(param, f"{param}: expected an image URL, got {url!r}", "invalid_value")
    found = _DATA_URL.match(url)
    if found is not None:
        media_type, data = found.groups()
        if media_type not in _IMAGE_TYPES:
            raise refusal(
                param,
                f"{param}: images of type {media_type!r} cannot be sent to an Anthropic "
                f"model; use one of {list(_IMAGE_TYPES)}",
            )
        return {
            "type": "image",
            "source": {"type": "base64", "media_type": media_type, "data": data},
        }
    if url.startswith(("https://", "http://")):
        return {"type": "image", "source": {"type": "url", "url": url}}
    raise refusal(param, f"{param}: {url[:40]!r} is neither a data: URL nor an http(s) URL")


def _file(part: Mapping[str, Any], param: str) -> dict[str, Any]:
    given = part.get("file")
    file: Mapping[str, Any] = given if isinstance(given, Mapping) else {}
    found = _DATA_URL.match(str(file.get("file_data") or ""))
    if found is None or found.group(1) != "application/pdf":
        raise refusal(
            param,
            f"{param}: only PDF files given inline as file_data (a data: URL) can be "
            "sent to an Anthropic model",
            "unsupported_parameter",
        )
    source = {"type": "base64", "media_type": "application/pdf", "data": found.group(2)}
    return {"type": "document", "source": source}


def _user_blocks(content: Any, param: str) -> list[dict[str, Any]]:
    if isinstance(content, str):
        return [{"type": "text", "text": content}] if content else []
    blocks: list[dict[str, Any]] = []
    for index, part in enumerate(content or ()):
        where = f"{param}[{index}]"
        kind = part.get("type")
        if kind == "text":
            if part.get("text"):
                blocks.extend(_with_cache(part, {"type": "text", "text": str(part["text"])}))
        elif kind == "image_url":
            image = part.get("image_url")
            url = image.get("url") if isinstance(image, Mapping) else image
            blocks.extend(_with_cache(part, _image(url, f"{where}.image_url.url")))
        elif kind == "file":
            blocks.extend(_with_cache(part, _file(part, where)))
        else:
            raise refusal(
                where,
                f"{where}: {kind!r} parts cannot be sent to an Anthropic model",
                "unsupported_parameter",
            )
    return blocks


def _tool_use(call: Any, param: str) -> dict[str, Any]:
    function = call.get("function") if isinstance(call, Mapping) else None
    if not isinstance(function, Mapping) or call.get("type", "function") != "function":
        raise refusal(param, f"{param}: only function tool calls can be sent to an Anthropic model")
    raw = function.get("arguments") or "{}"
    try:
        arguments = json.loads(raw)
    except (TypeError, ValueError):
        arguments = None
    if not isinstance(arguments, dict):
        raise refusal(
            f"{param}.function.arguments",
            f"{param}.function.arguments: {str(raw)[:60]!r} is not a JSON object; an Anthropic "
            "tool_use input must be one",
            "invalid_value",
        )
    return {
        "type": "tool_use",
        "id": str(call.get("id")),
        "name": str(function.get("name")),
        "input": arguments,
    }


def _assistant_blocks(message: Mapping[str, Any], param: str) -> list[dict[str, Any]]:
    content = message.get("content")
    blocks: list[dict[str, Any]] = []
    if isinstance(content, str):
        blocks = [{"type": "text", "text": content}] if content.strip() else []
    elif isinstance(content, list):
        for part in content:
            text = part.get("text") if part.get("type") == "text" else part.get("refusal")
            if isinstance(text, str) and text.strip():
                blocks.append({"type": "text", "text": text})
    for index, call in enumerate(message.get("tool_calls") or ()):
        blocks.append(_tool_use(call, f"{param}.tool_calls[{index}]"))
    return blocks


def _tool_result(message: Mapping[str, Any], param: str) -> dict[str, Any]:
    content = message.get("content")
    block: dict[str, Any] = {"type": "tool_result", "tool_use_id": str(message.get("tool_call_id"))}
    texts = _text(content, f"{param}.content")
    if texts:
        block["content"] = texts
    return block


def translate_messages(
    messages: Sequence[Mapping[str, Any]],
) -> tuple[list[dict[str, Any]], list[Any]]:
    """(Anthropic messages, system blocks)."""
    system: list[dict[str, Any]] = []
    out: list[dict[str, Any]] = []
    for index, message in enumerate(messages):
        param = f"messages[{index}]"
        role = message.get("role")
        if role in ("system", "developer"):
            system.extend(_text(message.get("content"), f"{param}.content"))
            continue
        if role == "user":
            blocks, target = _user_blocks(message.get("content"), f"{param}.content"), "user"
        elif role == "assistant":
            blocks, target = _assistant_blocks(message, param), "assistant"
        elif role == "tool":
            blocks, target = [_tool_result(message, param)], "user"
        else:
            raise refusal(
                f"{param}.role",
                f"{param}.role: {role!r} messages cannot be sent to an "
                "Anthropic model; use tool messages",
            )
        if not blocks:
            continue  # an empty turn: Anthropic refuses empty content
        if out and out[-1]["role"] == target:
            out[-1]["content"].extend(blocks)
        else:
            out.append({"role": target, "content": blocks})
    for message in out:  # tool results first in their user turn ("Tool use": formatting)
        message["content"].sort(key=lambda b: b["type"] != "tool_result")
    return out, system

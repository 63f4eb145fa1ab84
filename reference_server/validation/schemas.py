"""The spec's request schemas, first word on a body's shape: compiled once, checked per request.

Every ``validate_*`` (``validation/chat.py``, ``validation/media.py``) starts with :func:`conform`:
the whole body against its request component in ``spec/openai.yaml`` (JSON Schema 2020-12,
the dialect of OpenAPI 3.1 schema objects). So every shape the spec forbids - ``null`` where
a field is not nullable, an enum or ``maxLength`` breach, a malformed content part or tool
choice - is a 400 ``invalid_request_error`` naming the ``param``, never an accepted request or
a 500 further down; the hand-written rules after it see only bodies of the described shape and
add OpenAI's wording for common mistakes and the cross-field rules no schema states.

The spec describes a subset of OpenAI's unions (spec/PROVENANCE.md, "Omitted union members").
A gateway must still pass the omitted members on, so the compiled copy widens each named
component with the discriminator values OpenAI's published spec defines for it
(:data:`OFFICIAL_MEMBERS`); any other value is still refused. Two more documented widenings:
``model`` is optional where the gateway serves a default model (chat completions and
Responses; ``gateway.aliases.resolve`` refuses a missing model when none is configured), and every
request object stays open (PROVENANCE item 9).

Must not: read the spec at import time, import ``conformance``, or change ``spec/`` (it
widens a private copy).
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Protocol, cast

import yaml
from jsonschema import Draft202012Validator

from reference_server.errors import invalid_request
from reference_server.validation.refusals import error_order, refusal

__all__ = [
    "OFFICIAL_MEMBERS",
    "REQUEST_COMPONENTS",
    "RequestSchema",
    "conform",
    "load_request_schemas",
]

_ROOT = Path(__file__).resolve().parents[2]  # the checkout (or site-packages)
# spec/ is shared data; an installed wheel carries it as conformance/_spec, read here as a file
# (this package never imports conformance).
_SPEC_CANDIDATES = (
    _ROOT / "spec" / "openai.yaml",
    _ROOT / "conformance" / "_spec" / "openai.yaml",
)

# The request components the endpoints check (spec/openai.yaml, official names).
REQUEST_COMPONENTS: Final = (
    "CreateChatCompletionRequest",
    "CreateResponse",
    "CreateEmbeddingRequest",
    "CreateImageRequest",
    "CreateSpeechRequest",
    "CreateTranscriptionRequest",
    "CreateVideoJsonBody",
)

# component -> (discriminator, values OpenAI's published spec (openai-openapi 2.3.0) defines
# for that union and spec/openai.yaml omits). A body using one of them is passed on unchecked
# below that point (the upstream judges it); an unknown value is refused.
OFFICIAL_MEMBERS: Final[Mapping[str, tuple[str, frozenset[str]]]] = {
    # ChatCompletionRequestMessage: the deprecated ChatCompletionRequestFunctionMessage.
    "ChatCompletionRequestMessage": ("role", frozenset({"function"})),
    # ChatCompletionRequestUserMessageContentPart: ...ContentPartAudio, ...ContentPartFile.
    "ChatCompletionRequestUserMessageContentPart": ("type", frozenset({"input_audio", "file"})),
    # CreateChatCompletionRequest.tools[]: CustomToolChatCompletions.
    "ChatCompletionTool": ("type", frozenset({"custom"})),
    # ChatCompletionToolChoiceOption: ChatCompletionAllowedToolsChoice, ...NamedToolChoiceCustom.
    "ChatCompletionNamedToolChoice": ("type", frozenset({"allowed_tools", "custom"})),
    # InputItem: every item besides the message (EasyInputMessage is the one described).
    "EasyInputMessage": (
        "type",
        frozenset(
            {
                "file_search_call",
                "computer_call",
                "computer_call_output",
                "web_search_call",
                "function_call",
                "function_call_output",
                "tool_search_call",
                "tool_search_output",
                "additional_tools",
                "reasoning",
                "compaction",
                "image_generation_call",
                "code_interpreter_call",
                "local_shell_call",
                "local_shell_call_output",
                "shell_call",
                "shell_call_output",
                "apply_patch_call",
                "apply_patch_call_output",
                "mcp_list_tools",
                "mcp_approval_request",
                "mcp_approval_response",
                "mcp_call",
                "custom_tool_call_output",
                "custom_tool_call",
                "compaction_trigger",
                "item_reference",
                "program",
                "program_output",
            }
        ),
    ),
    # InputContent: InputImageContent, InputFileContent; OutputMessage content in history.
    "InputTextContent": (
        "type",
        frozenset({"input_image", "input_file", "output_text", "refusal"}),
    ),
    # Tool (Responses): every built-in tool besides FunctionTool.
    "FunctionTool": (
        "type",
        frozenset(
            {
                "file_search",
                "computer",
                "computer_use_preview",
                "web_search",
                "web_search_2025_08_26",
                "mcp",
                "code_interpreter",
                "programmatic_tool_calling",
                "image_generation",
                "local_shell",
                "shell",
                "custom",
                "namespace",
                "tool_search",
                "web_search_preview",
                "web_search_preview_2025_03_11",
                "apply_patch",
            }
        ),
    ),
    # ToolChoiceParam (Responses): every choice besides options and a named function.
    "ToolChoiceFunction": (
        "type",
        frozenset(
            {
                "allowed_tools",
                "file_search",
                "web_search_preview",
                "computer",
                "computer_use_preview",
                "computer_use",
                "web_search_preview_2025_03_11",
                "image_generation",
                "code_interpreter",
                "mcp",
                "custom",
                "programmatic_tool_calling",
                "apply_patch",
                "shell",
            }
        ),
    ),
}

# Where the gateway serves its default model when `model` is omitted (gateway.aliases.resolve).
_MODEL_OPTIONAL: Final = frozenset({"CreateChatCompletionRequest", "CreateResponse"})
# Annotations only: dropped from the compiled copy (validators ignore them anyway).
_ANNOTATIONS: Final = frozenset(
    {"description", "examples", "default", "deprecated", "discriminator"}
)


class _Verdict(Protocol):
    def is_valid(self, instance: Any) -> bool: ...


@dataclass(frozen=True, slots=True)
class RequestSchema:
    """One compiled request component: a fast verdict, and a validator that explains a refusal.

    The verdict runs on every request; the explanation only for a body already refused.
    """

    name: str
    verdict: _Verdict
    explainer: Draft202012Validator


def _spec_text() -> str:
    for candidate in _SPEC_CANDIDATES:
        if candidate.is_file():
            return candidate.read_text("utf-8")
    raise FileNotFoundError(f"spec/openai.yaml not found in {[str(c) for c in _SPEC_CANDIDATES]}")


def _widen(schemas: dict[str, Any]) -> dict[str, Any]:
    """A copy of the components with :data:`OFFICIAL_MEMBERS` and optional ``model`` written in."""
    schemas = copy.deepcopy(schemas)
    for name, (field, values) in OFFICIAL_MEMBERS.items():
        if name not in schemas:
            raise KeyError(f"OFFICIAL_MEMBERS names {name!r}, which spec/openai.yaml lacks")
        # if/else rather than anyOf: a body without an official-only value is judged by the
        # spec's own schema alone, so its errors read as if nothing were widened.
        official = {
            "type": "object",
            "required": [field],
            "properties": {field: {"enum": sorted(values)}},
        }
        schemas[name] = {"if": official, "then": True, "else": schemas[name]}
    for name in _MODEL_OPTIONAL:
        required = schemas[name].get("required")
        if isinstance(required, list):
            schemas[name]["required"] = [r for r in required if r != "model"]
    return schemas


def _inline(node: Any, schemas: Mapping[str, Any], seen: tuple[str, ...] = ()) -> Any:
    """``node`` with every ``$ref`` replaced by its component (request schemas do not recurse),
    so each validator is self-contained and resolves nothing per request."""
    if isinstance(node, list):
        return [_inline(item, schemas, seen) for item in node]
    if not isinstance(node, dict):
        return node
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
        name = ref.rsplit("/", 1)[1]
        if name in seen:
            raise ValueError(f"request component {name!r} refers to itself via {seen!r}")
        return _inline(schemas[name], schemas, (*seen, name))
    return {k: _inline(v, schemas, seen) for k, v in node.items() if k not in _ANNOTATIONS}


def _verdict(schema: dict[str, Any], explainer: Draft202012Validator) -> _Verdict:
    try:
        import jsonschema_rs
    except ImportError:  # installed with schemathesis (a dependency); the verdict is the same
        return cast(_Verdict, explainer)
    # The compiled (Rust) validator answers a valid body in about a microsecond; the pure
    # Python one takes hundreds (chat request, 2 messages) and would double the gateway's
    # own per-request cost.
    return cast(_Verdict, jsonschema_rs.Draft202012Validator(schema))


@functools.cache
def load_request_schemas() -> Mapping[str, RequestSchema]:
    """Parse the spec and compile every request component (once per process).

    Call it at start-up to take the cost (tens of milliseconds) there; :func:`conform` calls
    it on first use otherwise.
    """
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    raw = yaml.load(_spec_text(), Loader=loader)  # noqa: S506 (a safe loader)
    schemas = _widen(cast(dict[str, Any], raw)["components"]["schemas"])
    compiled: dict[str, RequestSchema] = {}
    for name in REQUEST_COMPONENTS:
        schema = _inline(schemas[name], schemas, (name,))
        explainer = Draft202012Validator(schema)
        compiled[name] = RequestSchema(name, _verdict(schema, explainer), explainer)
    return compiled


def conform(body: Any, component: str) -> None:
    """Raise a 400 naming the first place ``body`` breaks request ``component`` of the spec."""
    schema = load_request_schemas()[component]
    if schema.verdict.is_valid(body):
        return
    errors = sorted(schema.explainer.iter_errors(body), key=error_order)
    if errors:
        raise refusal(errors[0])
    # The two engines disagree (neither should): refuse all the same, without a location.
    raise invalid_request(
        f"The request body does not match the {component} schema.", None, "invalid_value"
    )

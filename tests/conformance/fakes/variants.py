"""The catalogue: broken variants (each trips exactly one check id) and legal ones (trip none).

Every broken variant is a failure seen in real gateways; its key is the id of the check that
must catch it. ``tests/conformance/test_every_check_proven.py`` runs them all.
"""

from __future__ import annotations

from tests.conformance.fakes.base import Knobs

__all__ = ["BROKEN", "EXPENSIVE", "LEGAL", "SCHEMA_CHECKS", "judged_ids"]

BROKEN: dict[str, Knobs] = {
    # SSE framing
    "sse.framing.content_type": Knobs(stream_content_type="text/plain"),
    "sse.framing.json_payloads": Knobs(non_json_event=True),
    "sse.framing.done_sentinel": Knobs(no_done=True),
    "sse.framing.nothing_after_done": Knobs(after_done=True),
    "sse.framing.no_empty_events": Knobs(ping_event=True),
    "sse.framing.utf8": Knobs(invalid_utf8=True),
    # chat stream semantics
    "chat.stream.accepted": Knobs(stream_usage_status=500),
    "chat.stream.chunk_object": Knobs(chunk_object="chat.completion"),
    "chat.stream.created_seconds": Knobs(chunk_created_ms=True),
    "chat.stream.consistent_id": Knobs(chunk_id_per_chunk=True),
    "chat.stream.first_role": Knobs(first_role=False),
    "chat.stream.finish_reason": Knobs(finish_twice=True),
    "chat.stream.usage_chunk": Knobs(usage_merged=True),
    "chat.stream.no_usage_unasked": Knobs(usage_unasked=True),
    "chat.stream.incremental": Knobs(buffered=0.3),
    "chat.stream.error_object": Knobs(stream_error=True),
    "chat.stream.tool_call_deltas": Knobs(tool_delta_repeat_id=True),
    "chat.stream.tool_finish_reason": Knobs(stream_tool_finish="stop"),
    "chat.stream.agreement": Knobs(stream_prompt_skew=1),
    "chat.stream.schema": Knobs(chunk_fingerprint_int=True),
    "chat.stream.n_choices": Knobs(stream_role_first_choice_only=True),
    # chat non-stream
    "chat.completion.accepted": Knobs(fail_basic=True),
    "chat.completion.content_type": Knobs(completion_content_type="text/event-stream"),
    "chat.completion.shape": Knobs(completion_object="text_completion"),
    "chat.completion.created_seconds": Knobs(completion_created_ms=True),
    "chat.completion.usage": Knobs(usage_total_off=1),
    "chat.completion.usage_grows": Knobs(flat_usage=True),
    "chat.completion.schema": Knobs(completion_fingerprint_int=True),
    "chat.params.max_tokens": Knobs(ignore_max_tokens=True),
    "chat.params.max_completion_tokens": Knobs(ignore_max_completion_tokens=True),
    "chat.params.n": Knobs(ignore_n=True),
    "chat.params.stop": Knobs(ignore_stop=True),
    "chat.params.developer_role": Knobs(reject_developer=True),
    "chat.params.content_parts": Knobs(reject_parts=True),
    "chat.params.unknown_tolerated": Knobs(reject_unknown_422=True),
    "chat.params.stream_false": Knobs(sse_on_accept=True),
    # tools
    "chat.tools.required": Knobs(required_no_call=True),
    "chat.tools.arguments_json": Knobs(args_object=True),
    "chat.tools.finish_reason": Knobs(tools_finish_stop=True),
    "chat.tools.named_choice": Knobs(ignore_named=True),
    "chat.tools.none": Knobs(call_under_none=True),
    "chat.tools.parallel": Knobs(parallel_dup_ids=True),
    "chat.tools.followup": Knobs(reject_tool_messages=True),
    # output formats
    "chat.format.json_object": Knobs(json_fences=True),
    "chat.format.json_schema": Knobs(schema_missing_field=True),
    "chat.format.logprobs": Knobs(positive_logprob=True),
    # errors
    "errors.auth.missing_key": Knobs(auth_missing_ok=True),
    "errors.auth.invalid_key": Knobs(auth_invalid_ok=True),
    "errors.request.malformed_json": Knobs(malformed_status=500),
    "errors.request.missing_required": Knobs(missing_status=422),
    "errors.request.wrong_type": Knobs(wrong_type_status=500),
    "errors.request.out_of_range": Knobs(range_check=False),
    "errors.request.missing_model": Knobs(default_model="fake-chat"),
    "errors.model.unknown": Knobs(unknown_model_status=403),
    "errors.stream.status_before_stream": Knobs(stream_unknown_as_sse=True),
    "errors.request.oversized": Knobs(oversize_html_500=True),
    "errors.envelope.shape": Knobs(error_detail_shape=True),
    "errors.headers.request_id": Knobs(request_id=False),
    # models
    "models.list.shape": Knobs(models_no_owned_by=True),
    "models.list.created_seconds": Knobs(models_created_ms=True),
    "models.list.schema": Knobs(models_no_created=True),
    "models.retrieve.listed": Knobs(retrieve_404=True),
    "models.retrieve.unknown": Knobs(unknown_retrieve_200=True),
}

# Schema checks restate the spec as a whole, so most broken variants also break them; they
# are judged only for their own variants (and for the legal ones).
SCHEMA_CHECKS = frozenset({"chat.stream.schema", "chat.completion.schema", "models.list.schema"})

LEGAL: dict[str, Knobs] = {
    "sse_without_space": Knobs(sse_space=False),
    "comment_keepalives": Knobs(comments=True),
    "event_ids": Knobs(event_ids=True),
    "crlf": Knobs(line_end="\r\n"),
    "cr_only": Knobs(line_end="\r"),
    "one_byte_writes": Knobs(byte_writes=True),
    "vendor_fields": Knobs(vendor_fields=True),
    "foreign_model_category": Knobs(model_category="chat-completions"),
    "gzip_json": Knobs(gzip=True),
    "unusual_ids": Knobs(id_prefix="gen-01J", tool_id_prefix="toolu_01"),
    "connection_close": Knobs(connection_close=True),
    "usage_null_omitted": Knobs(omit_usage_nulls=True),
    "role_with_content": Knobs(role_with_content=True),
    "paced_stream": Knobs(itl=0.012),
}

# Sent only for its own variant and the correct server: a 54 MB body per run is slow.
EXPENSIVE = frozenset({"errors.request.oversized"})


def judged_ids(variant: str | None = None) -> list[str]:
    """The check ids to run against ``variant`` (a BROKEN key) or a correct/legal server."""
    ids = [i for i in BROKEN if i not in SCHEMA_CHECKS and i not in EXPENSIVE]
    if variant is None:
        return [*ids, *sorted(SCHEMA_CHECKS), *sorted(EXPENSIVE)]
    if variant in SCHEMA_CHECKS or variant in EXPENSIVE:
        ids.append(variant)
    return ids

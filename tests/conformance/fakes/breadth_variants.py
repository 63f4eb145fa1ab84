"""The catalogue of breadth-fake variants: broken ones (each trips exactly one check id among
the checks of its areas) and legal ones (unusual but correct: trip none).

A broken variant is ``name -> (check id it must trip, areas whose checks are run)``. The
``sdk_*`` variants misbehave only for requests carrying the official SDK's ``x-stainless-lang``
header, so only the SDK oracle can see them (as with a gateway that chokes on SDK headers).
``catalog_*`` variants change the public catalog, so their test serves them as the catalog
variant of a server of their own.
"""

from __future__ import annotations

__all__ = ["BROKEN", "CATALOG_BROKEN", "CATALOG_LEGAL", "LEGAL"]

BROKEN: dict[str, tuple[str, tuple[str, ...]]] = {
    # embeddings
    "embedding_object": ("embeddings.response.shape", ("embeddings",)),
    "embedding_usage": ("embeddings.response.usage", ("embeddings",)),
    "base64_ignored": ("embeddings.base64.decodes", ("embeddings", "sdk")),
    "dimensions_ignored": ("embeddings.dimensions.honoured", ("embeddings",)),
    "batch_reversed": ("embeddings.batch.order", ("embeddings",)),
    "token_arrays_500": ("embeddings.input.token_arrays", ("embeddings",)),
    "nondeterministic": ("embeddings.determinism.same_vector", ("embeddings",)),
    "empty_accepted": ("embeddings.input.empty_refused", ("embeddings",)),
    # images
    "image_wrong_size": ("images.b64_json.decodes", ("images",)),
    "image_created_ms": ("images.response.created", ("images",)),
    "n_ignored": ("images.n.honoured", ("images",)),
    "url_as_b64": ("images.url.fetchable", ("images",)),
    "size_accepted": ("images.size.unsupported_refused", ("images",)),
    # speech
    "mp3_json": ("speech.format.mp3", ("speech", "sdk")),
    "opus_is_wav": ("speech.format.opus", ("speech",)),
    "aac_is_mp3": ("speech.format.aac", ("speech",)),
    "flac_as_mpeg": ("speech.format.flac", ("speech",)),
    "wav_headerless": ("speech.format.wav", ("speech",)),
    "pcm_is_wav": ("speech.format.pcm", ("speech",)),
    "speech_unknown_accepted": ("speech.format.unknown_refused", ("speech",)),
    "speech_empty_accepted": ("speech.input.empty_refused", ("speech",)),
    "speech_oversized_accepted": ("speech.input.oversized_refused", ("speech",)),
    # transcriptions
    "json_text_key": ("transcriptions.json.shape", ("transcriptions", "sdk")),
    "text_as_json": ("transcriptions.text.plain", ("transcriptions",)),
    "srt_dot_times": ("transcriptions.srt.cues", ("transcriptions",)),
    "vtt_no_header": ("transcriptions.vtt.cues", ("transcriptions",)),
    "duration_string": ("transcriptions.verbose_json.shape", ("transcriptions",)),
    "words_ignored": ("transcriptions.verbose_json.words", ("transcriptions",)),
    "file_optional": ("transcriptions.file.missing_refused", ("transcriptions",)),
    # videos
    "video_object": ("videos.job.create", ("videos",)),
    "video_backwards": ("videos.job.progression", ("videos",)),
    "video_not_mp4": ("videos.content.download", ("videos",)),
    "video_unknown_200": ("videos.job.unknown_404", ("videos",)),
    "content_refused": ("videos.content.download", ("videos",)),
    # responses
    "response_object": ("responses.response.shape", ("responses",)),
    "response_usage_sum": ("responses.response.usage", ("responses",)),
    "event_name_mismatch": ("responses.stream.event_names", ("responses", "sdk")),
    "sequence_from_1": ("responses.stream.sequence_numbers", ("responses", "sdk")),
    "in_progress_late": ("responses.stream.event_order", ("responses", "sdk")),
    "delta_dropped": ("responses.stream.text_concat", ("responses",)),
    "completed_no_usage": ("responses.stream.completed_response", ("responses",)),
    "done_early": ("responses.stream.no_done_sentinel", ("responses",)),
    # realtime
    "rt_no_echo": ("realtime.handshake.subprotocol_auth", ("realtime",)),
    "rt_bad_key_accepted": ("realtime.handshake.bad_key_refused", ("realtime",)),
    "rt_no_event_id": ("realtime.events.envelope", ("realtime",)),
    "rt_updated_without_session": ("realtime.session.updated", ("realtime",)),
    "rt_item_without_item": ("realtime.conversation.item_created", ("realtime",)),
    "rt_beta_names": ("realtime.response.text_deltas", ("realtime",)),
    "rt_close_on_invalid": ("realtime.errors.invalid_frame", ("realtime",)),
    "rt_header_refused": ("realtime.handshake.header_auth", ("realtime",)),
    # profile (run with the monday profile plus an exhausted key and rate-limit headers)
    "alias_unlisted": ("profile.aliases.listed", ("profile",)),
    "alias_uncallable": ("profile.aliases.callable", ("profile",)),
    "default_wrong": ("profile.default_model.served", ("profile",)),
    "credits_missing": ("profile.credits.header", ("profile",)),
    "credits_flat": ("profile.credits.consistent", ("profile",)),
    "stream_no_usage": ("profile.usage.stream", ("profile",)),
    "exhausted_not_429": ("profile.budget.exhausted", ("profile",)),
    "ratelimit_missing": ("profile.rate_limit.headers", ("profile",)),
    # the official SDK oracle
    "sdk_chat_create": ("sdk.chat.create", ("sdk",)),
    "sdk_chat_stream": ("sdk.chat.stream", ("sdk",)),
    "sdk_chat_parse": ("sdk.chat.parse", ("sdk",)),
    "sdk_chat_tools": ("sdk.chat.tools", ("sdk",)),
    "sdk_embeddings": ("sdk.embeddings.create", ("sdk", "embeddings")),
    "sdk_images": ("sdk.images.generate", ("sdk", "images")),
    "sdk_speech": ("sdk.speech.create", ("sdk", "speech")),
    "sdk_transcriptions": ("sdk.transcriptions.create", ("sdk", "transcriptions")),
    "sdk_responses": ("sdk.responses.create", ("sdk", "responses")),
    "sdk_responses_stream": ("sdk.responses.stream", ("sdk", "responses")),
    "sdk_models": ("sdk.models.list", ("sdk",)),
}

CATALOG_BROKEN: dict[str, str] = {
    "catalog_schema": "catalog.api_models.schema",
    "catalog_object_list": "catalog.api_models.schema",
    "catalog_category_mismatch": "catalog.categories.consistent",
    "catalog_route": "catalog.categories.routes",
    "catalog_v1_no_category": "catalog.v1_models.category",
    "catalog_tools_tag": "catalog.supports.documented_tags",
    "catalog_reasoning_untagged": "catalog.supports.category_tags",
    "catalog_whisper_untagged": "catalog.audio.directions",
}

# Legal variants by the areas whose answers they change (the rest are untouched by them).
LEGAL: dict[str, tuple[str, ...]] = {
    "vendor_fields": ("*",),
    "gzip": ("*",),
    "unusual_ids": ("*",),
    "conn_close": ("*",),
    "sse_no_space+sse_comments": ("responses", "profile", "sdk"),
    "sse_crlf+split_writes": ("responses", "profile", "sdk"),
    "octet_stream": ("speech", "videos", "sdk"),
    "resolved_model": ("profile",),
    "handshake_401": ("realtime",),
    "extra_events": ("responses", "realtime", "sdk"),
    "cr_vtt_hours": ("transcriptions",),
    "url_images": ("images", "sdk"),
}

# The public catalog's legal variants (served as the catalog variant of a server of its own).
CATALOG_LEGAL: tuple[str, ...] = ("vendor_fields+gzip", "catalog_quirks")

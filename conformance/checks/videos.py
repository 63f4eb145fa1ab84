"""Checks for video jobs: create, retrieve until done (status progression), download content.

Sources: OpenAI's API reference for videos (``POST /videos`` -> ``VideoResource``,
``GET /videos/{video_id}``, ``GET /videos/{video_id}/content`` answering ``video/mp4``;
``VideoStatus``: queued, in_progress, completed, failed). The official SDK uses these paths, so
a target serving jobs only at ``POST /videos/generations`` fails (the SDK cannot reach it), and
refusing a completed job's content fails unless the profile declares ``videos.content``
unsupported.

Polling is bounded (at most :data:`_MAX_POLLS` retrievals within :data:`_DEADLINE_S` seconds);
a job still running at the end leaves nothing to judge: skipped, with how far it got.

Must not: wait unboundedly, or judge the video's picture.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from conformance.checks.verdicts import (
    excerpt,
    ok_json,
    refusal_problem,
    refused_documented,
    require_refusal,
)
from conformance.media import is_mp4
from conformance.registry import CheckFailed, CheckSkipped, check

if TYPE_CHECKING:
    from conformance.context import CheckContext
    from conformance.exchange import Exchange

__all__: list[str] = []

_STATUSES = ("queued", "in_progress", "completed", "failed")
_MAX_POLLS = 30
_DEADLINE_S = 30.0
_EARLIEST = 1_577_836_800
# Status history of each finished poll, keyed by the id of the final exchange (shared per run).
_HISTORY: dict[int, list[tuple[str, Any]]] = {}


async def _create(ctx: CheckContext) -> Exchange:
    body = {"model": ctx.model("video"), "prompt": "a paper boat on a pond", "seconds": "4"}

    async def make() -> Exchange:
        exchange = await ctx.client.request("POST", "/videos", json=body)
        if exchange.status in (404, 405):
            alternative = await ctx.client.request("POST", "/videos/generations", json=body)
            if alternative.status == 200:
                return alternative
        return exchange

    return await ctx.shared("videos.create", make)


def _job(exchange: Exchange, what: str) -> dict[str, Any]:
    job = ok_json(exchange, what)
    if not isinstance(job.get("id"), str) or not job["id"]:
        raise CheckFailed(
            f"{what}: `id` must be a non-empty string, got {job.get('id')!r}", exchange
        )
    if job.get("object") != "video":
        raise CheckFailed(f"{what}: `object` must be 'video', got {job.get('object')!r}", exchange)
    if job.get("status") not in _STATUSES:
        raise CheckFailed(
            f"{what}: `status` must be one of {list(_STATUSES)}, got {job.get('status')!r}",
            exchange,
        )
    created = job.get("created_at")
    if not isinstance(created, int) or isinstance(created, bool) or created < _EARLIEST:
        raise CheckFailed(
            f"{what}: `created_at` must be a Unix time in seconds, got {created!r}", exchange
        )
    progress = job.get("progress")
    if progress is not None and (not isinstance(progress, int) or not 0 <= progress <= 100):
        raise CheckFailed(f"{what}: `progress` must be 0..100, got {progress!r}", exchange)
    return job


def _created_id(exchange: Exchange) -> str:
    """The new job's id (the create answer's other fields are judged by videos.job.create)."""
    body = ok_json(exchange, "create video job")
    if not isinstance(body.get("id"), str) or not body["id"]:
        raise CheckFailed(f"create video job: no job `id` in {excerpt(exchange)}", exchange)
    return str(body["id"])


def _path(job_id: str, suffix: str = "") -> str:
    return f"/videos/{quote(job_id, safe='')}{suffix}"


async def _final(ctx: CheckContext) -> Exchange:
    created = await _create(ctx)
    job = {"id": _created_id(created), "status": created.json().get("status")}

    async def make() -> Exchange:
        history: list[tuple[str, Any]] = []
        if job["status"] in _STATUSES:
            history.append((job["status"], created.json().get("progress")))
        exchange = created
        started = time.monotonic()
        delay = 0.1
        for _ in range(_MAX_POLLS):
            if history and history[-1][0] in ("completed", "failed"):
                break
            if time.monotonic() - started > _DEADLINE_S:
                break
            await asyncio.sleep(delay)
            delay = min(delay * 1.5, 2.0)
            exchange = await ctx.client.request("GET", _path(job["id"]))
            polled = _job(exchange, "retrieve video job")
            if polled["id"] != job["id"]:
                raise CheckFailed(
                    f"retrieving {job['id']!r} answered the job {polled['id']!r}", exchange
                )
            history.append((polled["status"], polled.get("progress")))
        _HISTORY[id(exchange)] = history
        return exchange

    return await ctx.shared("videos.final", make)


@check(
    "videos.job.create",
    area="videos",
    level="smoke",
    endpoint="POST /videos",
    asserts="creating a video job answers a VideoResource: id, object 'video', a known status, "
    "created_at in seconds, progress 0..100",
    source="OpenAI API reference: POST /videos, VideoResource, VideoStatus",
    capability="video",
)
async def check_videos_job_create(ctx: CheckContext) -> None:
    exchange = await _create(ctx)
    _job(exchange, "create video job")
    if exchange.url.rstrip("/").endswith("/videos/generations"):
        raise CheckFailed(
            "video jobs are created at POST /videos/generations, not POST /videos "
            "(the path of OpenAI's API and SDK, which cannot reach this one)",
            exchange,
        )


@check(
    "videos.job.progression",
    area="videos",
    level="standard",
    endpoint="GET /videos/{video_id}",
    asserts="retrieving the job shows its status moving forward only (queued -> in_progress "
    "-> completed) with non-decreasing progress, ending completed",
    source="OpenAI API reference: GET /videos/{video_id}, VideoStatus",
    capability="video",
)
async def check_videos_job_progression(ctx: CheckContext) -> None:
    final = await _final(ctx)
    history = _HISTORY.get(id(final), [])
    ranks = [_STATUSES.index(status) for status, _ in history]
    for before, after in itertools.pairwise(ranks):
        # completed and failed are terminal: nothing follows them but themselves.
        if after < before or (before >= 2 and after != before):
            raise CheckFailed(
                f"the job's status went backwards: {[s for s, _ in history]}", evidence=final
            )
    progress = [p for _, p in history if isinstance(p, int)]
    if progress != sorted(progress):
        raise CheckFailed(f"the job's progress went backwards: {progress}", evidence=final)
    status = history[-1][0] if history else "unknown"
    if status == "failed":
        raise CheckFailed(f"the video job failed: {excerpt(final)}", evidence=final)
    if status != "completed":
        raise CheckSkipped(
            f"the job was still {status!r} after {len(history)} retrievals "
            f"({_DEADLINE_S:.0f} s): its end could not be judged; progression so far is valid"
        )


@check(
    "videos.content.download",
    area="videos",
    level="standard",
    endpoint="GET /videos/{video_id}/content",
    asserts="a completed job's content downloads as an MP4 file (ftyp box) served as video/mp4",
    source="OpenAI API reference: GET /videos/{video_id}/content (video/mp4)",
    capability="video",
)
async def check_videos_content_download(ctx: CheckContext) -> None:
    final = await _final(ctx)
    job = _job(final, "retrieve video job")
    if job["status"] != "completed":
        raise CheckSkipped(f"the job is {job['status']!r}, so there is no content to download")
    exchange = await ctx.client.request("GET", _path(job["id"], "/content"))
    if exchange.status is not None and 400 <= exchange.status < 500:
        problem = refusal_problem(exchange)
        if problem is not None:
            raise CheckFailed(f"content refused, but not cleanly: {problem}", exchange)
        refused_documented(ctx, "videos.content", exchange, "the completed job's content")
    if exchange.status != 200:
        raise CheckFailed(f"content download answered {exchange.status}", exchange)
    if exchange.content_type not in ("video/mp4", "application/octet-stream"):
        raise CheckFailed(
            f"content must be served as video/mp4, got {exchange.content_type!r}", exchange
        )
    if not is_mp4(exchange.body):
        raise CheckFailed(
            f"content is not an MP4 file (no ftyp box): starts {exchange.body[:12]!r}", exchange
        )


@check(
    "videos.job.unknown_404",
    area="videos",
    level="deep",
    endpoint="GET /videos/{video_id}",
    asserts="retrieving an unknown video id answers 404 with an error object",
    source="OpenAI API reference: GET /videos/{video_id}; error codes guide (404 not found)",
    capability="video",
)
async def check_videos_job_unknown_404(ctx: CheckContext) -> None:
    ctx.model("video")
    exchange = await ctx.client.request("GET", "/videos/video_parity_does_not_exist")
    require_refusal(exchange, "unknown video id", statuses=(404,))

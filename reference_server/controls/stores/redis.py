"""Redis store: budgets, limits, keys and the ledger shared by gateways on several hosts.

Every mutation is one Lua script (``redis_scripts``), so Redis runs it atomically: the admission
script mirrors ``stores.base.decide_admission`` (GCRA per limit, then budget fit; all or
nothing), the settlement script writes the ledger row only if absent and settles the hold in the
same step. Scripts touch
keys derived from the hold they read (bucket names), so this backend targets a single Redis
primary, not Redis Cluster.

Never hangs: socket connect and read timeouts are ``timeout_s``, and so is the wait for one of the
worker's ``max_connections`` pooled connections; past them (or on any Redis error) calls raise
StoreUnavailableError and the controls fail closed. The pool blocks rather than refuses:
redis-py's default asyncio pool raises ``MaxConnectionsError`` the moment a worker has more than
100 commands in flight, which turned a burst of requests on one worker into 503s while Redis
itself was idle. Durability of the ledger is Redis's (configure AOF ``appendfsync always`` where
the ledger must survive a Redis crash).

Must not: know about HTTP or the request flow.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Awaitable, Iterable
from typing import Any, TypeVar, cast

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from reference_server.controls import budgets
from reference_server.controls.budgets import OwnerBudget
from reference_server.controls.keys import KeyRecord
from reference_server.controls.ledger import GroupBy, LedgerRow, SpendGroup, group_rows
from reference_server.controls.ratelimits import Verdict
from reference_server.controls.stores.base import (
    AdmitOutcome,
    AdmitRequest,
    StoreUnavailableError,
    hold_for,
)
from reference_server.controls.stores.redis_scripts import ADMIT, RELEASE, SETTLE

__all__ = ["RedisStore"]

_T = TypeVar("_T")

_SWEEP_EVERY_S = 30.0


class RedisStore:
    def __init__(
        self,
        url: str,
        *,
        timeout_s: float = 2.0,
        max_connections: int = 64,
        prefix: str = "parity:",
    ) -> None:
        pool = aioredis.BlockingConnectionPool.from_url(
            url,
            max_connections=max_connections,
            timeout=timeout_s,
            socket_timeout=timeout_s,
            socket_connect_timeout=timeout_s,
            retry_on_timeout=False,
            decode_responses=True,
        )
        self._redis = aioredis.Redis.from_pool(pool)
        self._prefix = prefix
        self._url_host = url.rsplit("@", maxsplit=1)[-1]  # never show credentials in errors
        self._admit = self._redis.register_script(ADMIT)
        self._settle = self._redis.register_script(SETTLE)
        self._release = self._redis.register_script(RELEASE)
        self._last_sweep = 0.0

    async def _guard(self, call: Awaitable[_T]) -> _T:
        try:
            return await call
        except (RedisError, OSError) as exc:
            # redis-py names host and port in its messages, never the URL's credentials.
            raise StoreUnavailableError(
                f"redis store {self._url_host!r}: {type(exc).__name__}: {exc}"
            ) from exc

    async def close(self) -> None:
        await self._redis.aclose()

    # -- admission ----------------------------------------------------------------------------

    async def admit(self, request: AdmitRequest) -> AdmitOutcome:
        if request.now - self._last_sweep > _SWEEP_EVERY_S:
            self._last_sweep = request.now
            await self._sweep(request.now)
        args: list[Any] = [
            self._prefix,
            repr(request.now),
            len(request.rates),
            len(request.budgets),
            request.amount,
        ]
        for rate in request.rates:
            args += [
                rate.key,
                repr(rate.limit.interval),
                repr(rate.limit.period_s),
                rate.cost,
                rate.limit.limit,
            ]
        for charge in request.budgets:
            args += [charge.bucket, charge.limit_micro]
        hold = hold_for(request)
        if hold is None:
            args.append("")
        else:
            args += [
                hold.request_id,
                hold.key_id,
                "\n".join(hold.buckets),
                hold.amount,
                hold.tokens_key or "",
                repr(hold.tokens_interval),
                hold.tokens_reserved,
                repr(hold.expires_at),
            ]
        status, bucket, flat = await self._guard(self._admit(keys=[], args=args))
        verdicts = []
        for index, rate in enumerate(request.rates):
            allowed, tat, remaining, reset, retry = flat[index * 5 : index * 5 + 5]
            verdicts.append(
                (
                    rate,
                    Verdict(
                        allowed=bool(allowed),
                        tat=float(tat),
                        remaining=int(remaining),
                        reset_s=max(float(reset), 0.0),
                        retry_after_s=float(retry) if retry != "" else None,
                    ),
                )
            )
        retry_after: float | None = None
        if status == "rate_limited":
            waits = [v.retry_after_s for _, v in verdicts if not v.allowed]
            if all(w is not None for w in waits):
                retry_after = max(w for w in waits if w is not None)
        return AdmitOutcome(
            status,
            tuple(verdicts),
            refused_bucket=bucket or None,
            retry_after_s=retry_after,
        )

    async def _sweep(self, now: float) -> None:
        expired = await self._guard(
            self._redis.zrangebyscore(self._prefix + "holds", "-inf", repr(now), start=0, num=500)
        )
        if expired:
            await self._guard(self._release(keys=[], args=[self._prefix, repr(now), *expired]))

    async def settle(self, row: LedgerRow, tokens_used: int) -> bool:
        payload = json.dumps(_row_json(row), separators=(",", ":"))
        args: list[str | int] = [
            self._prefix,
            row.request_id,
            repr(row.settled_at),
            row.credits_micro,
            tokens_used,
            row.key_id,
            payload,
        ]
        return bool(await self._guard(self._settle(keys=[], args=args)))

    async def release(self, request_id: str, now: float) -> None:
        await self._guard(self._release(keys=[], args=[self._prefix, repr(now), request_id]))

    # -- keys ---------------------------------------------------------------------------------

    async def seed_keys(self, records: Iterable[KeyRecord]) -> None:
        for record in records:
            old = await self.key_by_id(record.id)
            pipe = self._redis.pipeline(transaction=True)
            if old is not None and old.key_sha256 != record.key_sha256:
                pipe.delete(self._prefix + "keyhash:" + old.key_sha256)
            self._queue_put(pipe, record)
            await self._guard(pipe.execute())

    def _queue_put(self, pipe: Any, record: KeyRecord) -> None:
        pipe.set(self._prefix + "key:" + record.id, json.dumps(_key_json(record)))
        pipe.set(self._prefix + "keyhash:" + record.key_sha256, record.id)

    async def put_key(self, record: KeyRecord) -> None:
        pipe = self._redis.pipeline(transaction=True)
        self._queue_put(pipe, record)
        await self._guard(pipe.execute())

    async def key_by_hash(self, digest: str) -> KeyRecord | None:
        key_id = await self._guard(self._redis.get(self._prefix + "keyhash:" + digest))
        return None if key_id is None else await self.key_by_id(str(key_id))

    async def key_by_id(self, key_id: str) -> KeyRecord | None:
        raw = await self._guard(self._redis.get(self._prefix + "key:" + key_id))
        if raw is None:
            return None
        record = _key_record(json.loads(raw))
        owner = await self.owner_budget(record.owner)
        if owner is None:
            return record
        return dataclasses.replace(
            record, owner_budget_micro=owner.limit_micro, owner_budget_period=owner.period
        )

    async def rotate_key(self, key_id: str, digest: str) -> bool:
        record = await self.key_by_id(key_id)
        if record is None:
            return False
        pipe = self._redis.pipeline(transaction=True)
        pipe.delete(self._prefix + "keyhash:" + record.key_sha256)
        self._queue_put(pipe, dataclasses.replace(record, key_sha256=digest))
        await self._guard(pipe.execute())
        return True

    # -- owner budgets ------------------------------------------------------------------------

    async def seed_owner_budgets(self, budgets_: Iterable[OwnerBudget]) -> None:
        configured = self._prefix + "owner_budgets:config"
        stale = await self._guard(self._redis.smembers(configured))
        pipe = self._redis.pipeline(transaction=True)
        for owner in stale:  # the config's owners are the config's (as its keys are)
            pipe.delete(self._prefix + "owner_budget:" + str(owner))
        pipe.delete(configured)
        for budget in budgets_:
            self._queue_owner(pipe, budget)
        await self._guard(pipe.execute())

    def _queue_owner(self, pipe: Any, budget: OwnerBudget) -> None:
        key = self._prefix + "owner_budget:" + budget.owner
        pipe.hset(
            key,
            mapping={
                "limit_micro": budget.limit_micro,
                "period": budget.period,
                "source": budget.source,
            },
        )
        configured = self._prefix + "owner_budgets:config"
        if budget.source == "config":
            pipe.sadd(configured, budget.owner)
        else:
            pipe.srem(configured, budget.owner)

    async def put_owner_budget(self, budget: OwnerBudget) -> None:
        pipe = self._redis.pipeline(transaction=True)
        self._queue_owner(pipe, budget)
        await self._guard(pipe.execute())

    async def owner_budget(self, owner: str) -> OwnerBudget | None:
        found = await self._guard(self._redis.hgetall(self._prefix + "owner_budget:" + owner))
        if not found:
            return None
        # OwnerBudget validates the period; the source is one this store wrote.
        return OwnerBudget(
            owner,
            int(found["limit_micro"]),
            cast(budgets.Period, str(found["period"])),
            "config" if found.get("source") == "config" else "admin",
        )

    async def delete_owner_budget(self, owner: str) -> bool:
        pipe = self._redis.pipeline(transaction=True)
        pipe.delete(self._prefix + "owner_budget:" + owner)
        pipe.srem(self._prefix + "owner_budgets:config", owner)
        deleted, _ = await self._guard(pipe.execute())
        return bool(deleted)

    async def delete_key(self, key_id: str) -> bool:
        record = await self.key_by_id(key_id)
        if record is None:
            return False
        pipe = self._redis.pipeline(transaction=True)
        pipe.delete(self._prefix + "key:" + key_id)
        pipe.delete(self._prefix + "keyhash:" + record.key_sha256)
        await self._guard(pipe.execute())
        return True

    # -- reading spend ------------------------------------------------------------------------

    async def key_usage(self, key_id: str) -> tuple[int, int]:
        spent = await self._guard(self._redis.get(self._prefix + "spent:" + key_id))
        held = await self._guard(self._redis.hvals(self._prefix + "holds:key:" + key_id))
        return int(spent or 0), sum(int(v) for v in held)

    async def budget_account(self, bucket: str) -> budgets.Account:
        spent, reserved = await self._guard(
            self._redis.hmget(self._prefix + "budget:" + bucket, ["spent", "reserved"])
        )
        return budgets.Account(int(spent or 0), int(reserved or 0))

    async def spend(
        self, *, key_id: str | None, owner: str | None, group_by: GroupBy | None
    ) -> list[SpendGroup]:
        ids = await self._guard(self._redis.lrange(self._prefix + "ledger", 0, -1))
        rows: list[LedgerRow] = []
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            raws = await self._guard(
                self._redis.mget([self._prefix + "ledger:" + str(rid) for rid in chunk])
            )
            rows += [LedgerRow(**json.loads(raw)) for raw in raws if raw is not None]
        selected = [
            row
            for row in rows
            if (key_id is None or row.key_id == key_id) and (owner is None or row.owner == owner)
        ]
        return group_rows(selected, group_by)


def _row_json(row: LedgerRow) -> dict[str, Any]:
    return row._asdict()


# Read with a key, never stored with it: the owner's budget is the owner's.
_OWNER_FIELDS = ("owner_budget_micro", "owner_budget_period")


def _key_json(record: KeyRecord) -> dict[str, Any]:
    data = {
        name: getattr(record, name) for name in KeyRecord.__slots__ if name not in _OWNER_FIELDS
    }
    data["scopes"] = sorted(record.scopes)
    data["created_at"] = record.created_at or time.time()
    return data


def _key_record(data: dict[str, Any]) -> KeyRecord:
    data["scopes"] = frozenset(data["scopes"])
    return KeyRecord(**data)

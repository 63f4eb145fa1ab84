"""MeteredControls: the Controls seam with keys, rate limits, budgets, metering and the ledger.

Per request (each step one atomic store operation, run off the event loop):

1. ``authenticate``: bearer key -> SHA-256 -> key record in the store (so keys created through the
   admin API on one worker authenticate on all, and a revoked key fails on all from the next
   request: the SQLite store's key cache is checked against the store's key generation on every
   lookup); the admin key is compared in constant time.
2. ``admit``: GCRA requests/tokens limits and budget reservations (key, owner) in one atomic
   step: all pass or nothing changes. Every endpoint is admitted so, its maximum cost priced in
   its own unit (``metering.ENDPOINT_UNITS``); an exhausted budget refuses every request.
   ``require_quota`` (a Realtime session's start) refuses a caller with a budget that has
   nothing left, and holds nothing. Refusals: 429 ``rate_limit_exceeded`` (type ``requests`` or
   ``tokens``, as OpenAI sends) with ``Retry-After``; 429 ``insufficient_quota`` without
   ``Retry-After`` and with ``x-should-retry: false`` (so SDKs do not retry a budget).
3. ``settle``: cost of what the answering deployment served, at its own price; the ledger row and
   the hold's settlement commit together, before the response's final bytes leave. Partial streams
   are billed for what was delivered (the gateway reports those tokens in ``Served``).
4. ``release``: nothing served; the hold is returned (or expires after ``hold_ttl_s``).

The credits header (default ``x-monday-credits-used``) is on non-stream responses; streams carry
the same figure as ``usage.credits_used`` in their usage chunk, because headers leave first.

Store unreachable: fail closed (503 ``api_error`` ``store_unavailable``), never hang; ``release``
cannot fail a request, its hold expires instead.

Must not: know about HTTP requests or providers.
"""

from __future__ import annotations

import hmac
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TypeVar

from reference_server.controls import budgets
from reference_server.controls.base import (
    Admission,
    Principal,
    Served,
    Settlement,
    Ticket,
    bearer_token,
    hash_key,
)
from reference_server.controls.budgets import OwnerBudget
from reference_server.controls.keys import ADMIN_SCOPE, KeyRecord
from reference_server.controls.ledger import LedgerRow
from reference_server.controls.metering import (
    MICRO,
    Price,
    PriceLookup,
    Tariff,
    UnpricedError,
    credits_text,
    surcharge_applies,
    unpriced_error,
)
from reference_server.controls.ratelimits import Limit, Verdict, limit_headers, retry_after_headers
from reference_server.controls.stores import (
    AdmitRequest,
    BudgetCharge,
    ControlsStore,
    RateCharge,
    StoreUnavailableError,
)
from reference_server.errors import GatewayError

__all__ = ["ADMIN_KEY_ID", "ControlsSettings", "MeteredControls", "OwnerBudget"]

ADMIN_KEY_ID = "admin"

_T = TypeVar("_T")

_log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ControlsSettings:
    credits_header: str = "x-monday-credits-used"
    direct_id_surcharge: Decimal = Decimal(0)
    default_max_output_tokens: int = 4096
    rate_limit_period_s: float = 60.0
    hold_ttl_s: float = 600.0
    default_rpm: int | None = None
    default_tpm: int | None = None
    admin_key_sha256: str | None = None
    # The config's owner budgets, seeded into the store (the admin API sets others there).
    owner_budgets: dict[str, OwnerBudget] = field(default_factory=dict)


class MeteredControls:
    def __init__(
        self,
        store: ControlsStore,
        settings: ControlsSettings,
        *,
        prices: PriceLookup,
        is_alias: Callable[[str], bool],
        seed: Iterable[KeyRecord] = (),
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.settings = settings
        self._tariff = Tariff(settings.direct_id_surcharge)
        self._prices = prices
        self._is_alias = is_alias
        self._seed = tuple(seed)
        self._seeded = False
        self._clock = clock
        self._records: dict[str, KeyRecord] = {}

    async def start(self) -> None:
        """Seed the config's keys and owner budgets into the store (idempotent; also done on
        first use)."""
        if not self._seeded:
            await self._guard(self.store.seed_keys(self._seed))
            await self._guard(self.store.seed_owner_budgets(self.settings.owner_budgets.values()))
            self._seeded = True

    async def aclose(self) -> None:
        await self.store.close()

    # -- 1. authenticate ----------------------------------------------------------------------

    async def authenticate(self, authorization: str | None, scope: str) -> Principal:
        token = bearer_token(authorization)
        if token is None:
            raise GatewayError(
                401,
                "You didn't provide an API key. Provide it as a bearer token in the "
                "Authorization header (Authorization: Bearer YOUR_KEY).",
                type="invalid_request_error",
                code="missing_api_key",
            )
        digest = hash_key(token)
        admin = self.settings.admin_key_sha256
        if admin is not None and hmac.compare_digest(digest, admin):
            principal = Principal(ADMIN_KEY_ID, ADMIN_KEY_ID, frozenset({ADMIN_SCOPE}))
        else:
            await self.start()
            record = await self._guard(self.store.key_by_hash(digest))
            if record is None:
                raise GatewayError(
                    401,
                    "Incorrect API key provided.",
                    type="invalid_request_error",
                    code="invalid_api_key",
                )
            self._records[record.id] = record
            principal = Principal(record.id, record.owner, record.scopes)
        if scope not in principal.scopes:
            raise GatewayError(
                403,
                f"This key lacks the {scope!r} scope.",
                type="permission_error",
                code="insufficient_permissions",
            )
        return principal

    # -- 2. admit -----------------------------------------------------------------------------

    async def require_quota(self, principal: Principal) -> None:
        record = await self._record(principal)
        now = self._clock()
        for charge in self._budget_charges(principal, record, now):
            account = await self._guard(self.store.budget_account(charge.bucket))
            if account.spent >= charge.limit_micro:
                raise budgets.quota_error(
                    f"(budget {charge.bucket!r} has nothing left: {credits_text(account.spent)} "
                    f"of {credits_text(charge.limit_micro)} credits spent)",
                    {"x-should-retry": "false"},
                )

    async def _record(self, principal: Principal) -> KeyRecord | None:
        record = self._records.get(principal.key_id)
        if record is None:
            record = await self._guard(self.store.key_by_id(principal.key_id))
        return record

    async def admit(self, principal: Principal, admission: Admission) -> Ticket:
        record = await self._record(principal)
        now = self._clock()
        charges = self._budget_charges(principal, record, now)
        amount = 0
        if charges:
            candidates = admission.candidates or (admission.model_asked,)
            try:
                amount = budgets.reservation(
                    self._tariff,
                    [self._price(name) for name in candidates],
                    input_tokens=admission.input_tokens,
                    max_output_tokens=admission.max_output_tokens,
                    default_max_output_tokens=self.settings.default_max_output_tokens,
                    surcharge=self._surcharge(admission),
                    endpoint=admission.endpoint,
                    units=admission.units,
                    variant=admission.variant,
                )
            except UnpricedError as exc:
                raise unpriced_error(admission.model_asked, admission.endpoint, exc) from None
        rates = self._rate_charges(principal, record, admission)
        outcome = await self._guard(
            self.store.admit(
                AdmitRequest(
                    request_id=admission.request_id,
                    key_id=principal.key_id,
                    rates=rates,
                    budgets=charges,
                    amount=amount,
                    now=now,
                    hold_ttl_s=self.settings.hold_ttl_s,
                )
            )
        )
        headers: dict[str, str] = {}
        for rate, verdict in outcome.verdicts:
            headers.update(limit_headers(rate.limit, verdict))
        if outcome.status == "rate_limited":
            raise self._rate_error(outcome.verdicts, outcome.retry_after_s, headers)
        if outcome.status == "over_budget":
            headers["x-should-retry"] = "false"
            raise budgets.quota_error(
                f"(budget {outcome.refused_bucket!r} cannot hold this request's maximum cost of "
                f"{credits_text(amount)} credits)",
                headers,
            )
        return Ticket(principal, admission, reserved_credits=amount / MICRO, headers=headers)

    def _budget_charges(
        self, principal: Principal, record: KeyRecord | None, now: float
    ) -> tuple[BudgetCharge, ...]:
        charges: list[BudgetCharge] = []
        if record is not None and record.budget_micro is not None:
            budget = budgets.Budget("key", record.id, record.budget_micro, record.budget_period)
            charges.append(BudgetCharge(budget.bucket(now), budget.limit_micro))
        if record is not None and record.owner_budget_micro is not None:
            budget = budgets.Budget(
                "owner", principal.owner, record.owner_budget_micro, record.owner_budget_period
            )
            charges.append(BudgetCharge(budget.bucket(now), budget.limit_micro))
        return tuple(charges)

    def _rate_charges(
        self, principal: Principal, record: KeyRecord | None, admission: Admission
    ) -> tuple[RateCharge, ...]:
        period = self.settings.rate_limit_period_s
        rpm = record.rpm if record is not None and record.rpm is not None else None
        tpm = record.tpm if record is not None and record.tpm is not None else None
        rpm = self.settings.default_rpm if rpm is None else rpm
        tpm = self.settings.default_tpm if tpm is None else tpm
        charges: list[RateCharge] = []
        if rpm:
            charges.append(
                RateCharge(f"{principal.key_id}:requests", Limit("requests", rpm, period), 1)
            )
        if tpm:
            output = admission.max_output_tokens
            if output is None:
                output = self.settings.default_max_output_tokens
            charges.append(
                RateCharge(
                    f"{principal.key_id}:tokens",
                    Limit("tokens", tpm, period),
                    max(admission.input_tokens, 0) + max(output, 0),
                )
            )
        return tuple(charges)

    @staticmethod
    def _rate_error(
        verdicts: tuple[tuple[RateCharge, Verdict], ...],
        retry_after_s: float | None,
        headers: dict[str, str],
    ) -> GatewayError:
        refused = next(rate for rate, verdict in verdicts if not verdict.allowed)
        unit = "requests" if refused.limit.dimension == "requests" else "tokens"
        per = f"per {refused.limit.period_s:g}s"
        if retry_after_s is None:
            headers["x-should-retry"] = "false"
            message = (
                f"Request too large on {unit} {per}: Limit {refused.limit.limit}, "
                f"Requested {refused.cost}."
            )
        else:
            headers.update(retry_after_headers(retry_after_s))
            message = (
                f"Rate limit reached on {unit} {per}: Limit {refused.limit.limit}, "
                f"Requested {refused.cost}. Please try again in {headers['retry-after']}s."
            )
        # OpenAI's rate-limit errors carry type "requests" or "tokens", code rate_limit_exceeded.
        return GatewayError(429, message, type=unit, code="rate_limit_exceeded", headers=headers)

    # -- 3. settle / 4. release ---------------------------------------------------------------

    async def settle(self, ticket: Ticket, served: Served) -> Settlement:
        admission = ticket.admission
        price = self._price(served.deployment, served.model, admission.model_asked)
        try:
            micro = self._tariff.cost(
                price,
                max(served.prompt_tokens, 0),
                max(served.completion_tokens, 0),
                surcharge=self._surcharge(admission),
                endpoint=admission.endpoint,
                units=max(served.units, 0.0),
                variant=admission.variant,
            )
        except UnpricedError as exc:
            raise unpriced_error(admission.model_asked, admission.endpoint, exc) from None
        now = self._clock()
        row = LedgerRow(
            request_id=admission.request_id,
            key_id=ticket.principal.key_id,
            owner=ticket.principal.owner,
            endpoint=admission.endpoint,
            model_asked=admission.model_asked,
            deployment=served.deployment,
            model_served=served.model,
            prompt_tokens=served.prompt_tokens,
            completion_tokens=served.completion_tokens,
            units=served.units,
            credits_micro=micro,
            outcome=served.outcome,
            streaming=admission.streaming,
            started_at=served.started_at,
            first_byte_at=served.first_byte_at,
            finished_at=served.finished_at,
            settled_at=now,
        )
        await self._guard(self.store.settle(row, served.prompt_tokens + served.completion_tokens))
        return Settlement(
            credits=micro / MICRO, headers={self.settings.credits_header: credits_text(micro)}
        )

    async def release(self, ticket: Ticket) -> None:
        try:
            await self.store.release(ticket.admission.request_id, self._clock())
        except StoreUnavailableError:
            return  # the hold expires after hold_ttl_s and is swept then

    # -- internals ----------------------------------------------------------------------------

    def _surcharge(self, admission: Admission) -> bool:
        return surcharge_applies(self._is_alias(admission.model_asked))

    def _price(self, *names: str) -> Price:
        for name in names:
            try:
                return self._prices(name)
            except KeyError:
                continue
        raise GatewayError(
            500,
            f"No price is configured for {names[0]!r}.",
            type="api_error",
            code="price_not_configured",
        )

    async def guarded(self, call: Awaitable[_T]) -> _T:
        """Await a store call; an unreachable store becomes 503 (fail closed)."""
        return await self._guard(call)

    @staticmethod
    async def _guard(call: Awaitable[_T]) -> _T:
        try:
            return await call
        except StoreUnavailableError as exc:
            # Fail closed: without the store nothing is admitted or served unmetered. The client
            # sees a generic 503; the operator's log says which store failed and how (the
            # message names host and error type, never credentials).
            _log.warning("controls store unavailable: %s", exc)
            raise GatewayError(
                503,
                "The gateway's controls store is unavailable; the request was not served.",
                type="api_error",
                code="store_unavailable",
                headers={"retry-after": "1"},
            ) from exc

"""The eAccounting API v2 client: one connection pool per process, a retry policy that never duplicates a voucher,
typed reads, and a per-company TTL cache of the slow-changing lists (fiscal years, accounts, cost centres).

Retry policy, and why:
- GET is safe to repeat: retried on 429 (waiting what Visma says: a ``Retry-After`` header, else the "Try again in
  N seconds" of its message, else backoff), on 500/502/503/504, timeouts and dropped connections, with exponential
  backoff and jitter, up to ``max_retries`` times.
- POST is retried only when Visma provably did not process it: a 429 (the quota check comes first), or a
  connection that failed before the request was sent (connect error/timeout, no free pooled connection). Any other
  failure — a read timeout, a connection dropped after sending, a 5xx — raises ``VismaError(outcome_unknown=True)``
  at once: eAccounting has no idempotency key and no DELETE on vouchers, so a blind retry could post a payroll
  journal twice (visma-eaccounting.md §6(f)). The exporter reconciles by looking the voucher up instead.
- 401 and every other 4xx are never retried here; ``VismaSession`` refreshes the token once after a 401. A 403 4002
  (API module off) is not an auth problem and never leads to a refresh or re-authorization (§6(a)).
"""

from __future__ import annotations

import random
import re
import threading
import time
from collections.abc import Callable, Hashable
from datetime import date
from decimal import Decimal
from typing import Any, TypeVar

import httpx

from core.visma.errors import VismaError, parse_error_body, retry_after_seconds
from core.visma.models import CompanySettings, CostCenter, FiscalYear, LedgerAccount, VoucherInfo

__all__ = ["RateLimiter", "VismaClient", "VismaError", "VismaSession"]

T = TypeVar("T")
RETRY_STATUSES_GET = frozenset({429, 500, 502, 503, 504})
# Failures that happen before any byte of the request reached Visma: safe to repeat even for a POST.
NOT_SENT_ERRORS = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
VOUCHER_QUERY = {"useAutomaticVatCalculation": "false", "useDefaultVatCodes": "true", "useDefaultVoucherSeries": "true"}
_ID_SEGMENT = re.compile(r"^(?:[0-9a-fA-F-]{32,36}|\d+|\d{4}-\d{2}-\d{2})$")


def path_template(path: str) -> str:
    """``/vouchers/<guid>/<guid>`` → ``/vouchers/{}/{}``: the key Visma's per-URL quota and the limiter count by."""
    parts = path.split("?", 1)[0].strip("/").split("/")
    return "/" + "/".join("{}" if _ID_SEGMENT.match(p) else p for p in parts)


def odata_quote(text: str) -> str:
    """A string literal for ``$filter``: single quotes doubled, OData-style."""
    return "'" + text.replace("'", "''") + "'"


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


class RateLimiter:
    """A thread-safe token bucket per key (the client uses ``(method, path template)``).

    Visma admits 600 calls a minute per client and URL (F18); the default 570 leaves headroom for clocks that
    disagree. Share one limiter among every client of the same OAuth client id.
    """

    def __init__(
        self,
        rate: int = 570,
        per: float = 60.0,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate <= 0 or per <= 0:
            raise ValueError("rate and per must be positive")
        self.rate = rate
        self.per = per
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._buckets: dict[Hashable, tuple[float, float]] = {}  # key -> (tokens, last refill time)

    def acquire(self, key: Hashable = None) -> float:
        """Take one token, blocking until one is free; returns the seconds waited."""
        waited = 0.0
        while True:
            with self._lock:
                now = self._clock()
                tokens, last = self._buckets.get(key, (float(self.rate), now))
                tokens = min(float(self.rate), tokens + (now - last) * self.rate / self.per)
                if tokens >= 1.0:
                    self._buckets[key] = (tokens - 1.0, now)
                    return waited
                self._buckets[key] = (tokens, now)
                wait = (1.0 - tokens) * self.per / self.rate
            self._sleep(wait)
            waited += wait


class _TTLCache:
    """Per-key single-flight TTL cache: twenty threads asking for the same key at once make one call."""

    def __init__(self, ttl: float, clock: Callable[[], float]) -> None:
        self.ttl = ttl
        self._clock = clock
        self._lock = threading.Lock()
        self._entries: dict[tuple, tuple[float, Any]] = {}
        self._key_locks: dict[tuple, threading.Lock] = {}
        self._generations: dict[str, int] = {}
        self._epoch = 0

    def _fresh(self, key: tuple) -> tuple[bool, Any]:
        entry = self._entries.get(key)
        if entry is not None and entry[0] > self._clock():
            return True, entry[1]
        return False, None

    def get(self, key: tuple, compute: Callable[[], T]) -> T:
        with self._lock:
            hit, value = self._fresh(key)
            if hit:
                return value
            key_lock = self._key_locks.setdefault(key, threading.Lock())
        with key_lock:
            with self._lock:
                hit, value = self._fresh(key)
                if hit:
                    return value
                stamp = (self._epoch, self._generations.get(key[0], 0))
            value = compute()
            with self._lock:
                # An invalidate() during the call means the answer may be stale: hand it out, don't keep it.
                if stamp == (self._epoch, self._generations.get(key[0], 0)):
                    self._entries[key] = (self._clock() + self.ttl, value)
            return value

    def invalidate(self, company_key: str | None = None) -> None:
        with self._lock:
            if company_key is None:
                self._entries.clear()
                self._epoch += 1
            else:
                for key in [k for k in self._entries if k[0] == company_key]:
                    del self._entries[key]
                self._generations[company_key] = self._generations.get(company_key, 0) + 1


class VismaClient:
    """Thread-safe, shared by the whole process (``Runtime.visma``); every call takes the caller's access token."""

    def __init__(
        self,
        api_url: str,
        *,
        timeout: httpx.Timeout | float = httpx.Timeout(20.0, connect=5.0),
        max_retries: int = 4,
        backoff_base: float = 0.5,
        max_backoff: float = 60.0,
        sleep: Callable[[float], None] = time.sleep,
        transport: httpx.BaseTransport | None = None,
        cache_ttl: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
        rate_limiter: RateLimiter | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.api_url = api_url.rstrip("/")
        self.max_retries = max_retries
        self.backoff_base = backoff_base
        self.max_backoff = max_backoff
        self.rate_limiter = rate_limiter
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._rng_lock = threading.Lock()
        self._cache = _TTLCache(cache_ttl, clock)
        self._http = httpx.Client(
            base_url=self.api_url + "/",
            timeout=timeout,
            transport=transport,
            limits=httpx.Limits(max_connections=50, max_keepalive_connections=20),
            headers={"Accept": "application/json", "User-Agent": "eaccounting-link/0.1"},
            follow_redirects=False,
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> VismaClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- low level ------------------------------------------------------------------------------------------------
    def _backoff(self, attempt: int) -> float:
        cap = min(self.max_backoff, self.backoff_base * (2**attempt))
        with self._rng_lock:
            return cap / 2 + self._rng.uniform(0, cap / 2)

    def request(
        self,
        method: str,
        path: str,
        *,
        token: str,
        params: dict[str, Any] | None = None,
        json: Any = None,
    ) -> httpx.Response:
        """One API call with the retry policy of the module docstring; returns a 2xx response or raises VismaError."""
        method = method.upper()
        is_read = method in ("GET", "HEAD")
        rel = path.lstrip("/")
        shown = httpx.URL(f"{self.api_url}/{rel}").path
        headers = {"Authorization": f"Bearer {token}"}
        payload = _jsonable(json) if json is not None else None
        attempt = 0
        while True:
            if self.rate_limiter is not None:
                self.rate_limiter.acquire((method, path_template(rel)))
            try:
                response = self._http.request(method, rel, params=params, json=payload, headers=headers)
            except httpx.TransportError as exc:
                not_sent = isinstance(exc, NOT_SENT_ERRORS)
                err = VismaError(
                    _transport_message(exc),
                    method=method,
                    path=shown,
                    outcome_unknown=not is_read and not not_sent,
                    transport_error=type(exc).__name__,
                )
                if (is_read or not_sent) and attempt < self.max_retries:
                    self._sleep(self._backoff(attempt))
                    attempt += 1
                    continue
                raise err from exc
            if response.is_success:
                return response
            # A 5xx to a write: Visma may have stored it before failing (or a proxy timed out while it worked).
            err = error_from_response(
                response, method=method, path=shown, outcome_unknown=not is_read and response.status_code >= 500
            )
            retryable = response.status_code == 429 or (is_read and response.status_code in RETRY_STATUSES_GET)
            if retryable and attempt < self.max_retries:
                wait = err.retry_after if err.retry_after is not None else self._backoff(attempt)
                if wait <= self.max_backoff:
                    self._sleep(wait)
                    attempt += 1
                    continue
            raise err

    @staticmethod
    def _json(response: httpx.Response) -> Any:
        """The body of a 2xx answer; a truncated/garbled one is an error (for a POST: it *was* processed)."""
        try:
            return response.json()
        except ValueError as exc:
            method = response.request.method
            raise VismaError(
                f"Visma answered HTTP {response.status_code} but its body is not valid JSON (truncated answer?).",
                status=response.status_code,
                body=response.text,
                method=method,
                path=response.request.url.path,
                outcome_unknown=method not in ("GET", "HEAD"),
            ) from exc

    def get_json(self, path: str, *, token: str, params: dict[str, Any] | None = None) -> Any:
        return self._json(self.request("GET", path, token=token, params=params))

    def get_all(self, path: str, *, token: str, params: dict[str, Any] | None = None, page_size: int = 500) -> list:
        """Every item of a paged list: ``$page`` from 1 until ``Meta.TotalNumberOfPages``."""
        items: list = []
        page = 1
        while True:
            data = self.get_json(path, token=token, params={**(params or {}), "$page": page, "$pagesize": page_size})
            if not isinstance(data, dict) or not isinstance(data.get("Data"), list):
                raise VismaError("Visma's list answer has no Data array.", status=200, body=str(data), method="GET",
                                 path=path)
            items.extend(data["Data"])
            total_pages = int((data.get("Meta") or {}).get("TotalNumberOfPages") or 0)
            if page >= total_pages or not data["Data"]:
                return items
            page += 1

    # -- typed methods --------------------------------------------------------------------------------------------
    def company_settings(self, token: str) -> CompanySettings:
        return CompanySettings.from_api(self.get_json("/companysettings", token=token))

    def fiscal_years(self, token: str) -> list[FiscalYear]:
        years = [FiscalYear.from_api(d) for d in self.get_all("/fiscalyears", token=token)]
        return sorted(years, key=lambda fy: fy.start_date)

    def create_fiscal_year(self, token: str, start: date, end: date) -> FiscalYear:
        body = {"StartDate": start.isoformat(), "EndDate": end.isoformat()}
        response = self.request("POST", "/fiscalyears", token=token, json=body)
        return FiscalYear.from_api(self._json(response))

    def accounts(self, token: str, fiscal_year_id: str | None = None) -> list[LedgerAccount]:
        path = f"/accounts/{fiscal_year_id}" if fiscal_year_id else "/accounts"
        return [LedgerAccount.from_api(d) for d in self.get_all(path, token=token)]

    def cost_centers(self, token: str) -> list[CostCenter]:
        return [CostCenter.from_api(d) for d in self.get_all("/costcenters", token=token)]

    def vouchers(
        self, token: str, fiscal_year_id: str | None = None, *, filter: str | None = None, page_size: int = 500
    ) -> list[VoucherInfo]:
        path = f"/vouchers/{fiscal_year_id}" if fiscal_year_id else "/vouchers"
        params = {"$filter": filter} if filter else None
        items = self.get_all(path, token=token, params=params, page_size=page_size)
        return [VoucherInfo.from_api(d, fiscal_year_id) for d in items]

    def voucher(self, token: str, fiscal_year_id: str, voucher_id: str) -> VoucherInfo:
        data = self.get_json(f"/vouchers/{fiscal_year_id}/{voucher_id}", token=token)
        return VoucherInfo.from_api(data, fiscal_year_id)

    def find_vouchers_by_text(self, token: str, fiscal_year_id: str | None, text: str) -> list[VoucherInfo]:
        return self.vouchers(token, fiscal_year_id, filter=f"contains(VoucherText,{odata_quote(text)})")

    def create_voucher(self, token: str, body: dict) -> VoucherInfo:
        """POST a voucher (201). On ``VismaError.outcome_unknown`` look it up before sending again."""
        response = self.request("POST", "/vouchers", token=token, params=VOUCHER_QUERY, json=body)
        return VoucherInfo.from_api(self._json(response))

    # -- cached reads (per company) -------------------------------------------------------------------------------
    def cached_fiscal_years(self, company_key: str, token: str) -> list[FiscalYear]:
        return list(self._cache.get((company_key, "fiscal_years"), lambda: tuple(self.fiscal_years(token))))

    def cached_accounts(self, company_key: str, token: str, fiscal_year_id: str | None) -> list[LedgerAccount]:
        key = (company_key, "accounts", fiscal_year_id)
        return list(self._cache.get(key, lambda: tuple(self.accounts(token, fiscal_year_id))))

    def cached_cost_centers(self, company_key: str, token: str) -> list[CostCenter]:
        return list(self._cache.get((company_key, "cost_centers"), lambda: tuple(self.cost_centers(token))))

    def invalidate(self, company_key: str | None = None) -> None:
        """Forget cached lists of one company (after it changed in Visma), or of all companies."""
        self._cache.invalidate(company_key)


def _transport_message(exc: httpx.TransportError) -> str:
    if isinstance(exc, httpx.TimeoutException):
        what = "Visma did not answer in time"
    elif isinstance(exc, NOT_SENT_ERRORS):
        what = "the connection to Visma could not be made"
    else:
        what = "the connection to Visma broke off"
    detail = str(exc).strip()
    return f"{what} ({type(exc).__name__}{': ' + detail if detail else ''})"


def error_from_response(
    response: httpx.Response, *, method: str, path: str, outcome_unknown: bool = False
) -> VismaError:
    """A VismaError for an HTTP error answer, whatever its body looks like."""
    text = response.text
    parsed = parse_error_body(
        text, response.headers.get("content-type", ""), status=response.status_code, reason=response.reason_phrase
    )
    retry_after = None
    if response.status_code in (429, 503):
        retry_after = retry_after_seconds(response.headers.get("retry-after"), parsed.message)
    return VismaError(
        parsed.message,
        status=response.status_code,
        error_code=parsed.error_code,
        error_id=parsed.error_id,
        errors=parsed.errors,
        body=text,
        method=method,
        path=path,
        retry_after=retry_after,
        outcome_unknown=outcome_unknown,
    )


class VismaSession:
    """The client bound to one connected account: no token argument, cached lists, one retry after a 401.

    ``token_provider(force_refresh)`` returns a valid access token; with ``True`` it must refresh even if the stored
    token looks valid (Visma refused it). A 401 is safe to retry also for a POST: Visma refused before processing.
    """

    def __init__(self, client: VismaClient, company_key: str, token_provider: Callable[[bool], str]) -> None:
        self.client = client
        self.company_key = company_key
        self._token_provider = token_provider

    def _call(self, fn: Callable[[str], T]) -> T:
        try:
            return fn(self._token_provider(False))
        except VismaError as err:
            if not err.is_unauthorized:
                raise
        return fn(self._token_provider(True))

    def company_settings(self) -> CompanySettings:
        return self._call(self.client.company_settings)

    def fiscal_years(self) -> list[FiscalYear]:
        return self._call(lambda t: self.client.cached_fiscal_years(self.company_key, t))

    def create_fiscal_year(self, start: date, end: date) -> FiscalYear:
        try:
            return self._call(lambda t: self.client.create_fiscal_year(t, start, end))
        finally:
            self.client.invalidate(self.company_key)

    def accounts(self, fiscal_year_id: str | None = None) -> list[LedgerAccount]:
        return self._call(lambda t: self.client.cached_accounts(self.company_key, t, fiscal_year_id))

    def cost_centers(self) -> list[CostCenter]:
        return self._call(lambda t: self.client.cached_cost_centers(self.company_key, t))

    def vouchers(
        self, fiscal_year_id: str | None = None, *, filter: str | None = None, page_size: int = 500
    ) -> list[VoucherInfo]:
        return self._call(lambda t: self.client.vouchers(t, fiscal_year_id, filter=filter, page_size=page_size))

    def voucher(self, fiscal_year_id: str, voucher_id: str) -> VoucherInfo:
        return self._call(lambda t: self.client.voucher(t, fiscal_year_id, voucher_id))

    def find_vouchers_by_text(self, fiscal_year_id: str | None, text: str) -> list[VoucherInfo]:
        return self._call(lambda t: self.client.find_vouchers_by_text(t, fiscal_year_id, text))

    def create_voucher(self, body: dict) -> VoucherInfo:
        return self._call(lambda t: self.client.create_voucher(t, body))

    def invalidate(self) -> None:
        self.client.invalidate(self.company_key)

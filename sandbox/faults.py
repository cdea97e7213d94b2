"""Per-company faults on the /v2 API (docs/architecture.md "Faults"): rate limit, latency, 500/503, commit-then-drop.

Rate limit (visma-eaccounting.md F18): 600 calls a minute per client and URL, a sliding 60-second window on the
sandbox clock (Visma does not say fixed or sliding; sliding is the stricter one). A company's
``rate_limit_per_minute`` lowers the limit for calls made with that company's tokens. A refused call is not counted.
The 429 carries Visma's text with the real remaining seconds and, by default, no ``Retry-After`` header (Visma
documents none; the ``retry_after_header`` setting adds one).

Commit-then-drop: the voucher is stored and committed, then the connection is closed without any response; see
``sandbox.app.DropConnectionMiddleware``.
"""

from __future__ import annotations

import asyncio
import math
from typing import Any

from sandbox import clock, errors, model
from sandbox.errors import ApiError
from sandbox.store import Tx

VISMA_RATE_LIMIT = 600
WINDOW_SECONDS = 60.0
DROP_SCOPE_KEY = "sandbox.drop_connection"


def check_rate_limit(tx: Tx, company: dict[str, Any], client_id: str, path: str) -> None:
    behaviour = model.settings(tx)
    limit = company["faults"].get("rate_limit_per_minute") or VISMA_RATE_LIMIT
    key = f"{client_id}|{path}"
    if behaviour["rate_limit_scope"] == "client_company_url":
        key = f"{client_id}|{company['id']}|{path}"
    now = clock.now_ts(tx)
    hits = tx.rate_hits(key, now - WINDOW_SECONDS)
    if len(hits) >= limit:
        wait = max(1, math.ceil(hits[len(hits) - limit] + WINDOW_SECONDS - now))
        headers = {"Retry-After": str(wait)} if behaviour["retry_after_header"] else {}
        tx.bump("rate_limited", path)
        raise ApiError(429, 4010, errors.msg_429(limit, wait), headers=headers)
    tx.rate_add(key, now)


async def apply_latency(company: dict[str, Any]) -> None:
    ms = company["faults"].get("latency_ms") or 0
    if ms > 0:
        await asyncio.sleep(ms / 1000)


def check_http_error(company: dict[str, Any]) -> None:
    status = company["faults"].get("http_error")
    if status == 500:
        raise ApiError(500, 5000, errors.MSG_500)
    if status == 503:
        raise ApiError(503, 5001, errors.MSG_503)


def validate_faults(patch: dict[str, Any]) -> dict[str, Any]:
    """Check an admin faults patch; raises ValueError with a message saying what is wrong."""
    out: dict[str, Any] = {}
    for key, value in patch.items():
        if key == "latency_ms":
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError("latency_ms must be a whole number of milliseconds, 0 or more")
        elif key == "rate_limit_per_minute":
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
                raise ValueError("rate_limit_per_minute must be a whole number, 1 or more, or null for Visma's 600")
        elif key == "http_error":
            if value not in (None, 500, 503):
                raise ValueError("http_error must be 500, 503 or null")
        elif key == "commit_then_drop":
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError("commit_then_drop must be a whole number, 0 or more")
        else:
            raise ValueError(f"unknown fault {key!r}; known: latency_ms, rate_limit_per_minute, http_error, "
                             "commit_then_drop")
        out[key] = value
    return out

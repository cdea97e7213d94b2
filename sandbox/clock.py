"""The sandbox clock: real UTC time plus an offset kept in the store.

Why: codes live 5 minutes, access tokens an hour and refresh tokens 30 days; tests and demos move time forward with
``POST /_sandbox/clock {"advance_seconds": N}`` instead of sleeping. The offset lives in the database so that every
process sharing a ``--db`` file sees the same time.
"""

from __future__ import annotations

import time
from datetime import UTC, date, datetime

from sandbox.store import Tx

OFFSET_KEY = "clock_offset_seconds"


def now_ts(tx: Tx) -> float:
    """Seconds since the epoch on the sandbox clock."""
    return time.time() + float(tx.setting(OFFSET_KEY, 0.0))


def now(tx: Tx) -> datetime:
    return datetime.fromtimestamp(now_ts(tx), tz=UTC)


def today(tx: Tx) -> date:
    return now(tx).date()


def advance(tx: Tx, seconds: float) -> float:
    offset = float(tx.setting(OFFSET_KEY, 0.0)) + float(seconds)
    tx.set_setting(OFFSET_KEY, offset)
    return offset


def iso(ts: float | datetime) -> str:
    """RFC 3339 UTC with a ``Z``, the form the spec's ``format: date-time`` accepts (visma-eaccounting.md §4)."""
    dt = ts if isinstance(ts, datetime) else datetime.fromtimestamp(ts, tz=UTC)
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_date(d: date | str) -> str:
    """A calendar date as the API sends it: midnight UTC, ``2026-01-01T00:00:00Z``."""
    return f"{d if isinstance(d, str) else d.isoformat()}T00:00:00Z"

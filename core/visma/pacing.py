"""Fleet-wide pacing of voucher POSTs through the database: every process and machine on one database shares one
quota per (OAuth client id, URL), because Visma's limit (600 calls a minute per client and URL) is the fleet's ceiling
(DESIGN.md, "One machine and beyond"). Other calls stay on the in-process `core.visma.client.RateLimiter`.
`paced_limiter` composes the two; the runtime builds its one Visma client with it (`core.runtime.Runtime.visma`).

The scheme, and why it never admits more than ``limit`` calls in any ``window`` seconds:

* Time is cut into buckets of ``bucket`` seconds (default 1 s; ``window`` is a whole number ``n`` of buckets, default
  60). Table ``rate_limit_slot`` holds one row per (client, key, bucket start) with the number of calls granted in it.
* A grant is one short transaction of two statements:
  1. an upsert of the (client, key) **lock row** (bucket ``-1``): it takes that row's write lock, so the grants of
     one (client, key) happen one after the other across sessions, processes and machines (on SQLite the write lock
     of the database does the same);
  2. ``INSERT … SELECT … WHERE (sum of used in every bucket ≥ current − n) < limit ON CONFLICT DO UPDATE SET used =
     used + 1``: the current bucket gets one more call only if the buckets from ``n`` before the current one
     **onwards** (later ones too: another process's clock may be a little ahead) hold fewer than ``limit``. Rowcount
     1 = granted. On PostgreSQL (READ COMMITTED) this statement takes its snapshot after statement 1 got the lock,
     so it sees every earlier grant; a fixed window with a plain conditional UPDATE would not be enough, as two
     adjacent fixed windows admit 2 × limit across their boundary, and a sum over other rows re-checked by a
     concurrent UPDATE is evaluated on a stale snapshot in PostgreSQL.
* Proof: any span of ``window`` seconds lies within ``n + 1`` consecutive buckets ``s … s+n``. Take the grant in those
  buckets that was made last (grants are serialized by the lock); its bucket ``c ≤ s+n`` so ``c − n ≤ s``, and its
  check counted every earlier grant in buckets ``≥ c − n`` — all the others in ``s … s+n`` — and admitted only if
  they were fewer than ``limit``. So the span holds at most ``limit`` grants. (Hence the sum over ``n + 1`` buckets:
  a bucket stays counted up to ``window + bucket`` seconds; the cost is at most one bucket's worth of headroom.)
* The guarantee is in the buckets' clock (each process's ``time.time()``); clocks kept by NTP differ by milliseconds,
  and the default limit 570 (Visma admits 600) leaves room for that and for network jitter.
* Unlike a token bucket (which admits its capacity plus a minute's refill, up to 2 × 570, in one 60-s span), a full
  burst of ``limit`` calls goes out at once and the next call waits until the burst's buckets leave the window.
* A denied caller sleeps until the next bucket starts and asks again (one cheap transaction a second per waiting
  thread). Buckets older than ``2 × window`` are deleted every ``prune_every`` grants of a limiter.
"""

from __future__ import annotations

import hashlib
import math
import threading
import time
from collections.abc import Callable, Collection, Hashable

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from core.db.models import RateLimitSlot
from core.visma.client import RateLimiter

__all__ = ["VOUCHER_POST", "FleetRateLimiter", "PacedLimiter", "paced_limiter"]

VOUCHER_POST = ("POST", "/vouchers")  # the key `VismaClient` passes for ``POST /v2/vouchers``

LOCK_BUCKET = -1  # the lock row's bucket (written literally below); real buckets start at epoch ms ≥ 0

# The table is `RateLimitSlot` (rate_limit_slot); written out, as the statements are fixed text with bound values.
_LOCK_SQL = sa.text(
    "INSERT INTO rate_limit_slot (client_id, path_key, bucket_start_ms, used) VALUES (:client, :key, -1, 1) "
    "ON CONFLICT (client_id, path_key, bucket_start_ms) DO UPDATE SET used = rate_limit_slot.used + 1"
)
_GRANT_SQL = sa.text(
    "INSERT INTO rate_limit_slot (client_id, path_key, bucket_start_ms, used) "
    "SELECT CAST(:client AS VARCHAR(100)), CAST(:key AS VARCHAR(100)), CAST(:bucket AS BIGINT), 1 "
    "WHERE (SELECT COALESCE(SUM(used), 0) FROM rate_limit_slot WHERE client_id = :client AND path_key = :key "
    "AND bucket_start_ms >= :since) < :limit "
    "ON CONFLICT (client_id, path_key, bucket_start_ms) DO UPDATE SET used = rate_limit_slot.used + 1"
)
_PRUNE_SQL = sa.text(
    "DELETE FROM rate_limit_slot WHERE client_id = :client AND path_key = :key AND bucket_start_ms >= 0 "
    "AND bucket_start_ms < :before"
)
assert RateLimitSlot.__tablename__ == "rate_limit_slot"


def key_name(key: Hashable) -> str:
    """``("POST", "/vouchers")`` → ``"POST /vouchers"``: the path key stored in the table."""
    if isinstance(key, tuple):
        return _fit(" ".join(str(k) for k in key))
    return "" if key is None else _fit(str(key))


def _fit(text: str) -> str:
    """The column holds 100 characters; a longer id or key is stored as its SHA-256 (still one per id)."""
    return text if len(text) <= 100 else hashlib.sha256(text.encode()).hexdigest()


class FleetRateLimiter:
    """At most ``limit`` grants per (client_id, key) in any ``window`` seconds, across every process on ``engine``.

    ``acquire(key) -> seconds waited`` like `client.RateLimiter`. ``clock`` returns epoch seconds (shared by the
    processes, so not ``time.monotonic``); tests inject ``clock`` and ``sleep``.
    """

    def __init__(
        self,
        engine: Engine,
        client_id: str,
        *,
        limit: int = 570,
        window: float = 60.0,
        bucket: float = 1.0,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        prune_every: int = 200,
    ) -> None:
        if limit <= 0 or window <= 0 or bucket <= 0:
            raise ValueError("limit, window and bucket must be positive")
        self.buckets = round(window / bucket)
        if abs(self.buckets * bucket - window) > 1e-9:
            raise ValueError("window must be a whole number of buckets")
        self.engine = engine
        self.client_id = _fit(client_id)
        self.limit = limit
        self.window = window
        self.bucket_ms = round(bucket * 1000)
        if self.bucket_ms <= 0:
            raise ValueError("bucket must be at least 1 ms")
        self._clock = clock
        self._sleep = sleep
        self._prune_every = prune_every
        self._grants = 0
        self._count_lock = threading.Lock()

    def try_acquire(self, key: Hashable = None) -> tuple[bool, float]:
        """One attempt: (granted, the clock value it was decided at)."""
        now = self._clock()
        start = math.floor(now * 1000 / self.bucket_ms) * self.bucket_ms
        params = {"client": self.client_id, "key": key_name(key)}
        with self.engine.begin() as conn:
            conn.execute(_LOCK_SQL, params)
            granted = conn.execute(_GRANT_SQL, {**params, "bucket": start, "limit": self.limit,
                                                "since": start - self.buckets * self.bucket_ms}).rowcount == 1
            if granted and self._prune_due():
                conn.execute(_PRUNE_SQL, {**params, "before": start - 2 * self.buckets * self.bucket_ms})
        return granted, now

    def _prune_due(self) -> bool:
        with self._count_lock:
            self._grants += 1
            return (self._grants - 1) % self._prune_every == 0

    def acquire(self, key: Hashable = None) -> float:
        """Take one slot, sleeping until one is free; returns the seconds waited."""
        waited = 0.0
        while True:
            granted, now = self.try_acquire(key)
            if granted:
                return waited
            next_start = (math.floor(now * 1000 / self.bucket_ms) + 1) * self.bucket_ms / 1000
            wait = max(next_start - now, 0.001)
            self._sleep(wait)
            waited += wait


class PacedLimiter:
    """The pacing of ``rt.visma``: the given ``keys`` (voucher POSTs) go through the fleet limiter, every other call
    through the process's own token bucket."""

    def __init__(self, fleet: FleetRateLimiter, local, keys: Collection[Hashable]) -> None:
        self.fleet = fleet
        self.local = local
        self.keys = frozenset(keys)

    def acquire(self, key: Hashable = None) -> float:
        if key in self.keys:
            return self.fleet.acquire(key)
        return self.local.acquire(key)


# One in-process bucket per OAuth client id, shared by every runtime of the process (Visma counts per client id).
_LOCAL: dict[str, RateLimiter] = {}
_LOCAL_LOCK = threading.Lock()


def paced_limiter(engine: Engine, client_id: str) -> PacedLimiter:
    """The pacing of one OAuth client id: voucher POSTs through the database-wide `FleetRateLimiter`, every other
    call through this process's one `RateLimiter` for that client id."""
    with _LOCAL_LOCK:
        local = _LOCAL.setdefault(client_id, RateLimiter())
    return PacedLimiter(FleetRateLimiter(engine, client_id), local, keys={VOUCHER_POST})

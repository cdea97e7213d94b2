"""Fleet-wide pacing of voucher POSTs through the database (`core.visma.pacing`), on SQLite and PostgreSQL: the grant is
conditional under concurrency, never admits more than the limit in any window span (threads, and two processes), and
the export path posts vouchers through it."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from core.db.engine import make_engine, session_scope
from core.db.models import RateLimitSlot
from core.export import send as export
from core.visma.client import RateLimiter
from core.visma.pacing import FleetRateLimiter, PacedLimiter
from tests.support.export import ACTOR, setup_company

ROOT = Path(__file__).resolve().parents[2]

T0 = 1_800_000_000.0  # a whole second, far from any real clock (the tests use their own client ids too)


def _max_in_any_span(times: list[float], span: float) -> int:
    """The most grants in any half-open span [t, t + span) (enough to check at each grant)."""
    times = sorted(times)
    best, j = 0, 0
    for i, t in enumerate(times):
        while j < len(times) and times[j] < t + span:
            j += 1
        best = max(best, j - i)
    return best


def _used(engine, client: str) -> dict[int, int]:
    with engine.connect() as conn:
        rows = conn.execute(sa.select(RateLimitSlot.bucket_start_ms, RateLimitSlot.used)
                            .where(RateLimitSlot.client_id == client, RateLimitSlot.bucket_start_ms >= 0)).all()
    return dict(rows)


def test_a_full_window_waits_until_its_buckets_leave_it(engine):
    now = [T0]
    slept: list[float] = []

    def sleep(s: float) -> None:
        slept.append(s)
        now[0] += s

    limiter = FleetRateLimiter(engine, "client-a", limit=5, window=60, bucket=1, clock=lambda: now[0], sleep=sleep)
    for _ in range(5):
        assert limiter.acquire(("POST", "/vouchers")) == 0.0
    assert limiter.acquire(("GET", "/accounts")) == 0.0  # another URL has its own quota
    now[0] += 30.5
    # Buckets T0 … T0+60 are all counted: the 6th call waits until T0's bucket has left (now ≥ T0 + 61 s).
    waited = limiter.acquire(("POST", "/vouchers"))
    assert now[0] == pytest.approx(T0 + 61) and waited == pytest.approx(61 - 30.5)
    with engine.connect() as conn:
        per_key = dict(conn.execute(sa.select(RateLimitSlot.path_key, sa.func.sum(RateLimitSlot.used))
                                    .where(RateLimitSlot.client_id == "client-a", RateLimitSlot.bucket_start_ms >= 0)
                                    .group_by(RateLimitSlot.path_key)).all())
    assert per_key == {"POST /vouchers": 6, "GET /accounts": 1}


def test_old_buckets_are_pruned(engine):
    now = [T0]
    limiter = FleetRateLimiter(engine, "client-p", limit=100, window=2, bucket=1, clock=lambda: now[0],
                               prune_every=1)
    for _ in range(10):
        limiter.acquire("k")
        now[0] += 1
    # Each grant deletes buckets older than 2 windows (4 s) before its own.
    assert sorted(_used(engine, "client-p")) == [int((T0 + s) * 1000) for s in range(5, 10)]


@pytest.mark.parametrize("spread", [0.0, 1.5], ids=["one-bucket", "across-buckets"])
def test_twenty_threads_never_exceed_the_limit(engine, spread):
    """20 threads ask at once (each with its own clock: the same instant, or spread over neighbouring buckets as skewed
    clocks would be): at most ``limit`` grants in the window, and exactly ``limit`` when all ask in one bucket."""
    limit = 7
    barrier = threading.Barrier(20)
    granted: list[float] = []
    lock = threading.Lock()

    def worker(i: int) -> None:
        t = T0 + spread * i / 19
        limiter = FleetRateLimiter(engine, f"client-t-{spread}", limit=limit, window=60, bucket=1, clock=lambda: t)
        barrier.wait()
        for _ in range(2):
            ok, at = limiter.try_acquire(("POST", "/vouchers"))
            if ok:
                with lock:
                    granted.append(at)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(20)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert len(granted) == limit
    assert sum(_used(engine, f"client-t-{spread}").values()) == limit


def _process_main(url: str, client: str, n: int) -> list[float]:
    """One sender process: ``n`` grants in real time through its own engine; the clock value of each."""
    engine = make_engine(url)
    local = threading.local()

    def clock() -> float:
        local.t = time.time()
        return local.t

    limiter = FleetRateLimiter(engine, client, limit=5, window=0.5, bucket=0.05, clock=clock)
    times = []
    try:
        for _ in range(n):
            limiter.acquire(("POST", "/vouchers"))
            times.append(local.t)
    finally:
        engine.dispose()
    return times


# Plain subprocesses, not multiprocessing: a spawned child re-runs the parent's __main__, which AppTest (run earlier in
# the same pytest worker) leaves pointing at app.py.
_CHILD = "import json, sys; from tests.integration.test_rate_limit import _process_main; " \
         "print(json.dumps(_process_main(sys.argv[1], sys.argv[2], int(sys.argv[3]))))"


def test_two_processes_never_admit_more_than_the_limit_in_any_window(database_url):
    """Two processes, real time, 5 grants per 0.5 s in 50 ms buckets: over all 24 grants, no 0.5-s span holds
    more than 5, and the fleet is held back (the processes share the quota rather than each taking 5)."""
    client = f"client-proc-{time.time_ns()}"
    procs = [subprocess.Popen([sys.executable, "-c", _CHILD, database_url, client, "12"], cwd=ROOT,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = [p.communicate(timeout=120) for p in procs]
    for p, (_out, err) in zip(procs, outputs, strict=True):
        assert p.returncode == 0, err[-2000:]
    times = [t for out, _err in outputs for t in json.loads(out.strip().splitlines()[-1])]
    assert len(times) == 24
    assert _max_in_any_span(times, 0.5) <= 5, sorted(times)
    # 24 grants at ≤ 5 per 0.55 s (a window plus a bucket) need at least four full windows after the first burst.
    assert max(times) - min(times) >= 4 * 0.5


def test_export_posts_vouchers_through_the_fleet_limiter(rt, sandbox):
    limiter = rt.visma.rate_limiter
    assert isinstance(limiter, PacedLimiter) and isinstance(limiter.local, RateLimiter)
    assert limiter.fleet.engine is rt.engine and limiter.fleet.limit == 570 and limiter.fleet.window == 60
    s = setup_company(rt, periods=(1, 2))
    for run_id in s.run_ids:
        assert export.send_run(rt, run_id, actor=ACTOR).outcome == "sent"
    with rt.engine.connect() as conn:
        rows = conn.execute(sa.select(RateLimitSlot.path_key, sa.func.sum(RateLimitSlot.used))
                            .where(RateLimitSlot.client_id == rt.settings.client_id,
                                   RateLimitSlot.bucket_start_ms >= 0)
                            .group_by(RateLimitSlot.path_key)).all()
    assert dict(rows) == {"POST /vouchers": 2}  # GETs (chart, fiscal years) stay on the in-process bucket


class _Recording:
    """Passes every call on to the real bucket and remembers its key."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.keys: list = []

    def acquire(self, key=None) -> float:
        self.keys.append(key)
        return self.inner.acquire(key)


def test_a_get_before_any_export_is_paced_like_one_after(rt, sandbox):
    """The runtime builds its Visma client paced: nothing an export does changes how (or whether) a GET is paced."""
    from core.accounts.sessions import visma_session
    from core.export.context import load_run_context

    limiter = rt.visma.rate_limiter
    assert isinstance(limiter, PacedLimiter) and isinstance(limiter.local, RateLimiter)
    limiter.local = recording = _Recording(limiter.local)
    s = setup_company(rt, periods=(1,))
    with session_scope(rt.engine) as session:
        account_id = load_run_context(session, s.run_ids[0])[2].account_id
    vs = visma_session(rt, account_id)
    year = vs.fiscal_years()[0].id

    def paced_keys_of_a_lookup() -> list:
        recording.keys.clear()
        vs.find_vouchers_by_text(year, "no such marker")  # an uncached GET
        return list(recording.keys)

    before = paced_keys_of_a_lookup()  # before any export in this runtime
    assert before and all(k[0] == "GET" for k in before)
    assert export.send_run(rt, s.run_ids[0], actor=ACTOR).outcome == "sent"
    assert rt.visma.rate_limiter is limiter and limiter.local is recording  # the export installed nothing
    assert paced_keys_of_a_lookup() == before

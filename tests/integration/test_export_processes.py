"""Several processes over one database and the sandbox, as real `python -m core` commands: two ``export --pending``
contending for the same runs, two ``worker --once`` over the same automatic runs, and a sender killed (SIGKILL) while
its POST is held by the sandbox. After each: every voucher exists once in Visma, no run is lost."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import sqlalchemy as sa

from core.db.engine import session_scope
from core.db.models import ExportAttempt, PayrollRun
from core.export import send as export
from core.export import views
from core.export.claims import LEASE
from core.export.worker import run_once
from tests.support.export import (
    ACTOR,
    api_calls,
    marker_counts,
    reset_stats,
    sandbox_vouchers,
    set_faults,
    setup_company,
)
from tests.support.runtime import runtime_env

ROOT = Path(__file__).resolve().parents[2]
CONTENDED = ("Another sender claimed", "Being sent right now", "Already sent")


def _env(rt, sandbox, database_url, tmp_path) -> dict:
    return {**os.environ, **runtime_env(sandbox.url, database_url, tmp_path / "data",
                                        key=rt.settings.token_encryption_key)}


def _spawn(env: dict, *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "core", *args], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def _finish(procs: list[subprocess.Popen]) -> list[str]:
    outputs = [p.communicate(timeout=180) for p in procs]
    for (_out, err), p in zip(outputs, procs, strict=True):
        assert "Traceback" not in err and p.returncode in (0, 1), err
    return [out for out, _err in outputs]


def _posts_per_run(rt) -> dict[int, int]:
    """How many POSTs each run's attempts record (a POST whose connection dropped counts: it reached Visma)."""
    with session_scope(rt.engine) as session:
        rows = session.execute(sa.select(ExportAttempt.run_id, sa.func.count()).where(ExportAttempt.kind == "post")
                               .group_by(ExportAttempt.run_id)).all()
    return {run_id: n for run_id, n in rows}


def test_two_processes_contend_for_the_same_runs_and_each_is_posted_once(rt, sandbox, database_url,
                                                                          tmp_path):
    # One company, so both processes walk the same runs in the same order; latency on every call keeps each POST in
    # flight long enough for the other process to reach the same run while it is being sent.
    s = setup_company(rt, "BAKKERIJ-DGK", periods=(1, 2, 3, 4, 5, 6))
    set_faults(sandbox.url, s.visma_company_id, latency_ms=400, commit_then_drop=1)
    reset_stats(sandbox.url)
    env = _env(rt, sandbox, database_url, tmp_path)
    procs = [_spawn(env, "export", "--pending", "--json", "--concurrency", "4") for _ in range(2)]
    summaries = [json.loads(out) for out in _finish(procs)]
    for summary in summaries:
        assert {"sent", "failed", "skipped", "results"} <= set(summary)

    handled = [{r["run_id"]: r for r in s_["results"]} for s_ in summaries]
    both = set(handled[0]) & set(handled[1])
    # Contention: both processes went for at least one of the same runs ...
    assert both, handled
    for run_id in both:
        outcomes = sorted(h[run_id]["outcome"] for h in handled)
        # ... and for each such run exactly one of them posted (or reconciled) it, the other stood back.
        assert outcomes in (["reconciled", "skipped"], ["sent", "skipped"]), (run_id, handled)
        loser = next(h[run_id] for h in handled if h[run_id]["outcome"] == "skipped")
        assert any(text in loser["message"] for text in CONTENDED), loser
    # At least once the loser arrived while the winner's POST was in flight (not merely after it had finished).
    assert any(CONTENDED[0] in h[i]["message"] or CONTENDED[1] in h[i]["message"]
               for h in handled for i in both if h[i]["outcome"] == "skipped"), handled
    winners = [r["run_id"] for h in handled for r in h.values() if r["outcome"] in ("sent", "reconciled")]
    assert sorted(winners) == sorted(s.run_ids)  # each run posted by exactly one process
    # From the database and from Visma: one POST per run (the dropped one was looked up, not posted again).
    assert _posts_per_run(rt) == {i: 1 for i in s.run_ids}
    assert api_calls(sandbox.url)["api_calls"].get("POST /v2/vouchers") == len(s.run_ids)
    counts = marker_counts(sandbox.url, s.visma_company_id)
    assert len(counts) == len(s.run_ids) and set(counts.values()) == {1}
    assert [r.status for r in views.list_runs(rt)] == ["sent"] * len(s.run_ids)
    assert sum(r["outcome"] == "reconciled" for h in handled for r in h.values()) == 1


def test_two_workers_at_once_send_automatic_runs_once_and_leave_manual_ones(rt, sandbox, database_url,
                                                                           tmp_path):
    from core.mappings.companies import set_auto_send

    auto = setup_company(rt, "BAKKERIJ-DGK", periods=(1, 2, 3, 4, 5, 6))
    manual = setup_company(rt, "TRANSPORT-VISSER", periods=(1, 2))
    set_auto_send(rt, auto.code, True, actor=ACTOR)
    set_faults(sandbox.url, auto.visma_company_id, latency_ms=400, commit_then_drop=1)
    reset_stats(sandbox.url)
    env = _env(rt, sandbox, database_url, tmp_path)
    procs = [_spawn(env, "worker", "--once", "--json") for _ in range(2)]
    totals = [json.loads(out) for out in _finish(procs)]
    assert all(t["rounds"] == 1 and t["failed"] == 0 and t["unknown"] == 0 for t in totals), totals
    assert sum(t["sent"] for t in totals) == len(auto.run_ids)  # between them, each automatic run once
    # Both workers went for the same runs; for each, exactly one of them posted it.
    handled = [{r["run_id"]: r for r in t["results"]} for t in totals]
    assert set(handled[0]) & set(handled[1]), handled
    winners = [r["run_id"] for h in handled for r in h.values() if r["outcome"] in ("sent", "reconciled")]
    assert sorted(winners) == sorted(auto.run_ids)
    assert _posts_per_run(rt) == {i: 1 for i in auto.run_ids}
    assert api_calls(sandbox.url)["api_calls"].get("POST /v2/vouchers") == len(auto.run_ids)
    counts = marker_counts(sandbox.url, auto.visma_company_id)
    assert len(counts) == len(auto.run_ids) and set(counts.values()) == {1}
    # Automatic sending is per mapping: the manual company's runs were not touched.
    assert sandbox_vouchers(sandbox.url, manual.visma_company_id) == []
    assert not {r["run_id"] for h in handled for r in h.values()} & set(manual.run_ids)
    statuses = {r.id: r.status for r in views.list_runs(rt)}
    assert [statuses[i] for i in auto.run_ids] == ["sent"] * len(auto.run_ids)
    assert [statuses[i] for i in manual.run_ids] == ["not_sent"] * len(manual.run_ids)


def _run(rt, run_id):
    with session_scope(rt.engine) as session:
        return session.get(PayrollRun, run_id)


def _wait(predicate, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("timed out waiting")


def test_sender_killed_mid_post_is_recovered_by_reconciliation(rt, sandbox, database_url, tmp_path,
                                                               clock):
    s = setup_company(rt, periods=(3, 4))
    killed, other = s.run_ids
    set_faults(sandbox.url, s.visma_company_id, latency_ms=1500)
    reset_stats(sandbox.url)
    proc = _spawn(_env(rt, sandbox, database_url, tmp_path), "export", str(killed), "--json")
    try:
        # The POST has reached the sandbox (it counts the call before holding it for the latency): kill the sender.
        _wait(lambda: api_calls(sandbox.url)["api_calls"].get("POST /v2/vouchers"))
        assert _run(rt, killed).status == "sending"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    # The sandbox finishes the request it had received (Visma would too): the voucher exists, nobody recorded it.
    _wait(lambda: sandbox_vouchers(sandbox.url, s.visma_company_id))
    set_faults(sandbox.url, s.visma_company_id, latency_ms=0)
    run = _run(rt, killed)
    assert run.status == "sending" and run.claimed_by and run.voucher_id is None
    assert views.run_history(rt, killed) == []  # the process died before it could write its attempt

    # Within the lease the dead sender's claim is respected: no look-up, no POST, by anyone.
    reset_stats(sandbox.url)
    early = run_once(rt, actor=ACTOR)
    assert killed not in {r.run_id for r in early.results}
    assert sum(api_calls(sandbox.url)["api_calls"].values()) == 0
    assert _run(rt, other).status == "not_sent"  # not automatic: the worker leaves it; bulk sends it below

    # After the lease the run is never left 'sending': the worker makes it 'unconfirmed' and checks its marker in
    # Visma: found → sent, not re-posted.
    clock.advance(LEASE.total_seconds() + 1, sandbox=False)
    reset_stats(sandbox.url)
    late = run_once(rt, actor=ACTOR)
    outcome = {r.run_id: r.outcome for r in late.results}
    assert outcome == {killed: "confirmed_sent"}
    assert api_calls(sandbox.url)["api_calls"].get("POST /v2/vouchers", 0) == 0
    run = _run(rt, killed)
    vouchers = sandbox_vouchers(sandbox.url, s.visma_company_id)
    assert run.status == "sent" and [v["Id"] for v in vouchers] == [run.voucher_id]
    assert [(h.kind, h.outcome) for h in views.run_history(rt, killed)] == [("reconcile", "reconciled")]
    assert export.send_pending(rt, actor=ACTOR).sent == 1
    assert set(marker_counts(sandbox.url, s.visma_company_id).values()) == {1}

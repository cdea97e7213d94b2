"""Exactly-once under faults, against the sandbox over HTTP: a dropped connection after commit, 5xx, timeouts, 429
and a crash that left a run ``sending``. After each: no duplicate voucher in Visma, no run lost."""

from __future__ import annotations

import time

import httpx
import sqlalchemy as sa

from core.db.engine import session_scope
from core.db.models import PayrollCompany, PayrollRun
from core.export import send as export
from core.export import views
from core.export.claims import LEASE
from core.export.job import ExportOptions
from core.export.texts import export_marker
from core.payroll.store import load_run_data
from tests.support.export import (
    ACTOR,
    api_calls,
    fast_client,
    marker_counts,
    reset_stats,
    sandbox_vouchers,
    set_faults,
    setup_company,
)

LEASE_PLUS = LEASE.total_seconds() + 1


def _run(rt, run_id):
    with session_scope(rt.engine) as session:
        return session.get(PayrollRun, run_id)


def _history(rt, run_id):
    return [(h.kind, h.outcome) for h in views.run_history(rt, run_id)]


def _exactly_once(sandbox_url, s):
    counts = marker_counts(sandbox_url, s.visma_company_id)
    assert set(counts.values()) <= {1}, counts
    return counts


def test_commit_then_drop_is_reconciled_not_reposted(rt, sandbox):
    s = setup_company(rt, periods=(3, 4))
    set_faults(sandbox.url, s.visma_company_id, commit_then_drop=1)
    result = export.send_run(rt, s.run_ids[0], actor=ACTOR)
    assert result.outcome == "reconciled" and result.status == "sent"
    assert _history(rt, s.run_ids[0]) == [("post", "unknown"), ("reconcile", "reconciled")]
    vouchers = sandbox_vouchers(sandbox.url, s.visma_company_id)
    assert len(vouchers) == 1 and _run(rt, s.run_ids[0]).voucher_id == vouchers[0]["Id"]
    assert export.send_pending(rt, actor=ACTOR).sent == 1  # the other run; the reconciled one is not re-sent
    assert len(_exactly_once(sandbox.url, s)) == 2


def test_5xx_keeps_the_run_until_the_lookup_says_it_is_not_in_visma(rt, sandbox):
    fast_client(rt)
    s = setup_company(rt, periods=(3,))
    run_id = s.run_ids[0]
    set_faults(sandbox.url, s.visma_company_id, http_error=500)
    first = export.send_run(rt, run_id, actor=ACTOR)
    # Visma is down for the look-up too: the outcome is unknown, the run is 'unconfirmed', nothing is re-posted.
    assert (first.outcome, first.status) == ("unknown", "unconfirmed") and _run(rt, run_id).status == "unconfirmed"
    assert "may or may not be booked" in _run(rt, run_id).error_message
    second = export.send_pending(rt, actor=ACTOR)
    assert second.unknown == 1 and second.sent == 0
    set_faults(sandbox.url, s.visma_company_id, http_error=503)
    assert export.send_run(rt, run_id, actor=ACTOR).outcome == "unknown"
    set_faults(sandbox.url, s.visma_company_id, http_error=None)
    reset_stats(sandbox.url)
    third = export.send_pending(rt, actor=ACTOR)
    assert third.sent == 1
    calls = api_calls(sandbox.url)["api_calls"]
    assert calls.get("POST /v2/vouchers") == 1  # looked up first, then posted once
    assert len(_exactly_once(sandbox.url, s)) == 1
    kinds = _history(rt, run_id)
    assert kinds[0] == ("post", "unknown") and kinds[-2:] == [("reconcile", "not_found"), ("post", "sent")]


def test_5xx_answer_then_lookup_not_found_is_a_transient_failure(rt, sandbox, monkeypatch):
    """Visma answered 5xx (request finished) and the look-up succeeds: not in Visma → failed, retried later."""
    s = setup_company(rt, periods=(3,))
    run_id = s.run_ids[0]
    from core.visma.client import VismaClient, VismaError

    def failing_post(self, token, body):
        raise VismaError("InternalServerError - An unexpected error occurred.", status=500, error_code=5000,
                         error_id="e1", method="POST", path="/v2/vouchers", outcome_unknown=True)

    monkeypatch.setattr(VismaClient, "create_voucher", failing_post)
    r = export.send_run(rt, run_id, actor=ACTOR)
    assert (r.outcome, r.entry_id, r.status) == ("failed", "visma-unavailable", "failed")
    monkeypatch.undo()
    # Transient: bulk (and the worker, after its backoff) sends it again with the same marker.
    assert export.send_pending(rt, actor=ACTOR, options=ExportOptions(respect_backoff=True)).sent == 0
    assert export.send_pending(rt, actor=ACTOR).sent == 1
    assert len(_exactly_once(sandbox.url, s)) == 1


def test_timeout_waits_for_the_lease_before_reconciling(rt, sandbox, clock):
    fast_client(rt, timeout=httpx.Timeout(0.3, connect=2.0), max_retries=0)
    s = setup_company(rt, periods=(3,))
    run_id = s.run_ids[0]
    set_faults(sandbox.url, s.visma_company_id, latency_ms=700)
    started = time.monotonic()
    r = export.send_run(rt, run_id, actor=ACTOR)
    assert r.outcome == "unknown" and _run(rt, run_id).status == "unconfirmed"
    set_faults(sandbox.url, s.visma_company_id, latency_ms=0)
    # The slow POST may still be processed by Visma: no one may look up and re-post before the lease runs out.
    reset_stats(sandbox.url)
    assert export.send_run(rt, run_id, actor=ACTOR).outcome == "skipped"
    assert export.send_pending(rt, actor=ACTOR).sent == 0
    assert api_calls(sandbox.url)["api_calls"].get("POST /v2/vouchers", 0) == 0
    # Let the sandbox finish the slow request in the background (it stores the voucher or drops it on the
    # client's disconnect); whichever it did, the reconcile after the lease must end with exactly one voucher.
    time.sleep(max(0.0, 0.9 - (time.monotonic() - started)))
    clock.advance(LEASE_PLUS, sandbox=False)
    after = export.send_pending(rt, actor=ACTOR)
    assert after.sent == 1
    assert len(_exactly_once(sandbox.url, s)) == 1
    assert _run(rt, run_id).status == "sent"


def test_429_fails_transiently_and_is_retried_without_duplicates(rt, sandbox, clock):
    fast_client(rt)
    s = setup_company(rt, periods=(1, 2, 3))
    set_faults(sandbox.url, s.visma_company_id, rate_limit_per_minute=1)
    summary = export.send_pending(rt, actor=ACTOR)
    assert summary.sent == 1 and summary.failed == 2
    assert {r.entry_id for r in summary.results if r.outcome == "failed"} == {"rate-limited"}
    assert len(_exactly_once(sandbox.url, s)) == 1
    # The worker waits its backoff; then, with Visma's window moved on, the runs go through one a minute.
    assert export.send_pending(rt, actor=ACTOR, auto_only=False,
                               options=ExportOptions(respect_backoff=True)).sent == 0
    for _ in range(2):
        clock.advance(121)  # past the backoff (1, then 2 minutes) and Visma's 60-second window
        export.send_pending(rt, actor=ACTOR, options=ExportOptions(respect_backoff=True))
    statuses = [_run(rt, i).status for i in s.run_ids]
    assert statuses == ["sent", "sent", "sent"]
    assert len(_exactly_once(sandbox.url, s)) == 3


def _crash_while_sending(rt, run_id, *, post_first: bool):
    """What a process that died mid-send leaves: the run claimed by a dead sender, maybe its voucher in Visma."""
    from core.accounts.sessions import visma_session
    from core.export.context import load_context
    from core.export.job import SendJob
    from core.export.send import _Sender

    with session_scope(rt.engine) as session:
        run = session.get(PayrollRun, run_id)
        company = session.get(PayrollCompany, run.company_id)
        data = load_run_data(session, run, company.code)
        ctx = load_context(session, company)
    marker = export_marker(data, generation=run.generation - 1)
    with session_scope(rt.engine) as session:
        session.execute(sa.update(PayrollRun).where(PayrollRun.id == run_id).values(
            status="sending", claimed_by="dead-host:4242:abc", claimed_at=clock_now(), marker=marker,
            attempt_count=1))
    if post_first:
        sender = _Sender(rt, actor=ACTOR, options=ExportOptions())
        job = SendJob(run, ctx, data, vs=visma_session(rt, ctx.account_id), marker=marker)
        sender.build(job, sender.chart(ctx, job.vs))
        job.vs.create_voucher(job.body)


def clock_now():
    from core.db import models

    return models.utcnow()


def test_crash_while_sending_is_recovered_after_the_lease(rt, sandbox, clock):
    s = setup_company(rt, periods=(3, 4))
    posted, lost = s.run_ids
    _crash_while_sending(rt, posted, post_first=True)  # died after Visma stored the voucher
    _crash_while_sending(rt, lost, post_first=False)  # died before the POST left
    assert len(sandbox_vouchers(sandbox.url, s.visma_company_id)) == 1
    early = export.send_pending(rt, actor=ACTOR)
    assert early.skipped == 0 and early.total == 0  # the claims are still within their lease
    assert export.send_run(rt, posted, actor=ACTOR).outcome == "skipped"
    clock.advance(LEASE_PLUS, sandbox=False)
    summary = export.send_pending(rt, actor=ACTOR)
    outcomes = {r.run_id: r.outcome for r in summary.results}
    assert outcomes == {posted: "reconciled", lost: "sent"}
    assert len(_exactly_once(sandbox.url, s)) == 2
    assert all(_run(rt, i).status == "sent" for i in s.run_ids)


def test_503_ends_unconfirmed_then_a_check_confirms_it_once_visma_answers(rt, sandbox):
    """Visma down (503) for the POST and the look-up: 'unconfirmed', said so; checks while it is down leave it so;
    once Visma answers, one check settles it by its marker — and a send after that posts exactly one voucher."""
    from core.export.check import reconcile_runs

    fast_client(rt)
    s = setup_company(rt, periods=(3, 4))
    stored, lost = s.run_ids
    set_faults(sandbox.url, s.visma_company_id, http_error=503)
    assert export.send_run(rt, stored, actor=ACTOR).status == "unconfirmed"
    down = reconcile_runs(rt, actor=ACTOR)
    assert (down.confirmed_sent, down.confirmed_not_sent, down.still_unknown) == (0, 0, 1)
    assert _run(rt, stored).status == "unconfirmed"
    set_faults(sandbox.url, s.visma_company_id, http_error=None)

    # The other run: its POST is stored by Visma but the answer is lost (a 5xx after storing is what the
    # after_store fault does); a check finds it.
    set_faults(sandbox.url, s.visma_company_id, http_error=503)
    assert export.send_run(rt, lost, actor=ACTOR).status == "unconfirmed"
    set_faults(sandbox.url, s.visma_company_id, http_error=None)
    reset_stats(sandbox.url)
    up = reconcile_runs(rt, actor=ACTOR)
    assert api_calls(sandbox.url)["api_calls"].get("POST /v2/vouchers", 0) == 0  # a check never posts
    assert (up.confirmed_sent + up.confirmed_not_sent, up.still_unknown) == (2, 0)
    for r in up.results:
        assert _run(rt, r.run_id).status == ("sent" if r.outcome == "confirmed_sent" else "failed")
    # Not booked → failed on a passing cause: the bulk send takes it again, once.
    assert {_run(rt, i).error_entry_id for i in (stored, lost) if _run(rt, i).status == "failed"} <= {
        "visma-unavailable"}
    export.send_pending(rt, actor=ACTOR)
    assert {_run(rt, i).status for i in (stored, lost)} == {"sent"}
    assert len(_exactly_once(sandbox.url, s)) == 2


def test_reconcile_refuses_a_run_that_is_not_unconfirmed(rt, sandbox):
    from core.errors import ServiceError
    from core.export.check import reconcile_runs

    s = setup_company(rt, periods=(3,))
    try:
        reconcile_runs(rt, [s.run_ids[0]], actor=ACTOR)
    except ServiceError as err:
        assert err.code == "not-unconfirmed" and "not sent" in err.message
    else:
        raise AssertionError("a not-sent run was 'checked'")


def test_background_check_settles_an_unconfirmed_run_once_visma_answers(rt, sandbox):
    """The dashboard's background thread: nothing while Visma is down, the run settled by itself once it is up."""
    from core.export.background import BackgroundCheck

    fast_client(rt)
    s = setup_company(rt, periods=(3,))
    run_id = s.run_ids[0]
    set_faults(sandbox.url, s.visma_company_id, http_error=503)
    assert export.send_run(rt, run_id, actor=ACTOR).status == "unconfirmed"
    check = BackgroundCheck(rt, interval=0.05).start()
    try:
        deadline = time.monotonic() + 10
        while check.rounds < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _run(rt, run_id).status == "unconfirmed"  # Visma still down: left as it is
        set_faults(sandbox.url, s.visma_company_id, http_error=None)
        while _run(rt, run_id).status == "unconfirmed" and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        check.stop()
    assert _run(rt, run_id).status in ("sent", "failed")
    export.send_pending(rt, actor=ACTOR)
    assert len(_exactly_once(sandbox.url, s)) == 1


def test_background_check_interval_setting():
    import pytest

    from core.settings import ConfigurationError, parse_interval

    assert parse_interval(None) == 30.0 and parse_interval("0") == 0.0 and parse_interval("5") == 5.0
    with pytest.raises(ConfigurationError, match="RECONCILE_INTERVAL_SECONDS"):
        parse_interval("soon")

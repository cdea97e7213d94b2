"""The send path against the sandbox over HTTP: claim, post, record; article errors end ``failed`` with their entry;
re-send only on purpose; bulk with progress; one Visma call per run."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from core.db.engine import session_scope
from core.db.models import AuditEvent, ExportAttempt, PayrollRun
from core.errors import ServiceError
from core.export import send as export
from core.export import support, views
from tests.support.export import (
    ACTOR,
    api_calls,
    marker_counts,
    reset_stats,
    sandbox_vouchers,
    set_state,
    setup_company,
)


def _run(rt, run_id):
    with session_scope(rt.engine) as session:
        return session.get(PayrollRun, run_id)


def test_send_run_posts_one_balanced_voucher_and_records_the_attempt(rt, sandbox):
    s = setup_company(rt, periods=(3,))
    result = export.send_run(rt, s.run_ids[0], actor=ACTOR)
    assert result.outcome == "sent" and result.status == "sent"
    assert result.voucher_number
    run = _run(rt, s.run_ids[0])
    assert run.status == "sent" and run.voucher_id == result.voucher_id and run.claimed_by is None
    vouchers = sandbox_vouchers(sandbox.url, s.visma_company_id)
    assert len(vouchers) == 1
    assert run.marker in vouchers[0]["VoucherText"]
    assert vouchers[0]["VoucherDate"].startswith("2026-03-31")
    debit = sum(r["DebitAmount"] for r in vouchers[0]["Rows"])
    credit = sum(r["CreditAmount"] for r in vouchers[0]["Rows"])
    assert round(debit, 2) == round(credit, 2) > 0
    history = views.run_history(rt, s.run_ids[0])
    assert [(h.kind, h.outcome) for h in history] == [("post", "sent")]
    assert history[0].actor == ACTOR and history[0].duration_ms >= 0

    again = export.send_run(rt, s.run_ids[0], actor=ACTOR)
    assert again.outcome == "skipped" and again.entry_id == "voucher-already-sent"
    assert len(sandbox_vouchers(sandbox.url, s.visma_company_id)) == 1


@pytest.mark.parametrize(
    ("state", "entry"),
    [
        ("no_fiscal_year", "fiscal-year-missing"),
        ("api_module_inactive", "api-module-inactive"),
        ("ledger_empty", "ledger-empty"),
        ("period_locked", "period-locked"),
        ("year_locked", "year-locked"),
        ("read_only", "read-only-user"),
        ("inactive", "company-inactive"),
        ("no_user_access", "no-company-access"),
    ],
)
def test_article_errors_end_failed_with_their_entry(rt, sandbox, state, entry):
    s = setup_company(rt, periods=(12,) if state == "period_locked" else (3,))
    set_state(sandbox.url, s.visma_company_id, state)
    if state == "period_locked":
        # Lock through the voucher's month: the sandbox locks up to the end of the current month by default.
        import httpx

        httpx.put(f"{sandbox.url}/_sandbox/companies/{s.visma_company_id}/state",
                  json={"state": state, "locked_to": "2026-12-31"}, timeout=10).raise_for_status()
    result = export.send_run(rt, s.run_ids[0], actor=ACTOR)
    assert result.outcome == "failed", result
    assert result.entry_id == entry
    run = _run(rt, s.run_ids[0])
    assert run.status == "failed" and run.error_entry_id == entry and run.error_message
    assert sandbox_vouchers(sandbox.url, s.visma_company_id) == []
    with session_scope(rt.engine) as session:
        attempts = session.exec(sa.select(ExportAttempt).where(ExportAttempt.run_id == run.id)).scalars().all()
    assert attempts and attempts[-1].outcome == "failed" and attempts[-1].entry_id == entry


def test_inactive_account_and_inactive_cost_centre_fail_with_entries(rt, sandbox):
    from core.mappings.ledger import save_cost_center_mapping, save_ledger_mapping

    s = setup_company(rt, periods=(3, 4))
    save_ledger_mapping(rt, s.code, [{"payroll_account": "4200", "visma_account_number": 4990}], actor=ACTOR)
    r = export.send_run(rt, s.run_ids[0], actor=ACTOR)
    assert (r.outcome, r.entry_id) == ("failed", "account-not-found")
    save_ledger_mapping(rt, s.code, [], actor=ACTOR)
    save_cost_center_mapping(rt, s.code, [{"payroll_cost_center": "PROD", "visma_cost_center": "LOG"}], actor=ACTOR)
    r = export.send_run(rt, s.run_ids[1], actor=ACTOR)
    assert (r.outcome, r.entry_id) == ("failed", "cost-center-inactive")
    assert sandbox_vouchers(sandbox.url, s.visma_company_id) == []
    # Fixed: the failed run is sent explicitly, and goes through.
    save_cost_center_mapping(rt, s.code, [], actor=ACTOR)
    assert export.send_run(rt, s.run_ids[1], actor=ACTOR).outcome == "sent"


def test_unmapped_account_fails_before_any_post(rt, sandbox):
    from core.mappings.ledger import save_ledger_mapping

    s = setup_company(rt, periods=(3,))
    # A non-numeric payroll account with no row cannot become a Visma account: refused before Visma is called.
    with session_scope(rt.engine) as session:
        session.execute(sa.text("UPDATE journal_line SET ledger_account = 'LH-01' WHERE ledger_account = '1500'"))
    reset_stats(sandbox.url)
    r = export.send_run(rt, s.run_ids[0], actor=ACTOR)
    assert (r.outcome, r.entry_id) == ("failed", "account-not-mapped")
    assert api_calls(sandbox.url)["api_calls"].get("POST /v2/vouchers", 0) == 0
    save_ledger_mapping(rt, s.code, [{"payroll_account": "LH-01", "visma_account_number": 1500}], actor=ACTOR)
    assert export.send_run(rt, s.run_ids[0], actor=ACTOR).outcome == "sent"


def test_resend_needs_a_reason_and_posts_a_new_marker_with_an_audit_event(rt, sandbox):
    s = setup_company(rt, periods=(3,))
    first = export.send_run(rt, s.run_ids[0], actor=ACTOR)
    with pytest.raises(ServiceError):
        export.resend_run(rt, s.run_ids[0], reason="", actor=ACTOR)
    second = export.resend_run(rt, s.run_ids[0], reason="Visma voucher was reversed by the accountant", actor=ACTOR)
    assert second.outcome == "sent" and second.previous_voucher_number == first.voucher_number
    counts = marker_counts(sandbox.url, s.visma_company_id)
    assert len(counts) == 2 and set(counts.values()) == {1}
    with session_scope(rt.engine) as session:
        events = session.exec(sa.select(AuditEvent).where(AuditEvent.action == "run.resend")).scalars().all()
    assert len(events) == 1 and "reversed" in json.loads(events[0].detail)["reason"]
    assert _run(rt, s.run_ids[0]).generation == 2


def test_send_pending_bulk_one_post_per_run_with_progress(rt, sandbox):
    a = setup_company(rt, "BAKKERIJ-DGK", periods=(1, 2, 3))
    b = setup_company(rt, "HOVENIER-GROEN", periods=(1, 2))
    reset_stats(sandbox.url)
    seen = []
    summary = export.send_pending(rt, actor=ACTOR, progress=lambda done, total, r: seen.append((done, total)))
    assert (summary.sent, summary.failed, summary.skipped) == (5, 0, 0)
    assert seen[-1] == (5, 5) and sorted(d for d, _ in seen) == [1, 2, 3, 4, 5]
    calls = api_calls(sandbox.url)["api_calls"]
    assert sum(calls.values()) == 5, calls  # the chart came from the cache: one POST per run
    # Voucher numbers follow the periods within a company.
    runs = [_run(rt, i) for i in a.run_ids]
    numbers = [int("".join(ch for ch in r.voucher_number if ch.isdigit())) for r in runs]
    assert numbers == sorted(numbers)
    assert len(marker_counts(sandbox.url, b.visma_company_id)) == 2
    again = export.send_pending(rt, actor=ACTOR)
    assert again.total == 0


def test_bulk_skips_definite_failures_unless_asked(rt, sandbox):
    s = setup_company(rt, periods=(3,))
    set_state(sandbox.url, s.visma_company_id, "read_only")
    assert export.send_pending(rt, actor=ACTOR).failed == 1
    set_state(sandbox.url, s.visma_company_id, "ok")
    assert export.send_pending(rt, actor=ACTOR).total == 0
    assert export.send_pending(rt, actor=ACTOR, include_failed=True).sent == 1


def test_views_preview_list_bundle(rt, sandbox):
    s = setup_company(rt, periods=(3,))
    preview = views.preview_run(rt, s.run_ids[0])
    assert preview.balanced and preview.total_debit == preview.total_credit
    assert any(r.account_name == "Brutolonen" and r.cost_center for r in preview.rows)
    set_state(sandbox.url, s.visma_company_id, "year_locked")
    export.send_run(rt, s.run_ids[0], actor=ACTOR)
    runs = views.list_runs(rt, company_code=s.code)
    assert runs[0].status == "failed" and runs[0].error_entry_id == "year-locked"
    bundle = support.support_bundle(rt, s.run_ids[0])
    assert bundle["visma_error_id"] and bundle["entry"]["id"] == "year-locked"
    assert bundle["voucher_sent"]["VoucherText"] == preview.voucher_text
    text = json.dumps(bundle).lower()
    assert "bearer" not in text and "access_token" not in text and "refresh_token" not in text
    failures = views.recent_failures(rt)
    assert failures[0]["entry_id"] == "year-locked" and failures[0]["companies"] == [s.code]


def test_senders_that_all_read_the_run_as_not_sent_race_and_exactly_one_posts(rt, sandbox, monkeypatch):
    """The conditional claim is the last guard: every sender read ``not_sent`` (a barrier holds them all between
    reading the run and claiming it), so only the UPDATE … WHERE status = 'not_sent' can pick one."""
    import threading

    s = setup_company(rt, periods=(3,))
    run_id = s.run_ids[0]
    senders = 4
    barrier = threading.Barrier(senders, timeout=30)
    load = export._Sender.load

    def load_then_wait(self, rid):
        loaded = load(self, rid)
        barrier.wait()
        return loaded

    monkeypatch.setattr(export._Sender, "load", load_then_wait)
    results: list[dict] = []
    threads = [threading.Thread(target=lambda: results.append(export.send_run(rt, run_id, actor=ACTOR)))
               for _ in range(senders)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    outcomes = sorted(r.outcome for r in results)
    assert outcomes == ["sent"] + ["skipped"] * (senders - 1), results
    assert all("Another sender claimed" in r.message for r in results if r.outcome == "skipped")
    assert len(sandbox_vouchers(sandbox.url, s.visma_company_id)) == 1
    assert [(h.kind, h.outcome) for h in views.run_history(rt, run_id)] == [("post", "sent")]


def test_a_run_being_sent_again_does_not_show_its_previous_error(rt, sandbox):
    """While a failed run is claimed for a new attempt it is 'sending' with no error of its own; the failed attempt
    stays in its history."""
    from core import services
    from core.db.models import utcnow
    from core.export.claims import claim, new_claim_token
    from core.export.views import get_run, run_history
    from tests.support.export import set_state

    setup = setup_company(rt, periods=(1,))
    set_state(sandbox.url, setup.visma_company_id, "no_fiscal_year")
    failed = services.send_run(rt, setup.run_ids[0], actor=ACTOR)
    assert failed.entry_id == "fiscal-year-missing"
    run = get_run(rt, setup.run_ids[0])
    c = claim(rt.engine, run.id, token=new_claim_token(), marker="ELX-test", generation=1, expect="failed",
              now=utcnow())
    assert c is not None
    again = get_run(rt, run.id)
    assert (again.status, again.error_entry_id, again.error_message) == ("sending", None, None)
    assert any(a.entry_id == "fiscal-year-missing" for a in run_history(rt, run.id))

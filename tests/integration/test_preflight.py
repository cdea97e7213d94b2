"""Preflight finds each problem before any POST, with the entry the send would raise; nothing is written to Visma."""

from __future__ import annotations

import httpx
import sqlalchemy as sa

from core.db.engine import session_scope
from core.export.preflight import preflight_company, preflight_run
from core.mappings.ledger import save_cost_center_mapping, save_ledger_mapping
from tests.support.export import ACTOR, api_calls, reset_stats, set_state, setup_company


def _entries(findings):
    return {f["entry_id"] for f in findings if f["severity"] == "error"}


def test_preflight_finds_each_problem_without_posting(rt, sandbox):
    s = setup_company(rt, periods=(3,))
    run_id = s.run_ids[0]
    reset_stats(sandbox.url)
    ok = preflight_run(rt, run_id)
    assert _entries(ok) == set() and any(f["check"] == "voucher" and f["severity"] == "ok" for f in ok)
    for state, entry in [("no_fiscal_year", "fiscal-year-missing"), ("api_module_inactive", "api-module-inactive"),
                         ("year_locked", "year-locked"), ("inactive", "company-inactive"),
                         ("no_user_access", "no-company-access")]:
        set_state(sandbox.url, s.visma_company_id, state)
        assert entry in _entries(preflight_run(rt, run_id)), state
    httpx.put(f"{sandbox.url}/_sandbox/companies/{s.visma_company_id}/state",
              json={"state": "period_locked", "locked_to": "2026-06-30"}, timeout=10).raise_for_status()
    assert _entries(preflight_run(rt, run_id)) == {"period-locked"}
    set_state(sandbox.url, s.visma_company_id, "ok")

    save_ledger_mapping(rt, s.code, [{"payroll_account": "4200", "visma_account_number": 4990},
                                     {"payroll_account": "4150", "visma_account_number": 4321}], actor=ACTOR)
    assert _entries(preflight_run(rt, run_id)) == {"account-not-found"}
    save_ledger_mapping(rt, s.code, [{"payroll_account": "1520", "visma_account_number": 4000}], actor=ACTOR)
    save_cost_center_mapping(rt, s.code, [{"payroll_cost_center": "PROD", "visma_cost_center": "LOG"}], actor=ACTOR)
    assert _entries(preflight_run(rt, run_id)) == {"cost-center-inactive"}
    save_ledger_mapping(rt, s.code, [], actor=ACTOR)
    save_cost_center_mapping(rt, s.code, [], actor=ACTOR)
    with session_scope(rt.engine) as session:  # a journal that does not balance
        session.execute(sa.text("UPDATE journal_line SET credit = credit + 10 WHERE id = "
                                "(SELECT MIN(id) FROM journal_line WHERE credit > 0)"))
    assert _entries(preflight_company(rt, s.code)) == {"voucher-unbalanced"}
    assert api_calls(sandbox.url)["api_calls"].get("POST /v2/vouchers", 0) == 0


def test_preflight_of_an_unmapped_company(rt, sandbox):
    s = setup_company(rt, "HOVENIER-GROEN", periods=(1,), map_it=False)
    assert _entries(preflight_company(rt, s.code)) == {"company-not-mapped"}


def test_preflight_finds_an_unusable_token_before_any_post(rt, sandbox, clock):
    """The grant ran out (Visma's refresh token lives 30 days from the authorization): the token check fails with
    the re-authorization entry, and nothing further is tried."""
    s = setup_company(rt, periods=(3,))
    clock.advance(31 * 24 * 3600)
    reset_stats(sandbox.url)
    findings = preflight_run(rt, s.run_ids[0])
    assert _entries(findings) == {"reauthorize-needed"}, findings
    assert [f["check"] for f in findings] == ["token"]
    assert api_calls(sandbox.url)["api_calls"].get("POST /v2/vouchers", 0) == 0

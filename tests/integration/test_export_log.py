"""The export log service on SQLite and PostgreSQL, and `history --csv` through the CLI."""

from __future__ import annotations

import csv
import io
import json
from datetime import date

import pytest

from core import services
from tests.support.export import ACTOR, set_state, setup_company


def test_one_row_per_run_with_voucher_sender_and_attempts(rt, sandbox):
    s = setup_company(rt, periods=(1, 2, 3))
    services.send_run(rt, s.run_ids[0], actor="anna@bureau")
    set_state(sandbox.url, s.visma_company_id, "no_fiscal_year")
    services.send_run(rt, s.run_ids[1], actor=ACTOR)
    set_state(sandbox.url, s.visma_company_id, "ok")
    rows = services.export_log(rt)
    # newest first, as on the Runs tab
    assert [(r.company, r.period, r.run) for r in rows] == [(s.code, f"2026-{p:02d}", 1) for p in (3, 2, 1)]
    waiting, failed, sent = rows
    assert (sent.status, sent.sent_by, sent.attempts) == ("sent", "anna@bureau", 1) and sent.voucher_number
    assert sent.voucher_date == date(2026, 1, 31) and sent.total_debit > 0 and sent.sent_at is not None
    assert (failed.status, failed.sent_by, failed.error_entry_id) == ("failed", None, "fiscal-year-missing")
    assert failed.attempts >= 1
    assert (waiting.status, waiting.attempts, waiting.sent_by, waiting.voucher_number) == ("not_sent", 0, None, None)
    assert [r.status for r in services.export_log(rt, status=["failed", "sent"])] == ["failed", "sent"]
    assert [r.period for r in services.export_log(rt, period="2026-03")] == ["2026-03"]
    assert [r.run_id for r in services.export_log(rt, search=sent.voucher_number)] == [sent.run_id]
    assert len(services.export_log(rt, company_code=s.code, limit=2)) == 2
    # a re-send opens a new generation: no sender until its new voucher is in Visma
    services.resend_run(rt, s.run_ids[0], reason="reversed", actor=ACTOR)
    again = services.export_log(rt, period="2026-01")[0]
    assert again.sent_by == ACTOR and again.attempts == 2


def test_unknown_company_and_bad_period_are_service_errors(rt, sandbox):
    with pytest.raises(services.ServiceError, match="NOPE"):
        services.export_log(rt, company_code="NOPE")
    with pytest.raises(services.ServiceError, match="YYYY-MM"):
        services.export_log(rt, period="March")


def test_cli_history_csv_and_json(cli, rt, sandbox, tmp_path):
    s = setup_company(rt, periods=(1, 2))
    services.send_run(rt, s.run_ids[0], actor=ACTOR)
    path = tmp_path / "log.csv"
    out = cli("history", "--csv", str(path), "--company", s.code)
    assert out.exit_code == 0, out.output
    assert path.read_bytes() == services.export_log_csv(services.export_log(rt, company_code=s.code))
    rows = list(csv.DictReader(io.StringIO(path.read_bytes().decode("utf-8-sig"))))
    assert {"company", "company_name", "period", "run", "status", "voucher_number", "voucher_date", "total_debit",
            "sent_at", "sent_by", "attempts"} <= set(rows[0])
    assert [(r["period"], r["status"], r["sent_by"]) for r in rows] == [("2026-02", "not_sent", ""),
                                                                         ("2026-01", "sent", ACTOR)]
    printed = json.loads(cli("history", "--json").stdout)
    assert [r["status"] for r in printed] == ["not_sent", "sent"] and printed[1]["total_debit"]
    unknown = cli("history", "--csv", str(path), "--company", "NOPE", "--json")
    assert unknown.exit_code == 1 and "NOPE" in json.loads(unknown.stdout)["error"]


def test_a_page_of_the_log_is_counted_and_cut_in_the_database(rt, sandbox):
    """The page the screen draws: the same rows, in the same order, as the whole log cut there; the count of all."""
    s = setup_company(rt, periods=(1, 2, 3, 4, 5))
    services.send_run(rt, s.run_ids[0], actor=ACTOR)
    whole = services.export_log(rt)
    for offset, limit in ((0, 2), (2, 2), (4, 2), (6, 2)):
        total, rows = services.export_log_page(rt, offset=offset, limit=limit)
        assert total == len(whole) == 5
        assert [r.run_id for r in rows] == [r.run_id for r in whole[offset:offset + limit]]
    total, rows = services.export_log_page(rt, status="sent", limit=10)
    assert total == 1 and [r.status for r in rows] == ["sent"]
    total, rows = services.export_log_page(rt, search="2026-02 run 1", limit=10)  # a search reads, then cuts
    assert total == 1 and rows[0].period == "2026-02"
    with pytest.raises(services.ServiceError):
        services.export_log_page(rt, company_code="NO-SUCH-CODE")

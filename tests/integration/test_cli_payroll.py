"""The payroll CLI commands in-process (typer's runner over the test runtime): the --json contracts, exit codes."""

from __future__ import annotations

import json

import sqlalchemy as sa
from typer.testing import CliRunner

from core.cli.common import use_runtime
from core.cli.main import app
from core.db.engine import session_scope
from core.db.models import AuditEvent
from core.demo.payroll import demo_runs
from core.payroll.file_import import to_csv_bytes
from tests.support.export import set_state, setup_company


def _cli(rt, *args):
    with use_runtime(rt):
        return CliRunner().invoke(app, list(args))


def test_cli_runs_export_resend_worker(rt, sandbox, tmp_path):
    s = setup_company(rt, periods=(1, 2), map_it=False)
    out = _cli(rt, "map", s.code, s.account, "--auto", "--json")
    assert out.exit_code == 0, out.output
    assert json.loads(out.stdout)["auto_send"] is True
    companies = json.loads(_cli(rt, "companies", "list", "--json").stdout)
    assert companies[0]["code"] == s.code and companies[0]["runs_not_sent"] == 2
    runs = json.loads(_cli(rt, "runs", "list", "--company", s.code, "--json").stdout)
    assert {"id", "company", "year", "period", "status", "voucher_number"} <= set(runs[0])
    assert _cli(rt, "preflight", str(runs[0]["id"]), "--json").exit_code == 0
    preview = json.loads(_cli(rt, "preview", str(runs[0]["id"]), "--json").stdout)
    assert preview["balanced"] is True
    one = _cli(rt, "export", str(runs[0]["id"]), "--json")
    assert one.exit_code == 0 and json.loads(one.stdout)["sent"] == 1
    worker = _cli(rt, "worker", "--once", "--json")
    assert worker.exit_code == 0 and json.loads(worker.stdout)["sent"] == 1
    runs = json.loads(_cli(rt, "runs", "list", "--json").stdout)
    assert {r["status"] for r in runs} == {"sent"} and all(r["voucher_number"] for r in runs)
    again = json.loads(_cli(rt, "export", "--pending", "--json").stdout)
    assert (again["sent"], again["failed"], again["skipped"], again["results"]) == (0, 0, 0, [])
    no_reason = _cli(rt, "resend", str(runs[0]["id"]), "--reason", "", "--json")
    assert no_reason.exit_code == 1 and "reason" in json.loads(no_reason.stdout)["error"]
    resent = _cli(rt, "resend", str(runs[0]["id"]), "--reason", "reversed in Visma", "--json")
    assert resent.exit_code == 0 and json.loads(resent.stdout)["sent"] == 1
    # The re-send is in the audit log with its reason and the voucher it replaces.
    with session_scope(rt.engine) as session:
        events = session.exec(sa.select(AuditEvent).where(AuditEvent.action == "run.resend")).scalars().all()
    assert len(events) == 1 and events[0].run_id == runs[0]["id"]
    detail = json.loads(events[0].detail)
    assert detail["reason"] == "reversed in Visma" and detail["previous_voucher_number"] == runs[0]["voucher_number"]


def test_cli_json_contracts_of_every_command(rt, sandbox, tmp_path):
    """`runs list --json` and `export … --json` keep the documented keys; every other command prints JSON too."""
    s = setup_company(rt, periods=(1, 2), map_it=False)
    other = setup_company(rt, "HOVENIER-GROEN", periods=(1,))
    mapped = json.loads(_cli(rt, "map", s.code, s.account, "--json").stdout)
    assert mapped["company"] == s.code and mapped["auto_send"] is False and mapped["warnings"] == []
    runs = sorted(json.loads(_cli(rt, "runs", "list", "--company", s.code, "--json").stdout), key=lambda r: r["period"])
    assert [r["company_code"] for r in runs] == [s.code, s.code] and runs[0]["company"]  # only that company
    for r in runs:
        assert {"id", "company", "year", "period", "status", "voucher_number"} <= set(r)
        assert (r["year"], r["status"], r["voucher_number"]) == (2026, "not_sent", None)
    assert [r["period"] for r in runs] == [1, 2]
    findings = json.loads(_cli(rt, "preflight", str(runs[0]["id"]), "--json").stdout)
    assert findings and all({"severity", "entry_id", "message"} <= set(f) for f in findings)
    one = json.loads(_cli(rt, "export", str(runs[0]["id"]), "--json").stdout)
    assert (one["sent"], one["failed"], one["skipped"]) == (1, 0, 0) and len(one["results"]) == 1
    assert one["results"][0]["run_id"] == runs[0]["id"] and one["results"][0]["voucher_number"]
    pending = json.loads(_cli(rt, "export", "--pending", "--company", s.code, "--json").stdout)
    assert (pending["sent"], pending["failed"], pending["skipped"]) == (1, 0, 0)
    assert [r["run_id"] for r in pending["results"]] == [runs[1]["id"]]  # the other company was left alone
    assert json.loads(_cli(rt, "runs", "list", "--company", other.code, "--json").stdout)[0]["status"] == "not_sent"
    after = json.loads(_cli(rt, "runs", "list", "--company", s.code, "--json").stdout)
    assert [r["status"] for r in after] == ["sent", "sent"] and all(r["voucher_number"] for r in after)
    both = _cli(rt, "export", str(runs[0]["id"]), "--pending", "--json")
    assert both.exit_code == 1 and json.loads(both.stdout)["error"]
    worker = json.loads(_cli(rt, "worker", "--once", "--json").stdout)
    assert (worker["rounds"], worker["sent"]) == (1, 0)  # HOVENIER-GROEN is not set to automatic sending
    companies = json.loads(_cli(rt, "companies", "list", "--json").stdout)
    assert {c["code"]: c["runs_sent"] for c in companies} == {s.code: 2, other.code: 0}


def test_cli_import_of_a_malformed_file_writes_nothing(rt, sandbox, tmp_path):
    path = tmp_path / "kapot.csv"
    good = to_csv_bytes(demo_runs("HOVENIER-GROEN")[:1]).decode("utf-8-sig").splitlines()
    cells = good[3].split(";")
    cells[-2] = "veel"
    good[3] = ";".join(cells)
    path.write_text("\r\n".join(good) + "\r\n", encoding="utf-8")
    out = _cli(rt, "import", str(path), "--company", "HOVENIER-GROEN", "--json")
    result = json.loads(out.stdout)
    assert out.exit_code == 1 and result["imported"] == [] and result["errors"][0]["row"] == 4
    assert json.loads(_cli(rt, "runs", "list", "--json").stdout) == []


def test_cli_export_failure_and_import(rt, sandbox, tmp_path):
    s = setup_company(rt, periods=(3,))
    set_state(sandbox.url, s.visma_company_id, "year_locked")
    out = _cli(rt, "export", "--pending", "--company", s.code, "--json")
    summary = json.loads(out.stdout)
    assert out.exit_code == 1 and summary["failed"] == 1 and summary["results"][0]["entry_id"] == "year-locked"
    pre = _cli(rt, "preflight", "--company", s.code, "--json")
    assert pre.exit_code == 1 and any(f["entry_id"] == "year-locked" for f in json.loads(pre.stdout))
    path = tmp_path / "hovenier.csv"
    path.write_bytes(to_csv_bytes(demo_runs("HOVENIER-GROEN")[:1]))
    ok = _cli(rt, "import", str(path), "--company", "HOVENIER-GROEN", "--json")
    assert ok.exit_code == 0 and json.loads(ok.stdout)["imported"] == ["2026-01 run 1"]
    dup = _cli(rt, "import", str(path), "--company", "HOVENIER-GROEN")
    assert dup.exit_code == 1 and "already" in dup.output
    unknown = _cli(rt, "runs", "list", "--company", "NOPE", "--json")
    assert unknown.exit_code == 0 and json.loads(unknown.stdout) == []


def test_cli_retry_by_cause_after_the_fix_and_reconcile_contract(rt, sandbox, cli):
    """Failed for a missing fiscal year: a retry by cause skips them while the preflight still finds it, and sends
    them once it is created; `reconcile --json` keeps its fields."""
    from tests.support.export import api_calls, reset_stats

    s = setup_company(rt, periods=(1, 2))
    set_state(sandbox.url, s.visma_company_id, "no_fiscal_year")
    first = json.loads(cli("export", "--pending", "--json").stdout)
    assert {r["entry_id"] for r in first["results"]} == {"fiscal-year-missing"} and first["failed"] == 2
    runs = json.loads(cli("runs", "list", "--json").stdout)
    assert {r["status"] for r in runs} == {"failed"}

    reset_stats(sandbox.url)
    early = json.loads(cli("export", "--pending", "--retry-failed", "--cause", "fiscal-year-missing", "--json").stdout)
    assert (early["sent"], early["skipped"]) == (0, 2)
    assert all("preflight" in r["message"] for r in early["results"])
    assert api_calls(sandbox.url)["api_calls"].get("POST /v2/vouchers", 0) == 0
    other = json.loads(cli("export", "--pending", "--retry-failed", "--cause", "period-locked", "--json").stdout)
    assert other["total"] == 0  # no failed run of that cause

    set_state(sandbox.url, s.visma_company_id, "ok")
    fixed = json.loads(cli("export", "--pending", "--retry-failed", "--cause", "fiscal-year-missing", "--json").stdout)
    assert (fixed["sent"], fixed["failed"], fixed["skipped"]) == (2, 0, 0)
    assert {r["status"] for r in json.loads(cli("runs", "list", "--json").stdout)} == {"sent"}

    nothing = json.loads(cli("reconcile", "--all", "--json").stdout)
    assert nothing == {"confirmed_sent": 0, "confirmed_not_sent": 0, "still_unknown": 0, "results": []}
    refused = cli("reconcile", str(s.run_ids[0]), "--json")
    assert refused.exit_code == 1 and "not unconfirmed" in refused.stdout
    assert cli("export", "--pending", "--cause", "x").exit_code != 0  # --cause only with --retry-failed

"""The payroll CLI commands in-process (typer's runner over the test runtime): the --json contracts, exit codes."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from core.cli import app
from core.cli_common import use_runtime
from core.demo_payroll import demo_runs
from core.payroll_import import to_csv_bytes
from tests.core_fixtures import rt  # noqa: F401
from tests.export_fixtures import set_state, setup_company


def _cli(rt, *args):  # noqa: F811
    with use_runtime(rt):
        return CliRunner().invoke(app, list(args))


def test_cli_runs_export_resend_worker(rt, sandbox, tmp_path):  # noqa: F811
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


def test_cli_export_failure_and_import(rt, sandbox, tmp_path):  # noqa: F811
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

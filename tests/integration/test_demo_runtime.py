"""Demo mode: one sandbox per data folder shared by processes that start together; demo seed over the sandbox."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from core.accounts.records import list_accounts
from core.demo import service as demo
from core.demo.sandbox import answers, ensure_sandbox, sandbox_info, stop_sandbox
from core.errors import ServiceError
from core.settings import load_settings

DRUKKERIJ = "Drukkerij Smit & Co B.V."
PROJECT = Path(__file__).resolve().parents[2]


def _settings(data_dir: Path):
    return load_settings({"DATA_DIR": str(data_dir), "VISMA_REDIRECT_URI": "http://localhost:8599/"},
                         secrets_path=data_dir / "absent.toml")


_ENSURE_SCRIPT = (
    "import sys; from pathlib import Path; from core.demo.sandbox import ensure_sandbox; "
    "from core.settings import load_settings; d = sys.argv[1]; "
    "print(ensure_sandbox(load_settings({'DATA_DIR': d, 'VISMA_REDIRECT_URI': 'http://localhost:8599/'}, "
    "secrets_path=Path(d) / 'absent.toml')))"
)


@pytest.mark.timeout(90)
def test_processes_starting_together_share_one_sandbox(tmp_path):
    data_dir = tmp_path / "data"
    env = {**os.environ, "PYTHONPATH": str(PROJECT)}
    procs = [subprocess.Popen([sys.executable, "-c", _ENSURE_SCRIPT, str(data_dir)], stdout=subprocess.PIPE,
                              text=True, env=env, cwd=PROJECT) for _ in range(2)]
    try:
        urls = {p.communicate(timeout=60)[0].strip() for p in procs}
        assert all(p.returncode == 0 for p in procs)
        assert len(urls) == 1
        url = urls.pop()
        state = json.loads((data_dir / "sandbox.json").read_text())
        assert state["url"] == url and isinstance(state["pid"], int)
        assert answers(url)
        # a third process (this one) reuses it, and its redirect URI is registered
        settings = _settings(data_dir)
        assert ensure_sandbox(settings) == url
        assert sandbox_info(settings)["running"] is True
        assert (data_dir / "sandbox.db").exists()
        clients = httpx.post(f"{url}/_sandbox/redirect-uris",
                             json={"client_id": settings.client_id, "redirect_uri": "http://localhost:8599/"}).json()
        assert clients["redirect_uris"].count("http://localhost:8599/") == 1
    finally:
        assert stop_sandbox(_settings(data_dir))
    assert not answers(url) and not (data_dir / "sandbox.json").exists()


def test_stale_state_file_starts_a_new_sandbox(tmp_path):
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    (data_dir / "sandbox.json").write_text(json.dumps({"url": "http://127.0.0.1:9", "pid": 999999, "port": 9}))
    settings = _settings(data_dir)
    try:
        url = ensure_sandbox(settings)
        assert url != "http://127.0.0.1:9" and answers(url)
    finally:
        stop_sandbox(settings)


def test_demo_seed_authorizes_accounts_and_is_idempotent(rt):
    result = demo.seed_demo(rt, actor="test")
    assert result["accounts_failed"] == []
    listed = {a.name: a for a in list_accounts(rt)}
    companies = {c["name"] for c in demo.sandbox_companies(rt)}
    assert set(listed) == companies and len(companies) >= 7
    assert all(a.status == "authorized" for a in listed.values())
    assert listed[DRUKKERIJ].status_entry_id == "api-module-inactive"
    assert listed["Bakkerij De Gouden Korst B.V."].visma_company_name == "Bakkerij De Gouden Korst B.V."
    if result["payroll"]:
        assert result["mapped"], result["warnings"]
    again = demo.seed_demo(rt, actor="test")
    assert again["accounts_created"] == [] and again["accounts_authorized"] == []
    assert len(list_accounts(rt)) == len(companies)

    status = demo.demo_status(rt)
    assert status["sandbox_url"] == rt.sandbox_url and status["running"]
    assert len(status["accounts"]) == len(companies)

    reset = demo.reset_demo(rt, actor="test")
    assert "account" in reset["tables_emptied"] and list_accounts(rt) == []


def test_company_state_and_faults_through_demo(rt):
    bakkerij = next(c for c in demo.sandbox_companies(rt) if c["name"].startswith("Bakkerij"))
    assert demo.set_company_state(rt, bakkerij["id"], "no_fiscal_year", actor="test")["state"] == "no_fiscal_year"
    faulted = demo.set_company_faults(rt, bakkerij["id"], actor="test", latency_ms=5)
    assert faulted["faults"]["latency_ms"] == 5
    with pytest.raises(ServiceError) as err:
        demo.set_company_state(rt, bakkerij["id"], "bogus", actor="test")
    assert "unknown state" in err.value.message


def test_demo_actions_refused_outside_demo_mode(rt):
    from dataclasses import replace

    production = replace(rt, settings=replace(rt.settings, demo_mode=False))
    for call in (lambda: demo.seed_demo(production, actor="t"), lambda: demo.demo_status(production),
                 lambda: demo.reset_demo(production, actor="t"),
                 lambda: demo.set_company_state(production, "x", "ok", actor="t")):
        with pytest.raises(ServiceError) as err:
            call()
        assert err.value.code == "not_demo_mode"

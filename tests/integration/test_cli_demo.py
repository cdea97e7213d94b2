"""The ``demo`` commands (``python -m core demo seed|status|reset|state|faults``): --json contracts, exit codes 0/1/2,
refused outside demo mode, and one sandbox state shared by every process of a demo (the CLI seeds, others see it)."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from core.demo.sandbox import answers, sandbox_info, stop_sandbox
from core.settings import load_settings
from tests.support.runtime import cli_json as _json

PROJECT = Path(__file__).resolve().parents[2]
BAKKERIJ = "Bakkerij De Gouden Korst B.V."
BAKKERIJ_ID = "a30dbfb4-d516-402f-bae3-ae900cd65085"




def _run(env: dict[str, str], *args: str, timeout: int = 120) -> subprocess.CompletedProcess:
    full = {**{k: v for k, v in os.environ.items() if not k.startswith(("VISMA_", "DATABASE_URL", "TOKEN_"))},
            **env, "PYTHONPATH": str(PROJECT)}
    return subprocess.run([sys.executable, "-m", "core", *args], capture_output=True, text=True, env=full,
                          cwd=PROJECT, timeout=timeout)


def test_demo_status_seed_state_faults_reset_with_json(cli, rt):
    status = _json(cli("demo", "status", "--json"))
    assert status["sandbox_url"] == rt.sandbox_url and status["running"] is True
    assert {c["id"] for c in status["companies"]} >= {BAKKERIJ_ID} and status["accounts"] == []

    seeded = _json(cli("demo", "seed", "--json"))
    assert seeded["accounts_failed"] == [] and BAKKERIJ in seeded["accounts_authorized"]
    listed = _json(cli("accounts", "list", "--json"))
    assert {a["name"] for a in listed} == {c["name"] for c in status["companies"]}
    assert all(a["status"] == "authorized" for a in listed)

    state = _json(cli("demo", "state", BAKKERIJ_ID, "no_fiscal_year", "--json"))
    assert state["state"] == "no_fiscal_year"
    faults = _json(cli("demo", "faults", BAKKERIJ_ID, "--latency-ms", "5", "--json"))
    assert faults["faults"]["latency_ms"] == 5
    again = _json(cli("demo", "status", "--json"))
    bakkerij = next(c for c in again["companies"] if c["id"] == BAKKERIJ_ID)
    assert bakkerij["state"] == "no_fiscal_year" and bakkerij["faults"]["latency_ms"] == 5
    assert {a["name"] for a in again["accounts"]} == {a["name"] for a in listed}

    human = cli("demo", "status")
    assert human.exit_code == 0 and f"Sandbox: {rt.sandbox_url}" in human.stdout and "[no_fiscal_year]" in human.stdout

    reset = _json(cli("demo", "reset", "--json"))
    assert reset["sandbox_reset"] is True and "account" in reset["tables_emptied"]
    assert _json(cli("accounts", "list", "--json")) == []
    after = _json(cli("demo", "status", "--json"))
    assert next(c for c in after["companies"] if c["id"] == BAKKERIJ_ID)["state"] == "ok"


def test_demo_business_failures_exit_1_and_bad_usage_exits_2(cli):
    unknown_state = cli("demo", "state", BAKKERIJ_ID, "bogus", "--json")
    assert unknown_state.exit_code == 1 and "unknown state" in json.loads(unknown_state.stdout)["error"]
    unknown_company = cli("demo", "state", "no-such-company", "ok")
    assert unknown_company.exit_code == 1 and "sandbox refused" in unknown_company.stderr
    for args in (("demo", "state"), ("demo", "state", BAKKERIJ_ID), ("demo", "seed", "--bogus"),
                 ("demo", "status", "--bogus"), ("demo", "reset", "extra"), ("demo", "nonsense"),
                 ("demo", "faults", BAKKERIJ_ID, "--latency-ms", "soon")):
        result = cli(*args)
        assert result.exit_code == 2, (args, result.output)
    for result in (unknown_state, unknown_company):
        assert "Traceback" not in result.output


def test_demo_commands_are_refused_outside_demo_mode(tmp_path):
    env = {"VISMA_CLIENT_ID": "prod-client", "VISMA_CLIENT_SECRET": "prod-secret-value",
           "TOKEN_ENCRYPTION_KEY": Fernet.generate_key().decode(), "DATA_DIR": str(tmp_path / "data"),
           "DATABASE_URL": f"sqlite:///{tmp_path / 'prod.db'}", "STREAMLIT_SECRETS_PATH": str(tmp_path / "none.toml")}
    for command in (("demo", "seed"), ("demo", "status"), ("demo", "reset"), ("demo", "state", BAKKERIJ_ID, "ok")):
        result = _run(env, *command, "--json")
        assert result.returncode == 1, (command, result.stderr)
        assert json.loads(result.stdout)["code"] == "not_demo_mode"
        assert "only in demo mode" in result.stderr and "Traceback" not in result.stderr
    assert _run(env, "accounts", "add", "Bakkerij").returncode == 0
    robot = _run(env, "accounts", "authorize", "Bakkerij", "--demo-user", "anna.dekker@demo-bureau.nl", "--json")
    assert robot.returncode == 1 and json.loads(robot.stdout)["code"] == "not_demo_mode"
    assert "prod-secret-value" not in robot.stdout + robot.stderr
    assert not (tmp_path / "data" / "sandbox.json").exists()  # production never starts the sandbox


@pytest.mark.timeout(240)
def test_demo_mode_every_process_sees_the_same_sandbox_state(tmp_path):
    """Nothing configured but DATA_DIR: the first command starts the sandbox, the CLI seeds it, and other processes
    (a status, a state switch, a refresh, a listing) see the same accounts, tokens and company states."""
    data_dir = tmp_path / "data"
    env = {"DATA_DIR": str(data_dir), "STREAMLIT_SECRETS_PATH": str(tmp_path / "none.toml")}
    try:
        seeded = _run(env, "demo", "seed", "--json", timeout=180)
        assert seeded.returncode == 0, seeded.stderr[-2000:]
        result = json.loads(seeded.stdout)
        assert result["accounts_failed"] == [] and BAKKERIJ in result["accounts_authorized"]
        info = sandbox_info(load_settings(env, secrets_path=tmp_path / "none.toml"))
        assert info is not None and info["running"] and info["url"].startswith("http://127.0.0.1:")
        key_file = data_dir / "token-encryption.key"
        assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
        assert (data_dir / "eaccounting-link.db").exists() and (data_dir / "sandbox.db").exists()

        switched = _run(env, "demo", "state", BAKKERIJ_ID, "api_module_inactive", "--json")
        assert switched.returncode == 0, switched.stderr[-2000:]

        status = _run(env, "demo", "status", "--json")
        assert status.returncode == 0, status.stderr[-2000:]
        seen = json.loads(status.stdout)
        assert seen["sandbox_url"] == info["url"]  # the same sandbox, not a second one
        assert next(c for c in seen["companies"] if c["id"] == BAKKERIJ_ID)["state"] == "api_module_inactive"
        assert {a["name"] for a in seen["accounts"]} == set(result["accounts_authorized"])
        assert all(a["status"] == "authorized" for a in seen["accounts"])

        # another process refreshes with the tokens the seeding process stored (same key file, same sandbox)
        refreshed = _run(env, "accounts", "refresh", "Transportbedrijf Visser B.V.", "--json")
        assert refreshed.returncode == 0, refreshed.stderr[-2000:]
        assert json.loads(refreshed.stdout)["last_refreshed_at"]
        started = _run(env, "accounts", "authorize", BAKKERIJ, "--json")
        assert json.loads(started.stdout)["authorization_url"].startswith(f"{info['url']}/connect/authorize?")
        listed = json.loads(_run(env, "accounts", "list", "--json").stdout)
        assert {a["name"]: a["status"] for a in listed}[BAKKERIJ] == "authorized"
        assert sandbox_info(load_settings(env, secrets_path=tmp_path / "none.toml"))["url"] == info["url"]
    finally:
        settings = load_settings(env, secrets_path=tmp_path / "none.toml")
        url = (sandbox_info(settings) or {}).get("url")
        stop_sandbox(settings)
        if url:
            assert not answers(url, 0.5)

"""The CLI (``python -m core accounts …`` and ``demo status``): --json contracts, exit codes 0/1/2, no tracebacks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from core import services
from core.demo.constants import DEMO_PASSWORD, DEMO_USER_ALL_COMPANIES
from core.demo.login import login_and_consent
from tests.support.runtime import cli_json as _json
from tests.support.runtime import runtime_env

PROJECT = Path(__file__).resolve().parents[2]
BAKKERIJ = "Bakkerij De Gouden Korst B.V."




def _iso(value: str) -> datetime:
    assert value.endswith("Z")
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def test_add_authorize_complete_list_refresh_disconnect(cli):
    added = _json(cli("accounts", "add", "  Bakkerij  ", "--json"))
    assert added["name"] == "Bakkerij" and added["status"] == "not_authorized"

    started = _json(cli("accounts", "authorize", "Bakkerij", "--json"))
    assert started["authorization_url"].startswith("http://127.0.0.1:")
    callback = login_and_consent(started["authorization_url"], email=DEMO_USER_ALL_COMPANIES,
                                 password=DEMO_PASSWORD, company=BAKKERIJ)
    completed = _json(cli("accounts", "complete", callback, "--json"))
    assert completed["status"] == "authorized" and completed["visma_company"] == BAKKERIJ

    [row] = _json(cli("accounts", "list", "--json"))
    assert {"name", "status", "visma_company", "token_expires_at"} <= set(row)
    assert row["name"] == "Bakkerij" and row["status"] == "authorized" and row["visma_company"] == BAKKERIJ
    expires = _iso(row["token_expires_at"])

    refreshed = _json(cli("accounts", "refresh", "Bakkerij", "--json"))
    assert _iso(refreshed["token_expires_at"]) >= expires and refreshed["last_refreshed_at"]

    human = cli("accounts", "list")
    assert human.exit_code == 0 and "Bakkerij: authorized" in human.stdout

    gone = _json(cli("accounts", "disconnect", "Bakkerij", "--json"))
    assert gone["status"] == "not_authorized"
    [row] = _json(cli("accounts", "list", "--json"))
    assert row["token_expires_at"] is None


def test_authorize_with_demo_user_in_demo_mode(cli):
    cli("accounts", "add", "Transport")
    result = _json(cli("accounts", "authorize", "Transport", "--demo-user", DEMO_USER_ALL_COMPANIES,
                       "--company", "Transportbedrijf Visser B.V.", "--json"))
    assert result["status"] == "authorized" and result["visma_company"] == "Transportbedrijf Visser B.V."


def test_business_failures_exit_1_with_the_message_on_stderr(cli, rt):
    cli("accounts", "add", "a")
    dup = cli("accounts", "add", "A")
    assert dup.exit_code == 1 and "already exists" in dup.stderr
    blank = cli("accounts", "add", "  ", "--json")
    assert blank.exit_code == 1 and json.loads(blank.stdout)["code"] == "name_blank"
    missing = cli("accounts", "refresh", "nobody")
    assert missing.exit_code == 1 and "no account named 'nobody'" in missing.stderr
    not_yet = cli("accounts", "refresh", "a")
    assert not_yet.exit_code == 1 and "not authorized" in not_yet.stderr

    url = services.start_authorization(rt, "a", actor="test")
    callback = login_and_consent(url, email=DEMO_USER_ALL_COMPANIES, password=DEMO_PASSWORD, company=BAKKERIJ)
    forged = cli("accounts", "complete", callback.replace("state=", "state=x"))
    assert forged.exit_code == 1 and "Nothing was stored" in forged.stderr and "oauth-state-invalid" in forged.stderr
    denied = cli("accounts", "complete", "http://localhost:8501/?error=access_denied&state=zz", "--json")
    assert denied.exit_code == 1 and json.loads(denied.stdout)["entry_id"] == "oauth-state-invalid"
    for result in (dup, blank, missing, not_yet, forged, denied):
        assert "Traceback" not in result.output


def test_bad_usage_exits_2(cli):
    assert cli("accounts", "add").exit_code == 2
    assert cli("accounts", "nonsense").exit_code == 2
    assert cli("accounts", "list", "--bogus").exit_code == 2


def test_unexpected_error_is_one_line_without_its_message(cli, rt, monkeypatch):
    def boom(_rt):
        raise RuntimeError("secret-token-value-123")

    monkeypatch.setattr(services, "list_accounts", boom)
    result = cli("accounts", "list")
    assert result.exit_code == 1
    assert "RuntimeError" in result.stderr and "secret-token-value-123" not in result.output
    assert "Traceback" not in result.output
    log = (rt.settings.data_dir / "cli.log").read_text()
    assert "RuntimeError" in log and "secret-token-value-123" not in log


def _run(env, *args):
    full_env = {**os.environ, **env, "PYTHONPATH": str(PROJECT)}
    full_env.pop("VISMA_CLIENT_ID", None)
    return subprocess.run([sys.executable, "-m", "core", *args], capture_output=True, text=True, env=full_env,
                          cwd=PROJECT, timeout=60)


def test_python_dash_m_core_contracts(sandbox, tmp_path):
    """Real processes, on SQLite (the same commands on PostgreSQL run in-process above)."""
    env = runtime_env(sandbox.url, f"sqlite:///{tmp_path / 'cli.db'}", tmp_path / "data")
    added = _run(env, "accounts", "add", "Bakkerij", "--json")
    assert added.returncode == 0, added.stderr
    listed = _run(env, "accounts", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    assert json.loads(listed.stdout) == [
        {**json.loads(listed.stdout)[0], "name": "Bakkerij", "status": "not_authorized", "visma_company": None,
         "token_expires_at": None}
    ]
    status = _run(env, "demo", "status", "--json")
    assert status.returncode == 0, status.stderr
    assert json.loads(status.stdout)["sandbox_url"] == sandbox.url
    failed = _run(env, "accounts", "disconnect", "nobody")
    assert failed.returncode == 1 and "no account named" in failed.stderr and "Traceback" not in failed.stderr
    assert "AuthlibDeprecationWarning" not in added.stderr + listed.stderr + status.stderr


def test_production_without_key_exits_1_with_how_to(tmp_path):
    env = {"VISMA_CLIENT_ID": "abc", "VISMA_CLIENT_SECRET": "s", "DATA_DIR": str(tmp_path / "d"),
           "STREAMLIT_SECRETS_PATH": str(tmp_path / "none.toml"), "TOKEN_ENCRYPTION_KEY": ""}
    result = subprocess.run([sys.executable, "-m", "core", "accounts", "list"], capture_output=True, text=True,
                            env={**os.environ, **env, "PYTHONPATH": str(PROJECT)}, cwd=PROJECT, timeout=60)
    assert result.returncode == 1
    assert "TOKEN_ENCRYPTION_KEY" in result.stderr and "Fernet.generate_key()" in result.stderr
    assert "Traceback" not in result.stderr


def test_every_accounts_command_exits_2_on_bad_usage_and_1_on_a_business_failure(cli):
    for args in (("accounts", "add"), ("accounts", "authorize"), ("accounts", "complete"), ("accounts", "refresh"),
                 ("accounts", "disconnect"), ("accounts", "list", "extra"), ("accounts", "add", "a", "b"),
                 ("accounts", "refresh", "a", "--bogus"), ("accounts",), ("nonsense",)):
        result = cli(*args)
        assert result.exit_code == 2, (args, result.output)
    for args in (("accounts", "authorize", "nobody"), ("accounts", "complete", "http://localhost:8501/?code=x"),
                 ("accounts", "refresh", "nobody"), ("accounts", "disconnect", "nobody")):
        result = cli(*args, "--json")
        assert result.exit_code == 1, (args, result.output)
        assert json.loads(result.stdout)["error"] and "Traceback" not in result.output


def test_unexpected_error_escaping_the_commands_is_one_line(monkeypatch, capsys, tmp_path):
    """Whatever escapes typer itself ends in ``core.cli.main.main`` as one line and exit 1: no traceback, no message."""
    import core.cli.main as cli_module

    def boom(*_args, **_kwargs):
        raise ValueError("Bearer secret-access-token-xyz")

    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setattr(cli_module, "app", boom)
    with pytest.raises(SystemExit) as exit_:
        cli_module.main(["accounts", "list", "--json"])
    out, err = capsys.readouterr()
    assert exit_.value.code == 1
    assert json.loads(out)["code"] == "unexpected" and "ValueError" in err
    assert "secret-access-token-xyz" not in out + err and "Traceback" not in out + err
    log = (tmp_path / "data" / "cli.log").read_text()
    assert "ValueError" in log and "secret-access-token-xyz" not in log


@pytest.mark.parametrize(
    ("database_url", "says"),
    [
        ("nonsense://db.example/x", "is not a database URL"),
        ("not a url at all", "is not a database URL"),
        ("postgresql://app:pw-Secret-123@127.0.0.1:1/links", "cannot be used"),
        ("sqlite:////proc/no-such-folder/links.db", "cannot be created"),
    ],
)
def test_a_bad_or_unreachable_database_exits_1_in_words(tmp_path, database_url, says):
    env = {"DATABASE_URL": database_url, "DATA_DIR": str(tmp_path / "d"), "VISMA_IDENTITY_URL": "http://127.0.0.1:9",
           "VISMA_API_URL": "http://127.0.0.1:9/v2", "TOKEN_ENCRYPTION_KEY": Fernet.generate_key().decode(),
           "STREAMLIT_SECRETS_PATH": str(tmp_path / "none.toml")}
    result = _run(env, "accounts", "list", "--json")
    assert result.returncode == 1, result.stderr
    error = json.loads(result.stdout)
    assert says in error["error"] and ("DATABASE_URL" in error["error"] or "DATA_DIR" in error["error"])
    assert error["code"] == "configuration"
    assert "pw-Secret-123" not in result.stdout + result.stderr
    assert "Traceback" not in result.stderr and "unexpected" not in result.stderr


def test_database_lost_during_a_command_exits_1_in_words(cli, rt):
    """The database goes away after the runtime was built (a server stopped): one line that names it, exit 1."""
    from core.db.engine import make_engine

    working = rt.engine
    rt.engine = make_engine("postgresql://app:pw-Secret-456@127.0.0.1:1/links")
    try:
        result = cli("accounts", "list", "--json")
    finally:
        rt.engine.dispose()
        rt.engine = working
    assert result.exit_code == 1
    error = json.loads(result.stdout)
    assert error["code"] == "database_unavailable" and "127.0.0.1:1/links cannot be used" in error["error"]
    assert "pw-Secret-456" not in result.output and "Traceback" not in result.output

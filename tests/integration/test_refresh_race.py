"""Single-flight refresh: twenty threads and two processes refreshing one account make one refresh at Visma and
nobody is logged out; revoked and expired refresh tokens lead to *needs re-authorization*; the 4002 trap does not."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from sqlmodel import Session

from core.accounts.sessions import visma_session
from core.accounts.tokens import refresh_account, token_provider
from core.db import models
from core.db.models import Account, AccountToken, CompanyMapping, PayrollCompany
from core.errors import ServiceError
from core.visma.errors import VismaError
from tests.support.runtime import authorize, runtime_env, sandbox_stats

BAKKERIJ = "Bakkerij De Gouden Korst B.V."
BAKKERIJ_ID = "a30dbfb4-d516-402f-bae3-ae900cd65085"
PROJECT = Path(__file__).resolve().parents[2]


def _expire_locally(rt, account_id: int, seconds_left: int = -5) -> None:
    """Make our copy of the access token (nearly) expired, as an hour passing would."""
    with rt.engine.begin() as conn:
        conn.execute(sa.update(AccountToken).where(AccountToken.account_id == account_id)
                     .values(expires_at=models.utcnow() + timedelta(seconds=seconds_left)))


def _refresh_grants(sandbox) -> int:
    return sandbox_stats(sandbox.url)["token_grants"].get("refresh_token", 0)


def _reset_stats(sandbox) -> None:
    httpx.post(f"{sandbox.url}/_sandbox/stats/reset", timeout=5).raise_for_status()


def _works(rt, token: str) -> bool:
    return rt.visma.company_settings(token).name == BAKKERIJ


def _token_row(rt, account_id):
    with Session(rt.engine) as s:
        return s.get(AccountToken, account_id)


def _status(rt, account_id):
    with Session(rt.engine) as s:
        return s.get(Account, account_id)


def test_twenty_threads_refresh_once(rt, sandbox):
    account = authorize(rt, "a", BAKKERIJ)
    _expire_locally(rt, account.id)
    _reset_stats(sandbox)
    barrier = threading.Barrier(20)
    results, errors = [], []

    def worker():
        provide = token_provider(rt, account.id)
        barrier.wait()
        try:
            results.append(provide(False))
        except Exception as exc:  # collected; the assertion below shows it
            errors.append(repr(exc))

    threads = [threading.Thread(target=worker) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    assert len(results) == 20 and len(set(results)) == 1
    assert _refresh_grants(sandbox) == 1
    assert _works(rt, results[0])
    assert _token_row(rt, account.id).version == 2
    assert _status(rt, account.id).status == "authorized"
    # the rotated refresh token was stored: the next refresh works too
    refresh_account(rt, "a", actor="test")
    assert _refresh_grants(sandbox) == 2


_PROCESS_SCRIPT = """
import hashlib, json, sys, threading, time
from core.runtime import build_runtime
from core.settings import load_settings
from core.accounts.tokens import token_provider
env = json.loads(sys.argv[1])
account_id, start_at = int(sys.argv[2]), float(sys.argv[3])
rt = build_runtime(load_settings(env), migrate_schema=False)
out, errors = [], []
def work():
    try:
        out.append(hashlib.sha256(token_provider(rt, account_id)(False).encode()).hexdigest())
    except Exception as exc:
        errors.append(type(exc).__name__ + ": " + str(exc)[:200])
threads = [threading.Thread(target=work) for _ in range(5)]
time.sleep(max(0.0, start_at - time.time()))
for t in threads: t.start()
for t in threads: t.join(60)
print(json.dumps({"tokens": out, "errors": errors}))
rt.close()
"""


def test_two_processes_refresh_once(rt, sandbox, database_url, tmp_path):
    account = authorize(rt, "a", BAKKERIJ)
    _expire_locally(rt, account.id)
    _reset_stats(sandbox)
    env = runtime_env(sandbox.url, database_url, tmp_path / "data", key=rt.settings.token_encryption_key)
    start_at = time.time() + 2.0  # both interpreters are up by then; they start their threads together
    child_env = {**os.environ, "PYTHONPATH": str(PROJECT)}
    procs = [
        subprocess.Popen([sys.executable, "-c", _PROCESS_SCRIPT, json.dumps(env), str(account.id), str(start_at)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=PROJECT, env=child_env)
        for _ in range(2)
    ]
    answers = []
    for p in procs:
        out, err = p.communicate(timeout=60)
        assert p.returncode == 0, err[-2000:]
        answers.append(json.loads(out.strip().splitlines()[-1]))
    assert [a["errors"] for a in answers] == [[], []]
    hashes = {h for a in answers for h in a["tokens"]}
    assert len(hashes) == 1 and sum(len(a["tokens"]) for a in answers) == 10
    assert _refresh_grants(sandbox) == 1
    token = rt.cipher.decrypt(_token_row(rt, account.id).access_token_enc)
    assert hashlib.sha256(token.encode()).hexdigest() in hashes and _works(rt, token)
    assert _status(rt, account.id).status == "authorized"


def test_valid_token_is_not_refreshed_and_stale_lease_expires(rt, sandbox):
    account = authorize(rt, "a", BAKKERIJ)
    _reset_stats(sandbox)
    provide = token_provider(rt, account.id)
    provide(False)
    assert _refresh_grants(sandbox) == 0
    # a holder that died mid-refresh left its lease behind; once it has expired, the next caller refreshes
    with rt.engine.begin() as conn:
        conn.execute(sa.update(AccountToken).where(AccountToken.account_id == account.id).values(
            expires_at=models.utcnow() - timedelta(seconds=5), refresh_lease_owner="dead-host:1:1",
            refresh_lease_until=models.utcnow() - timedelta(seconds=1)))
    assert _works(rt, provide(False))
    assert _refresh_grants(sandbox) == 1
    row = _token_row(rt, account.id)
    assert row.refresh_lease_owner is None and row.version == 2


def test_lease_held_elsewhere_while_token_still_valid_returns_the_current_token(rt, sandbox):
    account = authorize(rt, "a", BAKKERIJ)
    _expire_locally(rt, account.id, seconds_left=60)  # inside the 2-minute margin, still usable
    with rt.engine.begin() as conn:
        conn.execute(sa.update(AccountToken).where(AccountToken.account_id == account.id).values(
            refresh_lease_owner="other", refresh_lease_until=models.utcnow() + timedelta(seconds=30)))
    _reset_stats(sandbox)
    assert _works(rt, token_provider(rt, account.id)(False))
    assert _refresh_grants(sandbox) == 0


def test_401_refreshes_once_and_retries(rt, sandbox):
    account = authorize(rt, "a", BAKKERIJ)
    access = rt.cipher.decrypt(_token_row(rt, account.id).access_token_enc)
    httpx.post(f"{sandbox.url}/connect/revocation", data={"token": access, "token_type_hint": "access_token"},
               auth=(rt.settings.client_id, rt.settings.client_secret), timeout=5).raise_for_status()
    _reset_stats(sandbox)
    assert visma_session(rt, account.id).company_settings().name == BAKKERIJ
    assert _refresh_grants(sandbox) == 1


def _add_mapping(rt, account_id):
    with Session(rt.engine) as s:
        company = PayrollCompany(code="P1", name="Payroll P1")
        s.add(company)
        s.flush()
        s.add(CompanyMapping(payroll_company_id=company.id, account_id=account_id, visma_company_id=BAKKERIJ_ID))
        s.commit()


def _assert_needs_reauthorization(rt, account_id):
    with pytest.raises(ServiceError) as err:
        token_provider(rt, account_id)(False)
    assert err.value.entry_id == "reauthorize-needed"
    account = _status(rt, account_id)
    assert account.status == "needs_reauthorization" and account.status_entry_id == "reauthorize-needed"
    assert "Re-authorize" in account.status_reason
    assert _token_row(rt, account_id) is None


def test_revoked_refresh_token_needs_reauthorization_and_mappings_survive(rt, sandbox):
    account = authorize(rt, "a", BAKKERIJ)
    _add_mapping(rt, account.id)
    refresh = rt.cipher.decrypt(_token_row(rt, account.id).refresh_token_enc)
    httpx.post(f"{sandbox.url}/connect/revocation", data={"token": refresh, "token_type_hint": "refresh_token"},
               auth=(rt.settings.client_id, rt.settings.client_secret), timeout=5).raise_for_status()
    _expire_locally(rt, account.id)
    _assert_needs_reauthorization(rt, account.id)
    assert "revoked" in _status(rt, account.id).status_reason
    with pytest.raises(ServiceError) as err:
        visma_session(rt, account.id)
    assert err.value.entry_id == "reauthorize-needed"
    again = authorize(rt, "a", BAKKERIJ, create=False)
    assert again.status == "authorized" and again.status_entry_id is None
    assert again.mapped_companies == ("Payroll P1",)


def test_expired_refresh_token_needs_reauthorization(rt, sandbox, clock):
    account = authorize(rt, "a", BAKKERIJ)
    clock.advance(31 * 24 * 3600)  # the sandbox's refresh tokens live 30 days
    _assert_needs_reauthorization(rt, account.id)
    assert "expired" in _status(rt, account.id).status_reason


def test_refreshes_do_not_extend_the_authorization_and_it_ends_on_reauthorize_by(rt, sandbox, clock):
    """The sandbox's default (absolute lifetime, 30 days from the authorization) and ours agree: refreshing on days 20
    and 25 works but moves nothing; the Overview lists the account a week ahead, overdue once the date passed; then
    Visma refuses the refresh (invalid_grant) and the account needs re-authorization."""
    from core.overview import overview

    day = 24 * 3600
    account = authorize(rt, "a", BAKKERIJ)
    _add_mapping(rt, account.id)
    deadline = account.reauthorize_by
    assert deadline == account.authorized_at + timedelta(days=30)
    assert overview(rt)["reauthorization_due"] == []
    for days in (20, 5):
        clock.advance(days * day)
        token_provider(rt, account.id)(False)  # the access token expired long ago: refreshed
        assert _status(rt, account.id).last_refreshed_at is not None
        assert _status(rt, account.id).reauthorize_by == deadline
    assert overview(rt)["reauthorization_due"] == [
        {"name": "a", "reauthorize_by": deadline, "overdue": False, "companies": ["Payroll P1"]}]
    clock.advance(5 * day + 1)
    assert overview(rt)["reauthorization_due"][0]["overdue"] is True
    _assert_needs_reauthorization(rt, account.id)
    assert "expired" in _status(rt, account.id).status_reason
    data = overview(rt)
    assert data["reauthorization_due"] == []
    assert [a["name"] for a in data["accounts_needing_action"]] == ["a"]
    assert data["accounts_needing_action"][0]["status_entry_id"] == "reauthorize-needed"


def test_api_module_inactive_is_not_an_auth_failure(rt, sandbox):
    """The 4002 trap: a valid token and a company without the API module. No refresh, no re-authorization."""
    account = authorize(rt, "a", BAKKERIJ)
    httpx.put(f"{sandbox.url}/_sandbox/companies/{BAKKERIJ_ID}/state", json={"state": "api_module_inactive"},
              timeout=5).raise_for_status()
    _reset_stats(sandbox)
    session = visma_session(rt, account.id)
    for _ in range(3):
        with pytest.raises(VismaError) as err:
            session.company_settings()
        assert err.value.is_api_module_inactive and not err.value.is_unauthorized
    assert _refresh_grants(sandbox) == 0
    after = _status(rt, account.id)
    assert after.status == "authorized" and after.status_entry_id is None
    # and an explicit refresh still works (the token is fine)
    refresh_account(rt, "a", actor="test")
    assert _status(rt, account.id).status == "authorized"


def test_identity_server_down_keeps_the_account_authorized(rt, sandbox, monkeypatch):
    account = authorize(rt, "a", BAKKERIJ)
    _expire_locally(rt, account.id)
    monkeypatch.setattr(rt.oauth, "token_endpoint", "http://127.0.0.1:9/connect/token")
    with pytest.raises(ServiceError) as err:
        refresh_account(rt, "a", actor="test")
    assert err.value.entry_id == "visma-unavailable"
    row = _token_row(rt, account.id)
    assert row.refresh_lease_owner is None and row.version == 1
    assert _status(rt, account.id).status == "authorized"


def test_refreshed_before_it_expires(rt, sandbox):
    """Less than two minutes left: refreshed now, not after Visma has refused it."""
    account = authorize(rt, "a", BAKKERIJ)
    _expire_locally(rt, account.id, seconds_left=100)
    _reset_stats(sandbox)
    assert _works(rt, token_provider(rt, account.id)(False))
    assert _refresh_grants(sandbox) == 1 and _token_row(rt, account.id).version == 2
    _expire_locally(rt, account.id, seconds_left=300)
    token_provider(rt, account.id)(False)
    assert _refresh_grants(sandbox) == 1  # five minutes left: kept

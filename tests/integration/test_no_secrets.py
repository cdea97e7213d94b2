"""No token, code, verifier, client secret or password in the audit log, in any log line or in CLI output, after a
whole flow: authorize (by hand and by the demo robot), replayed and denied callbacks, a code used twice, refreshes
(explicit, and after a 401), a revoked refresh token, re-authorization, disconnect, and an unexpected exception whose
message quotes a token."""

from __future__ import annotations

import logging
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import sqlalchemy as sa
from typer.testing import CliRunner

from core import services
from core.accounts.authorization import start_authorization
from core.accounts.records import get_account
from core.accounts.sessions import visma_session
from core.cli.common import use_runtime
from core.cli.main import app
from core.db import models
from core.db.models import AccountToken
from core.demo.constants import DEMO_CLIENT_SECRET, DEMO_PASSWORD, DEMO_USER_ALL_COMPANIES
from core.demo.login import login_and_consent

BAKKERIJ = "Bakkerij De Gouden Korst B.V."
TRANSPORT = "Transportbedrijf Visser B.V."


class _Spy:
    """Wraps the runtime's identity client and remembers every secret that passes through it."""

    def __init__(self, rt, monkeypatch):
        self.secrets: set[str] = set()
        oauth = rt.oauth
        real_exchange, real_refresh = oauth.exchange_code, oauth.refresh

        def exchange(code, verifier, redirect_uri):
            self.secrets.update({code, verifier})
            tokens = real_exchange(code, verifier, redirect_uri)
            self._keep(tokens)
            return tokens

        def refresh(refresh_token):
            self.secrets.add(refresh_token)
            tokens = real_refresh(refresh_token)
            self._keep(tokens)
            return tokens

        monkeypatch.setattr(oauth, "exchange_code", exchange)
        monkeypatch.setattr(oauth, "refresh", refresh)

    def _keep(self, tokens) -> None:
        self.secrets.add(tokens.access_token)
        if tokens.refresh_token:
            self.secrets.add(tokens.refresh_token)
        self.secrets.add(tokens.access_token.split(".")[-1])  # a JWT's signature alone is a secret too


def _current_tokens(rt, name):
    account_id = get_account(rt, name).id
    with rt.engine.connect() as conn:
        row = conn.execute(sa.select(AccountToken).where(AccountToken.account_id == account_id)).one()
    return account_id, rt.cipher.decrypt(row.access_token_enc), rt.cipher.decrypt(row.refresh_token_enc)


def test_no_secret_in_audit_log_logs_or_cli_output_after_a_whole_flow(rt, sandbox, caplog, monkeypatch):
    caplog.set_level(logging.DEBUG)  # every logger, httpx and httpcore included
    spy = _Spy(rt, monkeypatch)
    runner = CliRunner()
    outputs: list[str] = []

    def cli(*args: str):
        with use_runtime(rt):
            result = runner.invoke(app, list(args))
        outputs.append(result.output + (result.stderr or ""))
        return result

    def browser(url: str, **kw) -> str:
        """The person's browser at Visma's pages: its traffic is not the product's log."""
        with caplog.at_level(logging.INFO, logger="httpcore"):
            return login_and_consent(url, email=DEMO_USER_ALL_COMPANIES, password=DEMO_PASSWORD, **kw)

    def revoke(token: str, hint: str) -> None:
        httpx.post(f"{sandbox.url}/connect/revocation", data={"token": token, "token_type_hint": hint},
                   auth=(rt.settings.client_id, rt.settings.client_secret), timeout=5).raise_for_status()

    assert cli("accounts", "add", "A").exit_code == 0
    assert cli("accounts", "add", "B").exit_code == 0
    # by hand: authorize, complete, the same callback again
    url = cli("accounts", "authorize", "A", "--json").stdout
    url = url.split('"authorization_url": "')[1].split('"')[0]
    callback = browser(url, company=BAKKERIJ)
    assert cli("accounts", "complete", callback, "--json").exit_code == 0
    assert cli("accounts", "complete", callback).exit_code == 1
    # refreshes: explicit, then after Visma refused the access token (401)
    assert cli("accounts", "refresh", "A", "--json").exit_code == 0
    account_id, access, _ = _current_tokens(rt, "A")
    revoke(access, "access_token")
    assert visma_session(rt, account_id).company_settings().name == BAKKERIJ
    # denied, then the demo robot
    denied = browser(start_authorization(rt, "B", actor="t"), company=TRANSPORT, allow=False)
    assert cli("accounts", "complete", denied, "--json").exit_code == 1
    assert cli("accounts", "authorize", "B", "--demo-user", DEMO_USER_ALL_COMPANIES, "--company", TRANSPORT,
               "--json").exit_code == 0
    # a revoked refresh token: needs re-authorization; then re-authorize and disconnect
    account_id, _, refresh = _current_tokens(rt, "A")
    revoke(refresh, "refresh_token")
    with rt.engine.begin() as conn:
        conn.execute(sa.update(AccountToken).where(AccountToken.account_id == account_id)
                     .values(expires_at=models.utcnow() - timedelta(seconds=5)))
    assert cli("accounts", "refresh", "A", "--json").exit_code == 1
    # the same code under a new state: invalid_grant at the exchange (Visma may revoke what that code gave)
    state = parse_qs(urlsplit(start_authorization(rt, "A", actor="t")).query)["state"][0]
    code = parse_qs(urlsplit(callback).query)["code"][0]
    assert cli("accounts", "complete", f"http://localhost:8501/?code={code}&state={state}").exit_code == 1
    assert cli("accounts", "authorize", "A", "--demo-user", DEMO_USER_ALL_COMPANIES, "--company", BAKKERIJ,
               "--json").exit_code == 0
    _, access, refresh = _current_tokens(rt, "A")
    assert cli("accounts", "list", "--json").exit_code == 0
    assert cli("accounts", "disconnect", "A", "--json").exit_code == 0
    assert cli("accounts", "disconnect", "B").exit_code == 0

    # an unexpected exception whose message quotes a token
    def leaky(_rt):
        raise RuntimeError(f"Authorization: Bearer {access} refresh={refresh}")

    monkeypatch.setattr(services, "list_accounts", leaky)
    assert cli("accounts", "list", "--json").exit_code == 1

    secrets = {s for s in spy.secrets if s} | {DEMO_CLIENT_SECRET, DEMO_PASSWORD}
    assert len(spy.secrets) >= 12 and all(len(s) >= 11 for s in secrets)  # codes, verifiers, 4+ token pairs

    with rt.engine.connect() as conn:
        audit_rows = [" ".join(str(v) for v in row) for row in conn.execute(sa.text("SELECT * FROM audit_event"))]
    assert len(audit_rows) >= 15
    log_lines = []
    for record in caplog.records:
        log_lines.append(record.getMessage())
        if record.exc_info:
            log_lines.append(logging.Formatter().formatException(record.exc_info))
    assert any("/connect/token" in line for line in log_lines)  # httpx's request lines were captured
    cli_log = (rt.settings.data_dir / "cli.log").read_text()

    places = {"audit_event": "\n".join(audit_rows), "log": "\n".join(log_lines), "cli output": "\n".join(outputs),
              "cli.log": cli_log}
    leaks = [(where, f"{secret[:4]}… ({len(secret)} chars)") for where, text in places.items()
             for secret in secrets if secret in text]
    assert leaks == []

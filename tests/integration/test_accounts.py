"""Accounts and OAuth against the sandbox over real HTTP: the whole flow and every bad callback."""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import fields, replace
from datetime import timedelta
from types import SimpleNamespace
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from core.accounts.authorization import complete_authorization, start_authorization
from core.accounts.records import create_account, get_account, list_accounts
from core.accounts.revocation import delete_account, disconnect_account
from core.accounts.sessions import visma_session
from core.accounts.tokens import refresh_account
from core.db.models import Account, AccountToken, AuditEvent, CompanyMapping, OAuthState, PayrollCompany
from core.demo.constants import DEMO_PASSWORD
from core.demo.login import login_and_consent
from core.errors import ServiceError
from core.visma.errors import VismaError
from tests.support.runtime import authorize

BAKKERIJ = "Bakkerij De Gouden Korst B.V."
INSTALLATIE = "Van der Berg Installatietechniek B.V."
INSTALLATIE_ID = "47644625-860d-434d-ad10-b6057e3b5106"
DRUKKERIJ_ID = "81f744cc-bedb-4e3b-97b7-4cd58d4d5e20"
JOOST = "joost.devries@demo-bureau.nl"


def _tokens(rt):
    with Session(rt.engine) as s:
        return s.exec(select(AccountToken)).all()


def _account(rt, name):
    with Session(rt.engine) as s:
        return s.exec(select(Account).where(Account.name == name)).one()


def _callback(rt, name, company=BAKKERIJ, **kw):
    url = start_authorization(rt, name, actor="test")
    return url, login_and_consent(url, password=DEMO_PASSWORD, company=company,
                                  email=kw.pop("email", "anna.dekker@demo-bureau.nl"), **kw)


def _map(rt, name, visma_company_id, code="P1"):
    """A mapping row as core.mappings.companies writes it (payroll company → this account's Visma company)."""
    with Session(rt.engine) as s:
        account = s.exec(select(Account).where(Account.name == name)).one()
        company = PayrollCompany(code=code, name=f"Payroll {code}")
        s.add(company)
        s.flush()
        s.add(CompanyMapping(payroll_company_id=company.id, account_id=account.id, visma_company_id=visma_company_id))
        s.commit()


# ------------------------------------------------------------------------------------------------ create


def test_create_account_trims_and_refuses_blank_and_duplicates(rt):
    created = create_account(rt, "  salaris@demo-bureau.nl  ", actor="test")
    assert created.name == "salaris@demo-bureau.nl"
    assert created.status == "not_authorized"
    with pytest.raises(ServiceError) as blank:
        create_account(rt, "   ", actor="test")
    assert blank.value.code == "name_blank"
    with pytest.raises(ServiceError) as dup:
        create_account(rt, "SALARIS@demo-bureau.nl", actor="test")
    assert dup.value.code == "name_taken" and "already exists" in dup.value.message
    assert [a.name for a in list_accounts(rt)] == ["salaris@demo-bureau.nl"]


# ------------------------------------------------------------------------------------------------ the flow


def test_authorization_url_has_state_pkce_scopes_and_company_chooser(rt):
    create_account(rt, "a", actor="test")
    url = start_authorization(rt, "a", actor="test")
    q = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    assert url.startswith(f"{rt.settings.identity_url}/connect/authorize?")
    assert q["response_type"] == "code" and q["client_id"] == rt.settings.client_id
    assert q["scope"].split() == ["ea:api", "offline_access", "ea:accounting", "ea:sales_readonly"]
    assert q["prompt"] == "select_account"
    assert q["code_challenge_method"] == "S256" and len(q["code_challenge"]) == 43
    assert q["redirect_uri"] == rt.settings.redirect_uri
    with Session(rt.engine) as s:
        pending = s.get(OAuthState, q["state"])
    assert pending is not None
    assert 595 <= (pending.expires_at - pending.created_at).total_seconds() <= 600
    assert "code_verifier" not in url and pending.code_verifier_enc.startswith("gAAAA")  # Fernet, not the verifier


def test_whole_flow_authorizes_reads_the_company_and_stores_tokens(rt):
    account = authorize(rt, "Bakkerij", BAKKERIJ)
    assert account.status == "authorized"
    assert account.visma_company_name == BAKKERIJ
    assert account.visma_company_id == "a30dbfb4-d516-402f-bae3-ae900cd65085"
    assert account.token_expires_at is not None and account.warnings == ()
    [token] = _tokens(rt)
    assert token.refresh_token_enc and token.version == 1
    # the stored token works against the API
    assert visma_session(rt, account.id).company_settings().name == BAKKERIJ
    with Session(rt.engine) as s:
        actions = [e.action for e in s.exec(select(AuditEvent).order_by(AuditEvent.id)).all()]
    assert actions == ["account.created", "authorization.started", "authorization.completed"]


def test_same_login_authorized_twice_gives_two_accounts_for_two_companies(rt):
    first = authorize(rt, "Bakkerij", BAKKERIJ)
    second = authorize(rt, "Installatie", INSTALLATIE)
    assert first.visma_company_id != second.visma_company_id
    listed = {a.name: a for a in list_accounts(rt)}
    assert listed["Installatie"].visma_company == INSTALLATIE
    assert len(_tokens(rt)) == 2


def test_callback_as_mapping_of_query_params(rt):
    create_account(rt, "a", actor="test")
    _, callback = _callback(rt, "a")
    params = {k: v[0] for k, v in parse_qs(urlsplit(callback).query).items()}
    assert complete_authorization(rt, params, actor="test").status == "authorized"


# ------------------------------------------------------------------------------------------------ bad callbacks


def test_forged_state_is_refused_and_nothing_is_stored(rt):
    create_account(rt, "a", actor="test")
    _, callback = _callback(rt, "a")
    forged = callback.replace("state=", "state=forged")
    with pytest.raises(ServiceError) as err:
        complete_authorization(rt, forged, actor="test")
    assert err.value.entry_id == "oauth-state-invalid" and err.value.code == "state_unknown"
    assert "Nothing was stored" in err.value.message
    assert _tokens(rt) == [] and _account(rt, "a").status == "not_authorized"
    # no state at all
    with pytest.raises(ServiceError) as missing:
        complete_authorization(rt, "http://localhost:8501/?code=abc", actor="test")
    assert missing.value.code == "state_missing"
    with pytest.raises(ServiceError) as junk:
        complete_authorization(rt, "http://localhost:8501/", actor="test")
    assert junk.value.code == "callback_invalid"


def test_expired_state_is_refused(rt, clock):
    create_account(rt, "a", actor="test")
    _, callback = _callback(rt, "a")
    clock.advance(601, sandbox=False)
    with pytest.raises(ServiceError) as err:
        complete_authorization(rt, callback, actor="test")
    assert err.value.code == "state_expired" and "10 minutes" in err.value.message
    assert _tokens(rt) == []


def test_reused_state_is_refused(rt):
    create_account(rt, "a", actor="test")
    _, callback = _callback(rt, "a")
    complete_authorization(rt, callback, actor="test")
    before = _tokens(rt)[0].version
    with pytest.raises(ServiceError) as err:
        complete_authorization(rt, callback, actor="test")
    assert err.value.code == "state_reused" and err.value.entry_id == "oauth-state-invalid"
    assert _tokens(rt)[0].version == before


def test_denied_consent_is_recorded_in_words(rt):
    create_account(rt, "a", actor="test")
    _, callback = _callback(rt, "a", allow=False)
    assert "error=access_denied" in callback
    with pytest.raises(ServiceError) as err:
        complete_authorization(rt, callback, actor="test")
    assert err.value.entry_id == "consent-denied"
    assert "Allow" in err.value.message and "access_denied" not in err.value.message
    account = _account(rt, "a")
    assert account.status == "not_authorized" and account.status_entry_id == "consent-denied"
    assert "Allow" in account.status_reason
    assert _tokens(rt) == []
    with Session(rt.engine) as s:
        assert s.exec(select(AuditEvent).where(AuditEvent.action == "authorization.failed")).one()


@pytest.mark.parametrize("error", ["invalid_scope", "server_error", "something_new"])
def test_other_callback_errors_are_explained(rt, error):
    create_account(rt, "a", actor="test")
    url = start_authorization(rt, "a", actor="test")
    state = parse_qs(urlsplit(url).query)["state"][0]
    with pytest.raises(ServiceError) as err:
        complete_authorization(rt, f"http://localhost:8501/?error={error}&state={state}", actor="test")
    assert "authoriz" in err.value.message.lower() and "Traceback" not in err.value.message
    assert _account(rt, "a").status_reason


def test_code_used_twice_at_visma_is_explained(rt):
    """A callback whose code was already exchanged (another state of the same account) → invalid_grant in words."""
    create_account(rt, "a", actor="test")
    _, callback = _callback(rt, "a")
    complete_authorization(rt, callback, actor="test")
    url = start_authorization(rt, "a", actor="test")
    state = parse_qs(urlsplit(url).query)["state"][0]
    code = parse_qs(urlsplit(callback).query)["code"][0]
    with pytest.raises(ServiceError) as err:
        complete_authorization(rt, {"code": code, "state": state}, actor="test")
    assert err.value.entry_id == "authorization-code-invalid" and "5 minutes" in err.value.message
    assert _account(rt, "a").status == "authorized"  # the earlier authorization keeps working


def test_wrong_company_on_reauthorization_is_refused(rt):
    """Joost's *default company* skips the chooser and authorizes the company without the API module."""
    authorize(rt, "Installatie", INSTALLATIE, email=JOOST)  # asks for Installatie; the default company decides
    account = _account(rt, "Installatie")
    assert account.visma_company_id == DRUKKERIJ_ID  # the article's trap: the chooser was skipped
    assert account.status_entry_id == "api-module-inactive" and account.status == "authorized"
    # an account mapped to Installatie, re-authorized by Joost, lands on Drukkerij again → refused
    create_account(rt, "Mapped", actor="test")
    authorize(rt, "Mapped", INSTALLATIE, create=False)  # Anna chooses Installatie
    _map(rt, "Mapped", INSTALLATIE_ID)
    url = start_authorization(rt, "Mapped", actor="test")
    callback = login_and_consent(url, email=JOOST, password=DEMO_PASSWORD)
    with pytest.raises(ServiceError) as err:
        complete_authorization(rt, callback, actor="test")
    assert err.value.entry_id == "wrong-company-authorized"
    assert "default company" in err.value.message and INSTALLATIE in err.value.message
    mapped = _account(rt, "Mapped")
    assert mapped.visma_company_id == INSTALLATIE_ID and mapped.status == "authorized"


def test_mappings_survive_reauthorization_and_company_switch_warns(rt):
    authorize(rt, "a", BAKKERIJ)
    _map(rt, "a", "a30dbfb4-d516-402f-bae3-ae900cd65085")
    again = authorize(rt, "a", BAKKERIJ, create=False)
    assert again.status == "authorized" and again.mapped_companies == ("Payroll P1",)
    assert _tokens(rt)[0].version == 2
    # an unmapped account may switch company, with a warning
    authorize(rt, "b", BAKKERIJ)
    switched = authorize(rt, "b", INSTALLATIE, create=False)
    assert switched.visma_company_name == INSTALLATIE
    assert any("now points at" in w for w in switched.warnings)


def test_api_module_inactive_at_authorization_is_not_an_auth_failure(rt):
    account = authorize(rt, "Drukkerij", "Drukkerij Smit & Co B.V.")
    assert account.status == "authorized"
    assert account.status_entry_id == "api-module-inactive"
    assert "API module" in account.status_reason and "default company" in account.status_reason
    # companysettings is refused, but the token says which company was chosen (customer_name claim)
    assert account.visma_company_name == "Drukkerij Smit & Co B.V."
    assert len(_tokens(rt)) == 1
    # once the customer activates the module, an explicit refresh clears the note and learns the company's name
    httpx.put(f"{rt.sandbox_url}/_sandbox/companies/{DRUKKERIJ_ID}/state", json={"state": "ok"}).raise_for_status()
    refreshed = refresh_account(rt, "Drukkerij", actor="test")
    assert refreshed.status_entry_id is None and refreshed.visma_company_name == "Drukkerij Smit & Co B.V."


# ------------------------------------------------------------------------------------------------ disconnect


@pytest.mark.parametrize("failure", [
    VismaError("Connection refused", method="GET", path="/v2/companysettings", transport_error="ConnectError"),
    VismaError("Service Unavailable", status=503, method="GET", path="/v2/companysettings"),
    httpx.DecodingError("garbled answer"),
])
def test_company_unreachable_after_the_code_exchange_stores_no_tokens(rt, monkeypatch, failure):
    create_account(rt, "a", actor="test")
    _, callback = _callback(rt, "a")

    def unreachable(token):
        raise failure

    monkeypatch.setattr(rt.visma, "company_settings", unreachable)
    with pytest.raises(ServiceError) as err:
        complete_authorization(rt, callback, actor="test")
    assert err.value.code == "visma_unavailable" and err.value.entry_id == "visma-unavailable"
    assert f"({type(failure).__name__})" in err.value.message
    assert _tokens(rt) == []
    account = _account(rt, "a")
    assert account.status == "not_authorized" and account.status_entry_id == "visma-unavailable"


def test_company_settings_refused_still_authorizes_with_a_note(rt, monkeypatch):
    create_account(rt, "a", actor="test")
    _, callback = _callback(rt, "a")

    def refused(token):
        raise VismaError("Not found", status=404, method="GET", path="/v2/companysettings")

    monkeypatch.setattr(rt.visma, "company_settings", refused)
    account = complete_authorization(rt, callback, actor="test")
    assert account.status == "authorized" and len(_tokens(rt)) == 1
    assert account.status_reason.startswith("Authorized, but Visma refuses to show the company's settings")
    assert account.visma_company_id == "a30dbfb4-d516-402f-bae3-ae900cd65085"  # from the token's claims


def test_disconnect_revokes_at_visma_and_wipes_tokens(rt, sandbox):
    account = authorize(rt, "a", BAKKERIJ)
    old_refresh = rt.cipher.decrypt(_tokens(rt)[0].refresh_token_enc)
    _map(rt, "a", account.visma_company_id)
    result = disconnect_account(rt, "a", actor="test")
    assert result.status == "not_authorized" and result.warnings == ()
    assert result.mapped_companies == ("Payroll P1",)
    assert _tokens(rt) == []
    answer = httpx.post(f"{sandbox.url}/connect/token", data={"grant_type": "refresh_token",
                                                             "refresh_token": old_refresh},
                        auth=(rt.settings.client_id, rt.settings.client_secret))
    assert answer.status_code == 400 and answer.json()["error"] == "invalid_grant"
    with pytest.raises(ServiceError) as err:
        visma_session(rt, account.id)
    assert err.value.entry_id == "account-not-authorized"


def test_delete_account_refused_while_mapped(rt):
    authorize(rt, "a", BAKKERIJ)
    _map(rt, "a", "x")
    with pytest.raises(ServiceError) as err:
        delete_account(rt, "a", actor="test")
    assert err.value.code == "account_in_use"
    create_account(rt, "b", actor="test")
    delete_account(rt, "b", actor="test")
    assert [a.name for a in list_accounts(rt)] == ["a"]
    with pytest.raises(ServiceError) as missing:
        refresh_account(rt, "b", actor="test")
    assert missing.value.code == "account_not_found"


# ------------------------------------------------------------------------------------------ listing at scale


@contextmanager
def _statements(engine):
    """The SQL statements the engine runs inside the block (SQLAlchemy ``before_cursor_execute``)."""
    seen: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)


def _bulk_accounts(engine, start: int, count: int) -> None:
    """``count`` accounts, each with two mapped payroll companies, plus one account without any."""
    from core.db.models import utcnow

    now = utcnow()
    with engine.begin() as conn:
        for i in range(start, start + count):
            account_id = conn.execute(sa.insert(Account).values(
                name=f"acc-{i:03d}", status="authorized", authorized_at=now, reauthorize_by=now + timedelta(days=30),
                created_at=now, updated_at=now)).inserted_primary_key[0]
            for suffix in ("B", "A"):
                company_id = conn.execute(sa.insert(PayrollCompany).values(
                    code=f"P{i:03d}{suffix}", name=f"Payroll {i:03d} {suffix}", source="test",
                    created_at=now)).inserted_primary_key[0]
                conn.execute(sa.insert(CompanyMapping).values(
                    payroll_company_id=company_id, account_id=account_id, auto_send=False, created_at=now,
                    updated_at=now))
        conn.execute(sa.insert(Account).values(name=f"zz-unmapped-{start}", status="not_authorized", created_at=now,
                                               updated_at=now))


def test_list_accounts_runs_two_queries_whatever_the_number_of_accounts(engine):
    runtime = SimpleNamespace(engine=engine)
    _bulk_accounts(engine, 0, 5)
    with _statements(engine) as few:
        small = list_accounts(runtime)
    _bulk_accounts(engine, 5, 45)
    with _statements(engine) as many:
        listed = list_accounts(runtime)
    assert len(small) == 6 and len(listed) == 52
    assert len(many) == len(few) == 2, many
    by_name = {a.name: a for a in listed}
    assert by_name["acc-007"].mapped_companies == ("Payroll 007 A", "Payroll 007 B")  # sorted by name
    assert by_name["zz-unmapped-0"].mapped_companies == ()
    assert by_name["acc-007"].reauthorize_by == by_name["acc-007"].authorized_at + timedelta(days=30)
    assert {f.name for f in fields(listed[0])} == {
        "id", "name", "status", "status_reason", "status_entry_id", "visma_company_id", "visma_company_name",
        "visma_company", "scope", "token_expires_at", "last_refreshed_at", "authorized_at", "reauthorize_by",
        "created_at", "mapped_companies"}
    # the single-account read gives the same record
    assert get_account(runtime, "acc-007") == by_name["acc-007"]


# ------------------------------------------------------------------------------------------ re-authorize by


def test_authorization_sets_reauthorize_by_from_the_configured_lifetime(rt):
    assert rt.settings.refresh_token_lifetime_days == 30
    account = authorize(rt, "a", BAKKERIJ)
    assert account.reauthorize_by == account.authorized_at + timedelta(days=30)
    assert list_accounts(rt)[0].reauthorize_by == account.reauthorize_by
    refreshed = refresh_account(rt, "a", actor="test")
    assert refreshed.last_refreshed_at is not None
    assert refreshed.reauthorize_by == account.reauthorize_by  # a refresh does not move it
    rt.settings = replace(rt.settings, refresh_token_lifetime_days=7)
    again = authorize(rt, "a", BAKKERIJ, create=False)  # a new authorization starts a new lifetime
    assert again.reauthorize_by == again.authorized_at + timedelta(days=7)
    rt.settings = replace(rt.settings, refresh_token_lifetime_days=0)  # unknown: no deadline
    assert authorize(rt, "a", BAKKERIJ, create=False).reauthorize_by is None
    rt.settings = replace(rt.settings, refresh_token_lifetime_days=30)
    authorize(rt, "a", BAKKERIJ, create=False)
    assert disconnect_account(rt, "a", actor="test").reauthorize_by is None


def test_one_connection_pool_per_process(rt):
    """Every account's session goes through the runtime's one API client and its pool; the identity client shares
    one transport between its calls; connections are kept alive between calls."""
    first = authorize(rt, "Bakkerij", BAKKERIJ)
    second = authorize(rt, "Installatie", INSTALLATIE)
    assert rt.visma is rt.visma and rt.oauth is rt.oauth
    sessions = [visma_session(rt, a.id) for a in (first, second, first)]
    assert all(s.client is rt.visma for s in sessions)
    assert rt.oauth._client()._transport is rt.oauth._client()._transport  # noqa: SLF001
    for session in sessions * 3:
        session.company_settings()
    pool = rt.visma._http._transport._pool  # noqa: SLF001 - httpx's connection pool of the one client
    assert len(pool.connections) == 1  # nine sequential calls for two accounts, one kept-alive connection

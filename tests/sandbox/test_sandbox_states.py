"""Company states (one per article error and more) and the faults, switched through the admin API."""

from __future__ import annotations

import json
import re
import time

import httpx
import pytest

from sandbox import seed
from sandbox.testing import error_of

BAKKERIJ = "Bakkerij De Gouden Korst B.V."
DATA_PATHS = ["/v2/companysettings", "/v2/fiscalyears", "/v2/accounts", "/v2/costcenters", "/v2/vouchers"]


def voucher(day: str = "2026-03-31") -> dict:
    return {"VoucherDate": day, "VoucherText": "Loonjournaal maart 2026",
            "Rows": [{"AccountNumber": 4000, "DebitAmount": 250.5}, {"AccountNumber": 1520, "CreditAmount": 250.5}]}


def set_state(sbx, company_id: str, state: str, **extra) -> dict:
    r = httpx.put(f"{sbx.url}/_sandbox/companies/{company_id}/state", json={"state": state, **extra})
    assert r.status_code == 200, r.text
    return r.json()


def set_faults(sbx, company_id: str, **faults) -> dict:
    r = httpx.put(f"{sbx.url}/_sandbox/companies/{company_id}/faults", json=faults)
    assert r.status_code == 200, r.text
    return r.json()


def test_admin_lists_companies_with_states(sbx):
    companies = httpx.get(f"{sbx.url}/_sandbox/companies").json()
    assert len(companies) >= 6
    states = {c["name"]: c["state"] for c in companies}
    assert states["Kapsalon Het Knipperlicht"] == "no_fiscal_year"
    assert states["Drukkerij Smit & Co B.V."] == "api_module_inactive"
    assert states["Administratiekantoor Mulder V.O.F."] == "ledger_empty"
    assert sum(s == "ok" for s in states.values()) == 4
    users = {u["email"]: u for u in httpx.get(f"{sbx.url}/_sandbox/users").json()}
    assert users[seed.JOOST]["default_company"] == seed.DRUKKERIJ
    assert users[seed.EVA]["companies"] == [seed.HOVENIER]


def test_no_fiscal_year_seeded_company(api, check, sbx):
    client = api("Kapsalon Het Knipperlicht")
    years = check(client.get("/v2/fiscalyears")).json()["Data"]
    assert [y["StartDate"] for y in years] == ["2025-01-01T00:00:00Z"]
    r = check(client.post("/v2/vouchers", json=voucher()))
    err = error_of(r)
    assert r.status_code == 400 and err["ErrorCode"] == 3001
    assert "Resource not found: fiscalYearId" in err["DeveloperErrorMessage"]
    # the article's fix: create the fiscal year
    created = check(client.post("/v2/fiscalyears", json={"StartDate": "2026-01-01", "EndDate": "2026-12-31"}))
    assert created.status_code == 201
    assert check(client.post("/v2/vouchers", json=voucher())).status_code == 201
    states = {c["id"]: c["state"] for c in httpx.get(f"{sbx.url}/_sandbox/companies").json()}
    assert states[seed.KAPSALON] == "ok"


@pytest.mark.parametrize("path", DATA_PATHS)
def test_api_module_inactive_on_every_data_endpoint(api, check, path):
    client = api("Drukkerij Smit & Co B.V.")  # OAuth succeeds
    r = check(client.get(path))
    err = error_of(r)
    assert r.status_code == 403 and err["ErrorCode"] == 4002
    assert err["DeveloperErrorMessage"] == "ForbiddenRequestException - No access to module: api_standard"


def test_ledger_empty_reproduces_the_visma_net_body(api, check):
    client = api("Administratiekantoor Mulder V.O.F.")
    assert check(client.get("/v2/fiscalyears")).status_code == 200
    r = client.post("/v2/vouchers", json=voucher())
    assert r.status_code == 400
    body = r.json()
    assert list(body) == ["message"]
    assert re.fullmatch(
        r"VismaId: [0-9a-f-]{36}\. Error creating journal transaction\. Error: Inserting 'General ledger batch' record "
        r"raised at least one error\. Please review the errors\.\r\nError: 'Ledger' cannot be empty\.\r\n",
        body["message"])
    assert '\\r\\nError: \'Ledger\' cannot be empty.\\r\\n"}' in r.text
    assert client.get("/v2/vouchers").json()["Data"] == []


@pytest.mark.parametrize(
    ("state", "code", "message"),
    [
        ("no_user_access", 4011, "ForbiddenRequestException - The authenticated user does not have access to "
                                 "eAccounting for this company."),
        ("inactive", 4004, "CompanyNotActive - The company is not active."),
    ],
)
def test_states_blocking_every_call(api, check, sbx, state, code, message):
    client = api(BAKKERIJ)
    set_state(sbx, seed.BAKKERIJ, state)
    for path in DATA_PATHS:
        err = error_of(check(client.get(path)))
        assert (err["ErrorCode"], err["DeveloperErrorMessage"]) == (code, message)
    set_state(sbx, seed.BAKKERIJ, "ok")
    assert client.get("/v2/vouchers").status_code == 200


def test_read_only_user_can_read_not_write(api, check, sbx):
    client = api(BAKKERIJ)
    set_state(sbx, seed.BAKKERIJ, "read_only")
    assert check(client.get("/v2/vouchers")).status_code == 200
    r = check(client.post("/v2/vouchers", json=voucher()))
    err = error_of(r)
    assert r.status_code == 403 and err["ErrorCode"] == 4019
    assert err["DeveloperErrorMessage"] == (
        "NoPermissionForReadonlyUser - The user has read-only permissions and cannot create or change data.")


def test_period_locked(api, check, sbx):
    client = api(BAKKERIJ)
    set_state(sbx, seed.BAKKERIJ, "period_locked", locked_to="2026-06-30")
    err = error_of(check(client.post("/v2/vouchers", json=voucher())))
    assert err["ErrorCode"] == 4026
    assert err["DeveloperErrorMessage"] == (
        "VoucherDateIsInLockedPeriod - The voucher date 2026-03-31 is in a locked accounting period.")
    assert check(client.get("/v2/companysettings")).json()["AccountingLockedTo"] == "2026-06-30T00:00:00Z"
    assert check(client.post("/v2/vouchers", json=voucher("2026-07-31"))).status_code == 201


def test_period_locked_default_is_this_month(api, sbx):
    company = set_state(sbx, seed.BAKKERIJ, "period_locked")
    now = httpx.get(f"{sbx.url}/_sandbox/clock").json()["now"]
    assert company["locked_to"][:7] == now[:7]


def test_year_locked(api, check, sbx):
    client = api(BAKKERIJ)
    set_state(sbx, seed.BAKKERIJ, "year_locked")
    err = error_of(check(client.post("/v2/vouchers", json=voucher())))
    assert err["ErrorCode"] == 4038
    assert err["DeveloperErrorMessage"] == ("VoucherDateIsInLockedYearException - The voucher date 2026-03-31 is in a "
                                            "fiscal year that is locked for accounting.")
    assert all(y["IsLockedForAccounting"] for y in check(client.get("/v2/fiscalyears")).json()["Data"])


def test_switching_a_healthy_company_to_no_fiscal_year_and_back(api, check, sbx):
    client = api(BAKKERIJ)
    set_state(sbx, seed.BAKKERIJ, "no_fiscal_year")
    assert error_of(check(client.post("/v2/vouchers", json=voucher())))["ErrorCode"] == 3001
    set_state(sbx, seed.BAKKERIJ, "ok")
    assert check(client.post("/v2/vouchers", json=voucher())).status_code == 201


def test_unknown_state_and_company(sbx):
    r = httpx.put(f"{sbx.url}/_sandbox/companies/{seed.BAKKERIJ}/state", json={"state": "on_fire"})
    assert r.status_code == 400 and "known" in r.json()["error"]
    r = httpx.put(f"{sbx.url}/_sandbox/companies/nope/state", json={"state": "ok"})
    assert r.status_code == 404


# ---------------------------------------------------------------------------------------------------------- faults


def test_rate_limit(api, check, sbx):
    client = api(BAKKERIJ)
    set_faults(sbx, seed.BAKKERIJ, rate_limit_per_minute=3)
    for _ in range(3):
        assert client.get("/v2/fiscalyears").status_code == 200
    r = check(client.get("/v2/fiscalyears"))
    err = error_of(r)
    assert r.status_code == 429 and err["ErrorCode"] == 4010
    m = re.fullmatch(r"API calls quota exceeded! maximum admitted 3 per Minute\. Try again in (\d+) seconds\.",
                     err["DeveloperErrorMessage"])
    assert m and 1 <= int(m.group(1)) <= 60
    assert "retry-after" not in r.headers
    # per URL: another endpoint is not limited yet
    assert client.get("/v2/accounts").status_code == 200
    httpx.post(f"{sbx.url}/_sandbox/clock", json={"advance_seconds": 61})
    assert client.get("/v2/fiscalyears").status_code == 200


def test_rate_limit_seconds_count_down_and_retry_after_switch(api, sbx):
    client = api(BAKKERIJ)
    set_faults(sbx, seed.BAKKERIJ, rate_limit_per_minute=1)
    httpx.put(f"{sbx.url}/_sandbox/settings", json={"retry_after_header": True})
    client.get("/v2/vouchers")
    httpx.post(f"{sbx.url}/_sandbox/clock", json={"advance_seconds": 20})
    r = client.get("/v2/vouchers")
    assert "Try again in 40 seconds." in r.json()["DeveloperErrorMessage"]
    assert r.headers["retry-after"] == "40"


def test_visma_default_rate_limit_is_600(api, sbx):
    client = api(BAKKERIJ)
    codes = [client.get("/v2/costcenters").status_code for _ in range(601)]
    assert codes[:600] == [200] * 600 and codes[600] == 429
    assert "maximum admitted 600 per Minute" in client.get("/v2/costcenters").text


@pytest.mark.parametrize(("status", "code", "message"), [
    (500, 5000, "InternalServerError - An unexpected error occurred."),
    (503, 5001, "CantReachSystemDependendency - A system dependency could not be reached."),
])
def test_http_errors(api, check, sbx, status, code, message):
    client = api(BAKKERIJ)
    set_faults(sbx, seed.BAKKERIJ, http_error=status)
    r = check(client.post("/v2/vouchers", json=voucher()))
    err = error_of(r)
    assert r.status_code == status and (err["ErrorCode"], err["DeveloperErrorMessage"]) == (code, message)
    assert httpx.get(f"{sbx.url}/_sandbox/vouchers").json() == []
    set_faults(sbx, seed.BAKKERIJ, http_error=None)
    assert client.post("/v2/vouchers", json=voucher()).status_code == 201


def test_latency(api, sbx):
    client = api(BAKKERIJ)
    set_faults(sbx, seed.BAKKERIJ, latency_ms=300)
    start = time.monotonic()
    assert client.get("/v2/fiscalyears").status_code == 200
    assert time.monotonic() - start >= 0.3
    with pytest.raises(httpx.ReadTimeout):
        client.get("/v2/fiscalyears", timeout=0.1)


def test_latency_does_not_block_other_requests(api, sbx):
    import threading

    slow = api(BAKKERIJ)
    fast = api("Transportbedrijf Visser B.V.")
    set_faults(sbx, seed.BAKKERIJ, latency_ms=1500)
    t = threading.Thread(target=lambda: slow.get("/v2/fiscalyears"))
    t.start()
    time.sleep(0.1)
    start = time.monotonic()
    assert fast.get("/v2/fiscalyears").status_code == 200
    assert time.monotonic() - start < 1.0
    t.join()


def test_commit_then_drop(api, sbx):
    client = api(BAKKERIJ)
    faults = set_faults(sbx, seed.BAKKERIJ, commit_then_drop=1)["faults"]
    assert faults == {"latency_ms": 0, "rate_limit_per_minute": None, "http_error": None, "commit_then_drop": 1}
    with pytest.raises(httpx.RemoteProtocolError):
        client.post("/v2/vouchers", json=voucher())
    stored = httpx.get(f"{sbx.url}/_sandbox/vouchers").json()
    assert len(stored) == 1 and stored[0]["VoucherText"] == "Loonjournaal maart 2026"
    # the client reconciles by listing; the next POST goes through normally
    listed = client.get("/v2/vouchers", params={"$filter": "contains(VoucherText,'maart 2026')"}).json()
    assert [v["Id"] for v in listed["Data"]] == [stored[0]["Id"]]
    assert client.post("/v2/vouchers", json=voucher()).status_code == 201
    assert httpx.get(f"{sbx.url}/_sandbox/stats").json()["connections_dropped"] == 1


def test_faults_are_merged_and_validated(sbx):
    set_faults(sbx, seed.BAKKERIJ, latency_ms=5)
    merged = set_faults(sbx, seed.BAKKERIJ, http_error=503)["faults"]
    assert merged["latency_ms"] == 5 and merged["http_error"] == 503
    for bad in ({"http_error": 404}, {"latency_ms": -1}, {"explode": True}):
        r = httpx.put(f"{sbx.url}/_sandbox/companies/{seed.BAKKERIJ}/faults", json=bad)
        assert r.status_code == 400 and r.json()["error"]


def test_reset_restores_seed(api, sbx):
    api(BAKKERIJ).post("/v2/vouchers", json=voucher())
    set_state(sbx, seed.BAKKERIJ, "inactive")
    set_faults(sbx, seed.BAKKERIJ, http_error=500)
    httpx.post(f"{sbx.url}/_sandbox/clock", json={"advance_seconds": 999})
    httpx.post(f"{sbx.url}/_sandbox/reset").raise_for_status()
    company = next(c for c in httpx.get(f"{sbx.url}/_sandbox/companies").json() if c["id"] == seed.BAKKERIJ)
    assert company["state"] == "ok" and company["faults"]["http_error"] is None
    assert httpx.get(f"{sbx.url}/_sandbox/vouchers").json() == []
    assert abs(httpx.get(f"{sbx.url}/_sandbox/clock").json()["offset_seconds"]) < 1
    assert json.loads(httpx.get(f"{sbx.url}/_sandbox/stats").text)["vouchers_created"] == 0


def test_stats_reset(api, sbx):
    api(BAKKERIJ).get("/v2/fiscalyears")
    assert httpx.get(f"{sbx.url}/_sandbox/stats").json()["api_calls"]["GET /v2/fiscalyears"] == 1
    httpx.post(f"{sbx.url}/_sandbox/stats/reset")
    assert httpx.get(f"{sbx.url}/_sandbox/stats").json()["api_calls"] == {}


def test_stats_count_refused_calls(api, sbx):
    """A call refused with 401 or 429 still counts: support reads these counters to see what a client tried."""
    httpx.get(f"{sbx.url}/v2/fiscalyears", headers={"Authorization": "Bearer forged"})
    client = api(BAKKERIJ)
    httpx.put(f"{sbx.url}/_sandbox/companies/{seed.BAKKERIJ}/faults", json={"rate_limit_per_minute": 1})
    assert client.get("/v2/fiscalyears").status_code == 200
    assert client.get("/v2/fiscalyears").status_code == 429
    stats = httpx.get(f"{sbx.url}/_sandbox/stats").json()
    assert stats["api_calls"]["GET /v2/fiscalyears"] == 3
    assert stats["rate_limited"] == {"/v2/fiscalyears": 1}


def test_a_write_completes_after_the_client_gave_up(api, sbx):
    """Visma keeps processing a POST whose client timed out during latency: the voucher exists, unseen by the client."""
    client = api(BAKKERIJ)
    httpx.put(f"{sbx.url}/_sandbox/companies/{seed.BAKKERIJ}/faults", json={"latency_ms": 800})
    body = {"VoucherDate": "2026-03-31", "VoucherText": "gave up", "Rows": [
        {"AccountNumber": 4000, "DebitAmount": 10, "CreditAmount": 0},
        {"AccountNumber": 1100, "DebitAmount": 0, "CreditAmount": 10}]}
    with pytest.raises(httpx.ReadTimeout):
        client.post("/v2/vouchers", json=body, timeout=0.3)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and not httpx.get(f"{sbx.url}/_sandbox/vouchers").json():
        time.sleep(0.05)
    assert [v["VoucherText"] for v in httpx.get(f"{sbx.url}/_sandbox/vouchers").json()] == ["gave up"]


def test_a_reset_during_a_slow_post_discards_it(api, sbx):
    """A reset wipes tokens: a POST still waiting in the latency fault must not write into the fresh state."""
    import threading

    client = api(BAKKERIJ)
    httpx.put(f"{sbx.url}/_sandbox/companies/{seed.BAKKERIJ}/faults", json={"latency_ms": 600})
    body = {"VoucherDate": "2026-03-31", "VoucherText": "late", "Rows": [
        {"AccountNumber": 4000, "DebitAmount": 10, "CreditAmount": 0},
        {"AccountNumber": 1100, "DebitAmount": 0, "CreditAmount": 10}]}
    answers = []
    post = threading.Thread(target=lambda: answers.append(client.post("/v2/vouchers", json=body, timeout=5)))
    post.start()
    time.sleep(0.2)
    httpx.post(f"{sbx.url}/_sandbox/reset").raise_for_status()
    post.join()
    assert answers[0].status_code == 401
    assert httpx.get(f"{sbx.url}/_sandbox/vouchers").json() == []


def test_states_and_faults_can_be_part_of_the_seed(monkeypatch):
    """``start_sandbox(companies=…)`` (and a seed entry's own ``faults``) start companies broken; a reset keeps that."""
    from sandbox import start_sandbox
    from sandbox.testing import Browser, token_request

    monkeypatch.setitem(seed.COMPANIES[0], "faults", {"latency_ms": 7})  # Bakkerij's entry in seed.py
    overrides = {seed.HOVENIER: {"state": "period_locked", "locked_to": "2026-06-30",
                                 "faults": {"http_error": 503, "rate_limit_per_minute": 5}},
                 seed.TRANSPORT: {"state": "read_only"}}
    with start_sandbox(companies=overrides) as sb:
        def seen() -> dict:
            return {c["id"]: c for c in httpx.get(f"{sb.url}/_sandbox/companies").json()}

        c = seen()
        assert c[seed.BAKKERIJ]["faults"]["latency_ms"] == 7
        assert c[seed.HOVENIER]["state"] == "period_locked" and c[seed.HOVENIER]["locked_to"] == "2026-06-30"
        assert c[seed.HOVENIER]["faults"] == {"latency_ms": 0, "rate_limit_per_minute": 5, "http_error": 503,
                                              "commit_then_drop": 0}
        assert c[seed.TRANSPORT]["state"] == "read_only"
        b = Browser(sb.url)
        try:
            code = b.code(seed.EVA)["code"]
        finally:
            b.close()
        tok = token_request(sb.url, {"grant_type": "authorization_code", "code": code,
                                     "redirect_uri": "http://localhost:8501/"}).json()["access_token"]
        r = httpx.get(f"{sb.url}/v2/fiscalyears", headers={"Authorization": f"Bearer {tok}"})
        assert r.status_code == 503 and error_of(r)["ErrorCode"] == 5001  # the seeded fault acts
        set_faults(sb, seed.HOVENIER, http_error=None)
        set_state(sb, seed.TRANSPORT, "ok")
        httpx.post(f"{sb.url}/_sandbox/reset").raise_for_status()
        c = seen()
        assert c[seed.HOVENIER]["faults"]["http_error"] == 503 and c[seed.TRANSPORT]["state"] == "read_only"
        assert c[seed.BAKKERIJ]["faults"]["latency_ms"] == 7


@pytest.mark.parametrize("overrides", [
    {"00000000-0000-0000-0000-000000000000": {"state": "ok"}},
    {seed.BAKKERIJ: {"state": "on_fire"}},
    {seed.BAKKERIJ: {"faults": {"http_error": 404}}},
    {seed.BAKKERIJ: {"colour": "red"}},
])
def test_seed_overrides_are_validated(overrides):
    from sandbox import start_sandbox

    with pytest.raises(ValueError):
        start_sandbox(companies=overrides)


def test_rate_limit_counts_per_client(api, sbx):
    """Visma counts per client and URL (F18): another integration's calls do not use up this client's quota."""
    from sandbox.testing import Browser, token_request

    with sbx.store.tx() as tx:
        tx.put("client", "other-integration", {"id": "other-integration", "secret": "other-secret", "name": "Other",
                                               "redirect_uris": ["http://localhost:8501/"],
                                               "refresh_token_mode": "rotating"})
    mine = api(BAKKERIJ)
    b = Browser(sbx.url)
    try:
        code = b.code(seed.ANNA, BAKKERIJ, client_id="other-integration")["code"]
    finally:
        b.close()
    theirs = token_request(sbx.url, {"grant_type": "authorization_code", "code": code,
                                     "redirect_uri": "http://localhost:8501/"},
                           client_id="other-integration", secret="other-secret").json()["access_token"]
    set_faults(sbx, seed.BAKKERIJ, rate_limit_per_minute=1)
    assert mine.get("/v2/fiscalyears").status_code == 200
    other = httpx.get(f"{sbx.url}/v2/fiscalyears", headers={"Authorization": f"Bearer {theirs}"})
    assert other.status_code == 200
    assert mine.get("/v2/fiscalyears").status_code == 429

"""The eAccounting API client against the sandbox over real HTTP (MockTransport only for what the sandbox can't do)."""

from __future__ import annotations

import random
import socket
import threading
from datetime import date
from decimal import Decimal

import httpx
import pytest

from core.visma.client import RateLimiter, VismaClient, VismaSession, odata_quote, path_template
from core.visma.errors import VismaError, parse_error_body, retry_after_seconds
from core.visma.models import FiscalYear, LedgerAccount, VoucherInfo, fiscal_year_for, parse_date
from sandbox import seed
from tests.support.visma import Admin, Secret, TokenProvider, advancing_sleep, sandbox_token, voucher_body

BAKKERIJ = seed.BAKKERIJ
DAY = date(2026, 3, 31)  # in the seeded fiscal year 2026
FY2026 = seed.fiscal_year_id(BAKKERIJ, 2026)


@pytest.fixture
def admin(sandbox) -> Admin:
    return Admin(sandbox.url)


@pytest.fixture
def waits() -> list[float]:
    return []


@pytest.fixture
def client(sandbox, admin, waits):
    c = VismaClient(f"{sandbox.url}/v2", sleep=advancing_sleep(admin, waits), rng=random.Random(7))
    yield c
    c.close()


@pytest.fixture
def token(sandbox) -> str:
    return Secret(sandbox_token(sandbox.url, company=seed.COMPANIES[0]["name"])["access_token"])


def _token_for(sandbox, company_id: str, **kw) -> str:
    return Secret(sandbox_token(sandbox.url, company=company_id, **kw)["access_token"])


# -- typed reads ------------------------------------------------------------------------------------------------------


def test_company_settings_fiscal_years_accounts_cost_centers(client, token):
    settings = client.company_settings(token)
    assert settings.name == "Bakkerij De Gouden Korst B.V."
    assert settings.country_code == "NL" and settings.currency_code == "EUR"
    assert settings.corporate_identity_number == "30145678"
    assert "api_standard" in settings.activated_modules
    assert isinstance(settings.accounting_locked_to, date)

    years = client.fiscal_years(token)
    assert [(fy.start_date, fy.end_date) for fy in years] == [
        (date(2025, 1, 1), date(2025, 12, 31)), (date(2026, 1, 1), date(2026, 12, 31))]
    assert fiscal_year_for(years, DAY).id == FY2026
    assert fiscal_year_for(years, date(2024, 6, 1)) is None

    accounts = {a.number: a for a in client.accounts(token, FY2026)}
    assert len(accounts) == len(seed.CHART_OF_ACCOUNTS)
    assert accounts[4000] == LedgerAccount(4000, "Brutolonen", FY2026, True, True, False)
    assert accounts[4990].is_active is False
    assert accounts[1500].is_cost_center_allowed is False
    assert len(client.accounts(token)) == 2 * len(seed.CHART_OF_ACCOUNTS)  # every fiscal year

    centers = client.cost_centers(token)
    afdeling = next(c for c in centers if c.number == 1)
    assert afdeling.name == "Afdeling"
    items = {i.short_name: i for i in afdeling.items}
    assert set(items) == {"PROD", "VERK", "ADM", "LOG"}
    assert items["LOG"].is_active is False and items["PROD"].cost_center_id == afdeling.id


def test_create_voucher_201_and_read_back(client, token, admin):
    created = client.create_voucher(token, voucher_body(DAY, "Loonjournaal 2026-03", "1234.56"))
    assert created.number == "A1"
    assert created.voucher_date == DAY
    assert created.total_debit == created.total_credit == Decimal("1234.56")
    assert [r.account_number for r in created.rows] == [4000, 1520]
    again = client.create_voucher(token, voucher_body(DAY, "Loonjournaal 2026-04"))
    assert again.number == "A2"

    read = client.voucher(token, FY2026, created.id)
    assert read.id == created.id and read.fiscal_year_id == FY2026
    assert read.rows[0].debit_amount == Decimal("1234.56")
    assert len(admin.vouchers(BAKKERIJ)) == 2


def test_vouchers_paging_reads_every_page(client, token, admin):
    for i in range(7):
        client.create_voucher(token, voucher_body(DAY, f"Loonjournaal {i}"))
    admin.reset_stats()
    vouchers = client.vouchers(token, FY2026, page_size=3)
    assert sorted(v.voucher_text for v in vouchers) == [f"Loonjournaal {i}" for i in range(7)]
    assert admin.calls("GET /v2/vouchers/{fiscalyearId}") == 3  # pages 1, 2, 3 — and not a fourth
    assert len(client.vouchers(token, page_size=500)) == 7  # /v2/vouchers: all fiscal years


def test_find_vouchers_by_text_escapes_quotes(client, token):
    client.create_voucher(token, voucher_body(DAY, "Loon maart - O'Brien"))
    client.create_voucher(token, voucher_body(DAY, "Loon maart - Jansen"))
    found = client.find_vouchers_by_text(token, FY2026, "O'Brien")
    assert [v.voucher_text for v in found] == ["Loon maart - O'Brien"]
    assert len(client.find_vouchers_by_text(token, None, "loon maart")) == 2
    assert client.find_vouchers_by_text(token, FY2026, "nobody") == []


def test_create_fiscal_year(client, sandbox, admin):
    token = _token_for(sandbox, seed.KAPSALON)  # state no_fiscal_year: the current year is missing
    assert not any(fy.contains(DAY) for fy in client.fiscal_years(token))
    fy = client.create_fiscal_year(token, date(2026, 1, 1), date(2026, 12, 31))
    assert isinstance(fy, FiscalYear) and fy.contains(DAY)
    assert client.create_voucher(token, voucher_body(DAY)).number == "A1"


# -- errors of the architecture table ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("state", "status", "code", "fragment"),
    [
        ("api_module_inactive", 403, 4002, "No access to module: api_standard"),
        ("no_user_access", 403, 4011, "does not have access to eAccounting"),
        ("inactive", 403, 4004, "CompanyNotActive"),
    ],
)
def test_company_state_errors_on_reads(client, token, admin, state, status, code, fragment):
    admin.state(BAKKERIJ, state)
    with pytest.raises(VismaError) as info:
        client.fiscal_years(token)
    err = info.value
    assert (err.status, err.error_code) == (status, code)
    assert fragment in err.message
    assert err.error_id and len(err.error_id) == 36
    assert not err.is_unauthorized and not err.is_transport and not err.outcome_unknown
    assert err.is_api_module_inactive is (code == 4002)
    assert err.method == "GET" and err.path == "/v2/fiscalyears"
    assert str(err).startswith(f"Visma answered HTTP {status} (ErrorCode {code}) to GET /v2/fiscalyears:")


def test_api_module_inactive_is_not_an_auth_failure(client, sandbox):
    token = _token_for(sandbox, seed.DRUKKERIJ)
    with pytest.raises(VismaError) as info:
        client.company_settings(token)
    assert info.value.is_api_module_inactive
    assert not info.value.is_unauthorized


@pytest.mark.parametrize(
    ("state", "code", "fragment"),
    [
        ("read_only", 4019, "NoPermissionForReadonlyUser"),
        ("no_fiscal_year", 3001, "There is no fiscal year for the date 2026-03-31"),
        ("period_locked", 4026, "VoucherDateIsInLockedPeriod - The voucher date 2026-03-31"),
        ("year_locked", 4038, "VoucherDateIsInLockedYearException"),
    ],
)
def test_company_state_errors_on_posting(client, token, admin, state, code, fragment):
    admin.state(BAKKERIJ, state)
    with pytest.raises(VismaError) as info:
        client.create_voucher(token, voucher_body(DAY))
    assert info.value.error_code == code and fragment in info.value.message
    assert info.value.status == (403 if code == 4019 else 400)
    assert not info.value.outcome_unknown  # a 4xx: Visma refused, nothing stored
    assert admin.vouchers(BAKKERIJ) == []


@pytest.mark.parametrize(
    ("body_change", "code", "fragment"),
    [
        ({"account": 4990}, 3002, "Account 4990 does not exist or is not active"),
        ({"cost_center_on": 1520}, 2000, "Cost center is not allowed on account 1520."),
        ({"unbalanced": True}, 2000, "total debit 100.00 does not equal total credit 90.00"),
        ({"item": "LOG"}, 5006, "Cost center item LOG is inactive."),
        ({"no_text": True}, 2000, "DataModelValidationError - VoucherText:"),
    ],
)
def test_voucher_validation_errors(client, token, body_change, code, fragment):
    body = voucher_body(DAY, amount="100.00")
    if "account" in body_change:
        body["Rows"][0]["AccountNumber"] = body_change["account"]
    if "cost_center_on" in body_change:
        body["Rows"][1]["CostCenterItemId1"] = seed.cost_center_item_id(BAKKERIJ, "PROD")
    if "unbalanced" in body_change:
        body["Rows"][1]["CreditAmount"] = 90.0
    if "item" in body_change:
        body["Rows"][0]["CostCenterItemId1"] = seed.cost_center_item_id(BAKKERIJ, body_change["item"])
    if "no_text" in body_change:
        body["VoucherText"] = ""
    with pytest.raises(VismaError) as info:
        client.create_voucher(token, body)
    assert (info.value.status, info.value.error_code) == (400, code)
    assert fragment in info.value.message
    if "no_text" in body_change:  # Visma's body has no field list: the message names the field
        assert info.value.errors == []
        assert info.value.message.startswith("DataModelValidationError - VoucherText: ")


def test_ledger_empty_visma_net_body(client, sandbox):
    token = _token_for(sandbox, seed.ADMINISTRATIE)
    with pytest.raises(VismaError) as info:
        client.create_voucher(token, voucher_body(DAY))
    err = info.value
    assert err.status == 400 and err.error_code is None
    assert err.message.startswith("VismaId: ") and "'Ledger' cannot be empty." in err.message
    assert err.error_id and err.error_id in err.message
    assert "\n" not in str(err)  # one line for people


def test_missing_scope_bad_token_and_bad_filter(client, sandbox, token):
    narrow = _token_for(sandbox, BAKKERIJ, scope="ea:api ea:accounting offline_access")
    with pytest.raises(VismaError) as info:
        client.company_settings(narrow)  # companysettings needs a sales scope (F8)
    assert (info.value.status, info.value.error_code) == (403, 4006)

    with pytest.raises(VismaError) as info:
        client.fiscal_years("not-a-token")
    assert (info.value.status, info.value.error_code) == (401, 4005) and info.value.is_unauthorized
    assert "not-a-token" not in str(info.value) and "not-a-token" not in repr(info.value.to_dict())

    with pytest.raises(VismaError) as info:
        client.vouchers(token, FY2026, filter="VoucherText wibble 'x'")
    assert (info.value.status, info.value.error_code) == (400, 6000)


def test_token_never_in_errors(client, token, admin):
    admin.state(BAKKERIJ, "api_module_inactive")
    with pytest.raises(VismaError) as info:
        client.create_voucher(token, voucher_body(DAY))
    err = info.value
    for text in (str(err), repr(err.to_dict()), err.body, err.path):
        assert token not in text and "Bearer" not in text


# -- retries -----------------------------------------------------------------------------------------------------------


def test_429_on_get_waits_what_visma_says(client, token, admin, waits):
    admin.faults(BAKKERIJ, rate_limit_per_minute=2)
    client.fiscal_years(token)
    client.fiscal_years(token)
    admin.reset_stats()
    years = client.fiscal_years(token)  # third call in the minute: 429, "Try again in N seconds", then 200
    assert len(years) == 2
    assert len(waits) == 1 and 1 <= waits[0] <= 60 and waits[0] == int(waits[0])
    assert admin.calls("GET /v2/fiscalyears") >= 1


def test_429_retry_after_header_is_honoured(client, token, admin, waits):
    admin.settings(retry_after_header=True)
    admin.faults(BAKKERIJ, rate_limit_per_minute=1)
    client.cost_centers(token)
    client.cost_centers(token)
    assert len(waits) == 1 and 1 <= waits[0] <= 60


def test_429_gives_up_after_max_retries(sandbox, token, admin):
    admin.faults(BAKKERIJ, rate_limit_per_minute=1)
    waits: list[float] = []
    c = VismaClient(f"{sandbox.url}/v2", sleep=waits.append, max_retries=2)  # sleeping without moving the clock
    try:
        c.fiscal_years(token)
        with pytest.raises(VismaError) as info:
            c.fiscal_years(token)
    finally:
        c.close()
    assert info.value.status == 429 and info.value.error_code == 4010
    assert 1 <= info.value.retry_after <= 60 and len(waits) == 2
    assert "Try again in" in str(info.value)


def test_429_on_post_is_retried_and_posts_once(client, token, admin, waits):
    admin.faults(BAKKERIJ, rate_limit_per_minute=1)
    client.create_voucher(token, voucher_body(DAY, "first"))
    second = client.create_voucher(token, voucher_body(DAY, "second"))
    assert second.number == "A2" and len(waits) == 1
    assert sorted(v["VoucherText"] for v in admin.vouchers(BAKKERIJ)) == ["first", "second"]


def test_5xx_on_get_retried_then_raised(client, token, admin, waits):
    admin.faults(BAKKERIJ, http_error=503)
    with pytest.raises(VismaError) as info:
        client.fiscal_years(token)
    assert (info.value.status, info.value.error_code) == (503, 5001)
    assert not info.value.outcome_unknown
    assert len(waits) == client.max_retries
    assert admin.calls("GET /v2/fiscalyears") == client.max_retries + 1
    # exponential backoff with jitter: each wait within [cap/2, cap]
    for attempt, wait in enumerate(waits):
        cap = min(client.max_backoff, client.backoff_base * 2**attempt)
        assert cap / 2 <= wait <= cap


def test_5xx_on_get_recovers(sandbox, token, admin):
    def sleep(_seconds: float) -> None:
        admin.faults(BAKKERIJ, http_error=None)  # Visma recovers while we wait

    admin.faults(BAKKERIJ, http_error=500)
    with VismaClient(f"{sandbox.url}/v2", sleep=sleep) as c:
        assert len(c.accounts(token, FY2026)) == len(seed.CHART_OF_ACCOUNTS)


def test_5xx_on_post_is_not_retried(client, token, admin, waits):
    admin.faults(BAKKERIJ, http_error=500)
    with pytest.raises(VismaError) as info:
        client.create_voucher(token, voucher_body(DAY))
    assert info.value.status == 500 and info.value.outcome_unknown
    assert "may have been processed" in str(info.value)
    assert waits == [] and admin.calls("POST /v2/vouchers") == 1


def test_commit_then_drop_raises_outcome_unknown_and_stores_once(client, token, admin, waits):
    admin.faults(BAKKERIJ, commit_then_drop=1)
    with pytest.raises(VismaError) as info:
        client.create_voucher(token, voucher_body(DAY, "Loonjournaal 2026-03"))
    err = info.value
    assert err.is_transport and err.outcome_unknown and err.status is None
    assert waits == []
    assert len(admin.vouchers(BAKKERIJ)) == 1
    assert admin.stats()["connections_dropped"] == 1
    # the way to reconcile: look it up
    assert len(client.find_vouchers_by_text(token, FY2026, "Loonjournaal 2026-03")) == 1


def test_timeouts_get_retried_post_outcome_unknown(sandbox, token, admin):
    admin.faults(BAKKERIJ, latency_ms=400)
    waits: list[float] = []
    with VismaClient(f"{sandbox.url}/v2", timeout=0.1, max_retries=1, sleep=waits.append) as c:
        with pytest.raises(VismaError) as info:
            c.fiscal_years(token)
        assert info.value.is_transport and info.value.transport_error == "ReadTimeout"
        assert not info.value.outcome_unknown and len(waits) == 1
        assert admin.calls("GET /v2/fiscalyears") == 2

        with pytest.raises(VismaError) as info:
            c.create_voucher(token, voucher_body(DAY))
        assert info.value.outcome_unknown and info.value.transport_error == "ReadTimeout"
        assert len(waits) == 1 and admin.calls("POST /v2/vouchers") == 1


def test_connect_error_is_retried_also_for_post():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    waits: list[float] = []
    with (
        VismaClient(f"http://127.0.0.1:{port}/v2", max_retries=2, sleep=waits.append) as c,
        pytest.raises(VismaError) as info,
    ):
        c.create_voucher("t", voucher_body(DAY))
    assert info.value.is_transport and info.value.transport_error == "ConnectError"
    assert not info.value.outcome_unknown  # never sent: safe to send again
    assert len(waits) == 2


# -- MockTransport: shapes the sandbox cannot produce -----------------------------------------------------------------

PROXY_502 = (
    "<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1>"
    "</center><hr><center>nginx</center></body></html>"
)


def _mock_client(handler, **kw) -> VismaClient:
    return VismaClient("https://eaccountingapi.example/v2", transport=httpx.MockTransport(handler), **kw)


def test_html_502_from_a_proxy():
    calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.method)
        return httpx.Response(502, text=PROXY_502, headers={"content-type": "text/html"})

    with _mock_client(handler, sleep=lambda s: None, max_retries=2) as c:
        with pytest.raises(VismaError) as info:
            c.fiscal_years("t")
        assert info.value.status == 502 and info.value.error_code is None
        assert info.value.message == "HTML error page: 502 Bad Gateway"
        assert calls == ["GET"] * 3
        calls.clear()
        with pytest.raises(VismaError) as info:
            c.create_voucher("t", voucher_body(DAY))
        assert info.value.outcome_unknown and calls == ["POST"]


def test_truncated_json_bodies():
    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            return httpx.Response(201, text='{"Id": "abc", "VoucherDate": "2026-03-31T00:00:00", "Rows": [{"Acc')
        if request.url.path.endswith("/fiscalyears"):
            return httpx.Response(200, text='{"Meta": {"CurrentPage": 1}, "Data": [{"Id"')
        return httpx.Response(400, text='{"ErrorCode": 2000, "DeveloperErrorMessage": "DataModelVal')

    with _mock_client(handler) as c:
        with pytest.raises(VismaError) as info:
            c.fiscal_years("t")
        assert info.value.status == 200 and "not valid JSON" in info.value.message
        assert not info.value.outcome_unknown
        with pytest.raises(VismaError) as info:
            c.create_voucher("t", voucher_body(DAY))
        assert info.value.status == 201 and info.value.outcome_unknown  # stored, but we can't read its number
        with pytest.raises(VismaError) as info:
            c.cost_centers("t")
        assert info.value.status == 400 and info.value.error_code is None
        assert info.value.message.startswith('{"ErrorCode": 2000')


def test_retry_after_header_as_http_date_and_seconds():
    answers = [
        httpx.Response(429, json={"ErrorCode": 4010, "DeveloperErrorMessage": "quota"}, headers={"Retry-After": "7"}),
        httpx.Response(200, json={"Meta": {"TotalNumberOfPages": 1}, "Data": []}),
    ]
    waits: list[float] = []
    with _mock_client(lambda request: answers.pop(0), sleep=waits.append) as c:
        assert c.cost_centers("t") == []
    assert waits == [7.0]
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT", now=parse_date_time("2015-10-21T07:27:30")) == 30.0
    assert retry_after_seconds(None, "… Try again in 55 seconds.") == 55.0
    assert retry_after_seconds(None, "no hint") is None


def parse_date_time(text: str):
    from datetime import UTC, datetime

    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_long_retry_after_is_not_slept_through():
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(429, json={"ErrorCode": 4010, "DeveloperErrorMessage": "Try again in 300 seconds."})

    waits: list[float] = []
    with _mock_client(handler, sleep=waits.append) as c, pytest.raises(VismaError) as info:
        c.fiscal_years("t")
    assert waits == [] and info.value.retry_after == 300.0


# -- parsing -----------------------------------------------------------------------------------------------------------


def test_parse_error_bodies():
    env = parse_error_body('{"ErrorCode":4002,"DeveloperErrorMessage":"ForbiddenRequestException - No access to '
                           'module: api_standard","ErrorId":"9b7c","Errors":null}')
    assert (env.error_code, env.error_id, env.errors) == (4002, "9b7c", [])
    net = parse_error_body('{"message":"VismaId: 0f8fad5b-d9cb-469f-a165-70867728950e. Error: x"}')
    assert net.error_id == "0f8fad5b-d9cb-469f-a165-70867728950e" and net.message.startswith("VismaId:")
    assert parse_error_body("", status=404, reason="Not Found").message == "empty answer (HTTP 404 Not Found)"
    assert parse_error_body("<html><body><h1>Service Unavailable</h1></body></html>").message == (
        "HTML error page: Service Unavailable")
    assert parse_error_body("upstream connect error").message == "upstream connect error"
    oauth = parse_error_body('{"error":"invalid_grant","error_description":"expired"}')
    assert oauth.message == "invalid_grant: expired"


@pytest.mark.parametrize("text", ["2026-01-01", "2026-01-01T00:00:00", "2026-01-01T00:00:00Z",
                                  "2026-01-01T00:00:00+01:00", "2026-01-01T00:00:00.0000000"])
def test_dates_in_every_dotnet_shape(text):
    assert parse_date(text) == date(2026, 1, 1)


def test_voucher_amounts_are_decimal():
    v = VoucherInfo.from_api({"Id": "x", "VoucherDate": "2026-03-31T00:00:00Z", "VoucherText": "t", "Rows": [
        {"AccountNumber": 4000, "DebitAmount": 0.1}, {"AccountNumber": 4000, "DebitAmount": 0.2},
        {"AccountNumber": 1520, "CreditAmount": 0.3}]})
    assert v.total_debit == Decimal("0.3") == v.total_credit


def test_helpers():
    assert odata_quote("O'Brien") == "'O''Brien'"
    assert path_template(f"vouchers/{FY2026}/{BAKKERIJ}") == "/vouchers/{}/{}"
    assert path_template("/accounts/2026-01-01") == "/accounts/{}"
    assert LedgerAccount.from_api({"Number": "4000", "Name": "x", "IsActive": True}).number == 4000


# -- rate limiter ------------------------------------------------------------------------------------------------------


def test_rate_limiter_token_bucket():
    now = [0.0]
    slept: list[float] = []

    def sleep(s: float) -> None:
        slept.append(s)
        now[0] += s

    limiter = RateLimiter(3, 60.0, clock=lambda: now[0], sleep=sleep)
    for _ in range(3):
        assert limiter.acquire("a") == 0.0
    assert limiter.acquire("b") == 0.0  # another URL has its own bucket
    assert limiter.acquire("a") == pytest.approx(20.0)
    assert slept == [pytest.approx(20.0)]


def test_client_uses_the_rate_limiter(sandbox, token):
    keys: list = []

    class Recording(RateLimiter):
        def acquire(self, key=None) -> float:
            keys.append(key)
            return 0.0

    with VismaClient(f"{sandbox.url}/v2", rate_limiter=Recording()) as c:
        c.accounts(token, FY2026)
        c.create_voucher(token, voucher_body(DAY))
    assert keys == [("GET", "/accounts/{}"), ("POST", "/vouchers")]


# -- cache -------------------------------------------------------------------------------------------------------------


def test_cache_single_flight_for_twenty_threads(sandbox, token, admin):
    with VismaClient(f"{sandbox.url}/v2") as c:
        admin.reset_stats()
        barrier = threading.Barrier(20)
        results: list = []

        def worker() -> None:
            barrier.wait()
            results.append(c.cached_fiscal_years("bakkerij", token))

        threads = [threading.Thread(target=worker) for _ in range(20)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(results) == 20 and all(r == results[0] for r in results)
        assert admin.calls("GET /v2/fiscalyears") == 1


def test_cache_ttl_and_invalidate(sandbox, token, admin):
    now = [1000.0]
    with VismaClient(f"{sandbox.url}/v2", cache_ttl=300, clock=lambda: now[0]) as c:
        admin.reset_stats()
        c.cached_accounts("bakkerij", token, FY2026)
        c.cached_cost_centers("bakkerij", token)
        now[0] += 299
        c.cached_accounts("bakkerij", token, FY2026)
        assert admin.calls("GET /v2/accounts/{fiscalyearId}") == 1
        now[0] += 2
        c.cached_accounts("bakkerij", token, FY2026)
        assert admin.calls("GET /v2/accounts/{fiscalyearId}") == 2
        c.cached_cost_centers("other-company", token)  # keyed per company
        c.invalidate("bakkerij")
        c.cached_cost_centers("bakkerij", token)
        c.cached_cost_centers("other-company", token)
        assert admin.calls("GET /v2/costcenters") == 3


# -- session -----------------------------------------------------------------------------------------------------------


def test_session_refreshes_once_after_401(client, sandbox, admin):
    provider = TokenProvider(sandbox.url, sandbox_token(sandbox.url, company=BAKKERIJ))
    session = VismaSession(client, "bakkerij", provider)
    assert session.company_settings().name.startswith("Bakkerij")
    admin.advance(3601)  # the access token expired
    created = session.create_voucher(voucher_body(DAY))
    assert created.number == "A1"
    assert provider.calls == [False, False, True]
    assert admin.stats()["token_grants"].get("refresh_token") == 1
    assert len(admin.vouchers(BAKKERIJ)) == 1
    assert [fy.id for fy in session.fiscal_years()][-1] == FY2026


def test_session_401_twice_raises(client, sandbox):
    calls: list[bool] = []

    def provider(force: bool) -> str:
        calls.append(force)
        return "forged"

    with pytest.raises(VismaError) as info:
        VismaSession(client, "x", provider).fiscal_years()
    assert info.value.is_unauthorized and calls == [False, True]


def test_session_4002_never_refreshes(client, sandbox):
    provider = TokenProvider(sandbox.url, sandbox_token(sandbox.url, company=seed.DRUKKERIJ))
    session = VismaSession(client, "drukkerij", provider)
    with pytest.raises(VismaError) as info:
        session.accounts()
    assert info.value.is_api_module_inactive
    assert provider.calls == [False]


def test_session_caches_per_company(sandbox, admin):
    provider = TokenProvider(sandbox.url, sandbox_token(sandbox.url, company=BAKKERIJ))
    with VismaClient(f"{sandbox.url}/v2") as c:
        session = VismaSession(c, "bakkerij", provider)
        admin.reset_stats()
        session.cost_centers()
        session.cost_centers()
        assert admin.calls("GET /v2/costcenters") == 1
        session.invalidate()
        session.cost_centers()
        assert admin.calls("GET /v2/costcenters") == 2

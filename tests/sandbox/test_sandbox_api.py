"""The /v2 endpoints: shapes validated against Visma's OpenAPI document, scopes, paging and $filter."""

from __future__ import annotations

import pytest

from sandbox import seed

BAKKERIJ = "Bakkerij De Gouden Korst B.V."
FY2026 = seed.fiscal_year_id(seed.BAKKERIJ, 2026)


def voucher(day: str = "2026-03-31", text: str = "Loonjournaal maart 2026", amount: float = 100.0,
            company: str = seed.BAKKERIJ) -> dict:
    return {
        "VoucherDate": day,
        "VoucherText": text,
        "Rows": [
            {"AccountNumber": 4000, "DebitAmount": amount, "TransactionText": "Brutolonen",
             "CostCenterItemId1": seed.cost_center_item_id(company, "PROD")},
            {"AccountNumber": 1520, "CreditAmount": amount, "TransactionText": "Nettolonen"},
        ],
    }


def test_companysettings(api, check):
    r = check(api(BAKKERIJ).get("/v2/companysettings"))
    body = r.json()
    assert body["Name"] == BAKKERIJ and body["CountryCode"] == "NL" and body["CurrencyCode"] == "EUR"
    assert body["CompanyIdentifier"] == seed.BAKKERIJ


def test_fiscalyears(api, check):
    r = check(api(BAKKERIJ).get("/v2/fiscalyears"))
    body = r.json()
    assert body["Meta"]["TotalNumberOfResults"] == 2 and body["Meta"]["CurrentPage"] == 1
    assert [(f["StartDate"], f["EndDate"]) for f in body["Data"]] == [
        ("2025-01-01T00:00:00Z", "2025-12-31T00:00:00Z"), ("2026-01-01T00:00:00Z", "2026-12-31T00:00:00Z")]
    assert body["Data"][1]["Id"] == FY2026
    single = check(api(BAKKERIJ).get(f"/v2/fiscalyears/{FY2026}"))
    assert single.json()["Id"] == FY2026


def test_accounts_all_and_per_year(api, check):
    client = api(BAKKERIJ)
    every = check(client.get("/v2/accounts", params={"$pagesize": "100"})).json()
    assert every["Meta"]["TotalNumberOfResults"] == 2 * len(seed.CHART_OF_ACCOUNTS)
    year = check(client.get(f"/v2/accounts/{FY2026}")).json()["Data"]
    by_number = {a["Number"]: a for a in year}
    assert by_number["4000"]["Name"] == "Brutolonen" and by_number["4000"]["IsCostCenterAllowed"] is True
    assert by_number["1500"]["IsCostCenterAllowed"] is False
    assert by_number["4990"]["IsActive"] is False
    assert all(a["FiscalYearId"] == FY2026 for a in year)
    missing = check(client.get("/v2/accounts/00000000-0000-0000-0000-000000000000"))
    assert missing.status_code == 400 and missing.json()["ErrorCode"] == 3001
    assert "Resource not found: fiscalYearId" in missing.json()["DeveloperErrorMessage"]


def test_costcenters(api, check):
    body = check(api(BAKKERIJ).get("/v2/costcenters")).json()
    assert [c["Number"] for c in body["Data"]] == [1, 2, 3]
    afdeling = body["Data"][0]
    assert afdeling["Name"] == "Afdeling"
    items = {i["ShortName"]: i for i in afdeling["Items"]}
    assert set(items) == {"PROD", "VERK", "ADM", "LOG"}
    assert items["LOG"]["IsActive"] is False and items["PROD"]["Name"] == "Productie"
    assert items["PROD"]["Id"] == seed.cost_center_item_id(seed.BAKKERIJ, "PROD")


def test_voucher_create_list_and_get(api, check):
    client = api(BAKKERIJ)
    created = check(client.post("/v2/vouchers", json=voucher()))
    assert created.status_code == 201
    v = created.json()
    assert v["NumberAndNumberSeries"] == "A1" and v["VoucherType"] == 2
    assert v["VoucherDate"] == "2026-03-31T00:00:00Z"
    assert v["Rows"][0]["AccountDescription"] == "Brutolonen" and v["Rows"][0]["DebitAmount"] == 100.0
    second = check(client.post("/v2/vouchers", json=voucher(text="Loonjournaal april 2026", day="2026-04-30")))
    assert second.json()["NumberAndNumberSeries"] == "A2"
    listed = check(client.get("/v2/vouchers")).json()
    assert [x["Id"] for x in listed["Data"]] == [v["Id"], second.json()["Id"]]
    per_year = check(client.get(f"/v2/vouchers/{FY2026}")).json()
    assert per_year["Meta"]["TotalNumberOfResults"] == 2
    one = check(client.get(f"/v2/vouchers/{FY2026}/{v['Id']}"))
    assert one.json() == v
    missing = check(client.get(f"/v2/vouchers/{FY2026}/00000000-0000-0000-0000-000000000000"))
    assert missing.status_code == 404


def test_voucher_series_is_per_fiscal_year_and_company(api, check):
    client = api(BAKKERIJ)
    assert client.post("/v2/vouchers", json=voucher()).json()["NumberAndNumberSeries"] == "A1"
    assert client.post("/v2/vouchers", json=voucher(day="2025-12-31")).json()["NumberAndNumberSeries"] == "A1"
    other = api("Transportbedrijf Visser B.V.")
    assert other.post("/v2/vouchers", json=voucher(company=seed.TRANSPORT)).json()["NumberAndNumberSeries"] == "A1"
    foreign_item = other.post("/v2/vouchers", json=voucher())  # Bakkerij's cost centre item
    assert foreign_item.status_code == 400 and foreign_item.json()["ErrorCode"] == 2000
    custom = client.post("/v2/vouchers", params={"useDefaultVoucherSeries": "false"},
                         json={**voucher(), "NumberSeries": "L"})
    assert custom.status_code == 201 and custom.json()["NumberAndNumberSeries"] == "L1"


def test_create_fiscal_year(api, check):
    client = api(BAKKERIJ)
    r = check(client.post("/v2/fiscalyears", json={"StartDate": "2027-01-01", "EndDate": "2027-12-31"}))
    assert r.status_code == 201 and r.json()["StartDate"] == "2027-01-01T00:00:00Z"
    overlap = check(client.post("/v2/fiscalyears", json={"StartDate": "2027-06-01", "EndDate": "2028-05-31"}))
    assert overlap.json()["ErrorCode"] == 4020
    not_month_end = check(client.post("/v2/fiscalyears", json={"StartDate": "2028-01-01", "EndDate": "2028-12-30"}))
    assert not_month_end.json()["ErrorCode"] == 4022
    assert check(client.get(f"/v2/accounts/{r.json()['Id']}")).json()["Meta"]["TotalNumberOfResults"] == 15


@pytest.mark.parametrize(
    ("scope", "path", "status"),
    [
        ("ea:api ea:accounting", "/v2/companysettings", 403),  # companysettings needs the sales scopes (F8)
        ("ea:api ea:sales_readonly", "/v2/companysettings", 200),
        ("ea:api ea:sales_readonly", "/v2/vouchers", 403),
        ("ea:api ea:accounting_readonly", "/v2/vouchers", 200),
        ("ea:api ea:accounting_readonly", "/v2/fiscalyears", 200),
        ("ea:api ea:sales", "/v2/costcenters", 200),
        ("ea:accounting", "/v2/vouchers", 403),  # no ea:api
    ],
)
def test_scopes(api, check, scope, path, status):
    r = check(api(BAKKERIJ, scope=scope).get(path))
    assert r.status_code == status
    if status == 403:
        body = r.json()
        assert body["ErrorCode"] == 4006
        assert body["DeveloperErrorMessage"].startswith("NoAccessToScopes - The access token does not include any")


def test_voucher_post_needs_write_scope(api, check):
    r = check(api(BAKKERIJ, scope="ea:api ea:accounting_readonly").post("/v2/vouchers", json=voucher()))
    assert r.status_code == 403 and r.json()["DeveloperErrorMessage"] == (
        "NoAccessToScopes - The access token does not include any of the scopes required for this operation: "
        "ea:accounting.")


def test_companysettings_can_accept_accounting(api, check, sbx):
    import httpx

    httpx.put(f"{sbx.url}/_sandbox/settings", json={"companysettings_accepts_accounting": True}).raise_for_status()
    assert check(api(BAKKERIJ, scope="ea:api ea:accounting").get("/v2/companysettings")).status_code == 200


def test_paging(api, check):
    client = api(BAKKERIJ)
    first = check(client.get("/v2/accounts", params={"$page": "1", "$pagesize": "7"})).json()
    assert first["Meta"] == {**first["Meta"], "CurrentPage": 1, "PageSize": 7, "TotalNumberOfPages": 5,
                             "TotalNumberOfResults": 30}
    assert len(first["Data"]) == 7
    last = check(client.get("/v2/accounts", params={"$page": "5", "$pagesize": "7"})).json()
    assert len(last["Data"]) == 2
    beyond = check(client.get("/v2/accounts", params={"$page": "9", "$pagesize": "7"})).json()
    assert beyond["Data"] == [] and beyond["Meta"]["TotalNumberOfResults"] == 30
    default = check(client.get("/v2/accounts")).json()
    assert default["Meta"]["PageSize"] == 50
    seen = [a["Number"] + a["FiscalYearId"] for p in range(1, 6)
            for a in client.get("/v2/accounts", params={"$page": str(p), "$pagesize": "7"}).json()["Data"]]
    assert len(set(seen)) == 30


@pytest.mark.parametrize("params", [{"$pagesize": "1001"}, {"$page": "0"}, {"$page": "x"}, {"$pagesize": "-1"}])
def test_bad_paging_is_6000(api, check, params):
    r = check(api(BAKKERIJ).get("/v2/accounts", params=params))
    assert r.status_code == 400 and r.json()["ErrorCode"] == 6000
    assert r.json()["DeveloperErrorMessage"].startswith("QueryParameterError - ")


def test_pagesize_over_max_can_clamp(api, check, sbx):
    import httpx

    httpx.put(f"{sbx.url}/_sandbox/settings", json={"pagesize_over_max": "clamp"}).raise_for_status()
    r = check(api(BAKKERIJ).get("/v2/accounts", params={"$pagesize": "5000"}))
    assert r.json()["Meta"]["PageSize"] == 1000


def test_filters(api, check):
    client = api(BAKKERIJ)
    for day, text in [("2026-01-31", "Loonjournaal januari 2026"), ("2026-02-28", "Loonjournaal februari 2026"),
                      ("2026-03-31", "Reservering vakantiegeld maart")]:
        assert client.post("/v2/vouchers", json=voucher(day=day, text=text)).status_code == 201

    def texts(flt: str) -> list[str]:
        r = check(client.get("/v2/vouchers", params={"$filter": flt}))
        assert r.status_code == 200, r.text
        return [v["VoucherText"] for v in r.json()["Data"]]

    assert texts("VoucherDate ge 2026-02-01") == ["Loonjournaal februari 2026", "Reservering vakantiegeld maart"]
    assert texts("VoucherDate eq 2026-01-31T00:00:00Z") == ["Loonjournaal januari 2026"]
    assert texts("VoucherDate gt datetime'2026-01-31' and VoucherDate lt 2026-03-31") == ["Loonjournaal februari 2026"]
    assert texts("contains(VoucherText,'Loonjournaal')") == ["Loonjournaal januari 2026",
                                                             "Loonjournaal februari 2026"]
    assert texts("startswith(VoucherText,'Reservering')") == ["Reservering vakantiegeld maart"]
    assert texts("not contains(VoucherText,'Loon') or NumberAndNumberSeries eq 'A1'") == [
        "Loonjournaal januari 2026", "Reservering vakantiegeld maart"]
    assert texts("VoucherText ne 'Loonjournaal januari 2026' and (VoucherType eq 2)") == [
        "Loonjournaal februari 2026", "Reservering vakantiegeld maart"]
    numbers = check(client.get("/v2/accounts", params={"$filter": "Number eq '4000'"})).json()
    assert numbers["Meta"]["TotalNumberOfResults"] == 2
    inactive = check(client.get(f"/v2/accounts/{FY2026}", params={"$filter": "IsActive eq false"})).json()
    assert [a["Number"] for a in inactive["Data"]] == ["4990"]
    ordered = check(client.get("/v2/vouchers", params={"$orderby": "VoucherDate desc"})).json()
    assert ordered["Data"][0]["VoucherText"] == "Reservering vakantiegeld maart"


@pytest.mark.parametrize(
    ("flt", "code"),
    [
        ("VoucherDate ge", 6000),
        ("VoucherDate between 2026-01-01", 6000),
        ("Unknown eq 1", 6000),
        ("contains(VoucherText 'x')", 6000),
        ("VoucherText eq 'unterminated", 6000),
        ("(VoucherType eq 2", 6000),
        ("VoucherDate ge 2026-13-45", 6001),
        ("VoucherDate ge datetime'2026-02-30'", 6001),
    ],
)
def test_bad_filters(api, check, flt, code):
    r = check(api(BAKKERIJ).get("/v2/vouchers", params={"$filter": flt}))
    assert r.status_code == 400 and r.json()["ErrorCode"] == code, r.text
    prefix = "QueryParameterError - " if code == 6000 else "InvalidInput - "
    assert r.json()["DeveloperErrorMessage"].startswith(prefix)


def test_error_id_is_fresh_each_time(api):
    client = api(BAKKERIJ, scope="ea:api ea:accounting")
    ids = {client.get("/v2/companysettings").json()["ErrorId"] for _ in range(3)}
    assert len(ids) == 3


def test_a_token_reaches_only_its_own_company(api, check):
    """The token carries one company (customer_id): another company's vouchers and fiscal years are out of reach."""
    bakkerij = api(BAKKERIJ)
    made = bakkerij.post("/v2/vouchers", json=voucher()).json()
    transport = api("Transportbedrijf Visser B.V.")
    assert check(transport.get("/v2/vouchers")).json()["Data"] == []
    assert check(transport.get("/v2/companysettings")).json()["CompanyIdentifier"] == seed.TRANSPORT
    assert check(transport.get(f"/v2/vouchers/{FY2026}/{made['Id']}")).status_code == 404
    other_year = check(transport.get(f"/v2/vouchers/{FY2026}"))
    assert other_year.status_code == 400 and other_year.json()["ErrorCode"] == 3001
    own_fy = seed.fiscal_year_id(seed.TRANSPORT, 2026)
    assert check(transport.get(f"/v2/vouchers/{own_fy}/{made['Id']}")).status_code == 404
    assert check(bakkerij.get(f"/v2/vouchers/{FY2026}/{made['Id']}")).status_code == 200

"""Voucher rules of POST /v2/vouchers (visma-eaccounting.md §7) with Visma's codes and the texts of architecture.md."""

from __future__ import annotations

import json

import pytest

from sandbox import seed
from sandbox.testing import error_of

BAKKERIJ = "Bakkerij De Gouden Korst B.V."
PROD = seed.cost_center_item_id(seed.BAKKERIJ, "PROD")
LOG = seed.cost_center_item_id(seed.BAKKERIJ, "LOG")


def rows(debit_account: int = 4000, credit_account: int = 1520, amount: float = 100.0, **debit_extra) -> list:
    return [{"AccountNumber": debit_account, "DebitAmount": amount, **debit_extra},
            {"AccountNumber": credit_account, "CreditAmount": amount}]


def body(**overrides) -> dict:
    return {"VoucherDate": "2026-03-31", "VoucherText": "Loonjournaal maart 2026", "Rows": rows(), **overrides}


@pytest.fixture
def post(api, check):
    client = api(BAKKERIJ)

    def send(payload, params=None, raw: bytes | None = None):
        if raw is not None:
            r = client.post("/v2/vouchers", content=raw, headers={"Content-Type": "application/json"}, params=params)
        else:
            r = client.post("/v2/vouchers", json=payload, params=params)
        return check(r)

    return send


def test_valid_voucher(post):
    r = post(body(Rows=rows(CostCenterItemId1=PROD, TransactionText="x" * 60)))
    assert r.status_code == 201
    assert r.json()["Rows"][0]["CostCenterItemId1"] == PROD


def test_unbalanced(post):
    r = post(body(Rows=[{"AccountNumber": 4000, "DebitAmount": 100}, {"AccountNumber": 1520, "CreditAmount": 90}]))
    err = error_of(r)
    assert r.status_code == 400 and err["ErrorCode"] == 2000
    assert err["DeveloperErrorMessage"] == (
        "DataModelValidationError - The voucher is not balanced: total debit 100.00 does not equal total credit 90.00.")


def test_balance_is_exact_on_decimals(post):
    payload = b'{"VoucherDate":"2026-03-31","VoucherText":"Cent","Rows":[' \
              b'{"AccountNumber":4000,"DebitAmount":0.10},{"AccountNumber":4010,"DebitAmount":0.20},' \
              b'{"AccountNumber":1520,"CreditAmount":0.30}]}'
    assert post(None, raw=payload).status_code == 201


def test_three_decimals_rejected(post):
    payload = body(Rows=[{"AccountNumber": 4000, "DebitAmount": 100.005},
                         {"AccountNumber": 1520, "CreditAmount": 100.005}])
    r = post(payload)
    err = error_of(r)
    assert err["ErrorCode"] == 2000 and err["DeveloperErrorMessage"] == (
        "DataModelValidationError - Rows[0].DebitAmount: The DebitAmount can have at most 2 decimals. "
        "Rows[1].CreditAmount: The CreditAmount can have at most 2 decimals.")


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        (body(VoucherText="x" * 1001), "VoucherText"),
        (body(VoucherText=""), "VoucherText"),
        (body(Rows=rows(TransactionText="x" * 61)), "Rows[0].TransactionText"),
        (body(VoucherDate="31-03-2026"), "VoucherDate"),
        ({"VoucherText": "Geen datum", "Rows": rows()}, "VoucherDate"),
        (body(Rows=[]), "Rows"),
        (body(Rows=[{"DebitAmount": 1}, {"AccountNumber": 1520, "CreditAmount": 1}]), "Rows[0].AccountNumber"),
        (body(Rows=[{"AccountNumber": 4000, "DebitAmount": -5}, {"AccountNumber": 1520, "CreditAmount": -5}]),
         "Rows[0].DebitAmount"),
        (body(Rows=[{"AccountNumber": 4000, "DebitAmount": "5"}, {"AccountNumber": 1520, "CreditAmount": 5}]),
         "Rows[0].DebitAmount"),
        (body(VoucherType=99), "VoucherType"),
    ],
)
def test_field_validation(post, payload, field):
    r = post(payload)
    err = error_of(r)
    assert r.status_code == 400 and err["ErrorCode"] == 2000
    assert err["DeveloperErrorMessage"].startswith(f"DataModelValidationError - {field}: ")


def test_not_json(post):
    r = post(None, raw=b"{not json")
    assert r.status_code == 400 and error_of(r)["ErrorCode"] == 2000


def test_query_flags_validated(post):
    r = post(body(), params={"useAutomaticVatCalculation": "maybe"})
    assert r.status_code == 400 and "useAutomaticVatCalculation" in error_of(r)["DeveloperErrorMessage"]
    ok = post(body(), params={"useAutomaticVatCalculation": "false", "useDefaultVatCodes": "true",
                              "useDefaultVoucherSeries": "true"})
    assert ok.status_code == 201


def test_no_fiscal_year_for_the_date(post):
    r = post(body(VoucherDate="2024-06-30"))
    err = error_of(r)
    assert r.status_code == 400 and err["ErrorCode"] == 3001
    assert err["DeveloperErrorMessage"] == (
        "FiscalYearDoesNotExist - Resource not found: fiscalYearId. There is no fiscal year for the date 2024-06-30.")


@pytest.mark.parametrize("account", [4990, 7777])
def test_inactive_or_unknown_account(post, account):
    r = post(body(Rows=rows(debit_account=account)))
    err = error_of(r)
    assert err["ErrorCode"] == 3002
    assert err["DeveloperErrorMessage"] == (
        f"AccountNotFound - Account {account} does not exist or is not active in the fiscal year of the voucher date.")


def test_cost_centre_not_allowed_on_account(post):
    payload = body(Rows=[{"AccountNumber": 4000, "DebitAmount": 10},
                         {"AccountNumber": 1500, "CreditAmount": 10, "CostCenterItemId1": PROD}])
    err = error_of(post(payload))
    assert err["ErrorCode"] == 2000
    assert err["DeveloperErrorMessage"] == "DataModelValidationError - Cost center is not allowed on account 1500."


def test_inactive_cost_centre(post):
    err = error_of(post(body(Rows=rows(CostCenterItemId1=LOG))))
    assert err["ErrorCode"] == 5006
    assert err["DeveloperErrorMessage"] == "InactiveCostCenter - Cost center item LOG is inactive."


def test_unknown_cost_centre_item(post):
    err = error_of(post(body(Rows=rows(CostCenterItemId1="00000000-0000-0000-0000-000000000001"))))
    assert err["ErrorCode"] == 2000 and "CostCenterItemId1" in err["DeveloperErrorMessage"]
    err = error_of(post(body(Rows=rows(CostCenterItemId2=PROD))))  # a dimension-1 item in slot 2
    assert err["ErrorCode"] == 2000


def test_nothing_stored_on_error(post, sbx):
    import httpx

    post(body(VoucherDate="2024-06-30"))
    post(body(Rows=rows(debit_account=4990)))
    assert httpx.get(f"{sbx.url}/_sandbox/vouchers").json() == []
    assert post(body()).json()["NumberAndNumberSeries"] == "A1"


def test_admin_lists_every_companys_vouchers(api, sbx):
    import httpx

    api(BAKKERIJ).post("/v2/vouchers", json=body())
    api("Transportbedrijf Visser B.V.").post("/v2/vouchers", json=body(VoucherText="Transport"))
    listed = httpx.get(f"{sbx.url}/_sandbox/vouchers").json()
    assert [(v["company_id"], v["VoucherText"]) for v in listed] == [
        (seed.BAKKERIJ, "Loonjournaal maart 2026"), (seed.TRANSPORT, "Transport")]
    only = httpx.get(f"{sbx.url}/_sandbox/vouchers", params={"company_id": seed.TRANSPORT}).json()
    assert len(only) == 1
    stats = httpx.get(f"{sbx.url}/_sandbox/stats").json()
    assert stats["vouchers_created"] == 2
    assert stats["api_calls"]["POST /v2/vouchers"] == 2
    assert stats["token_grants"]["authorization_code"] == 2
    json.dumps(stats)


def test_a_row_takes_a_vat_code_the_company_lists(api, check, post):
    # VoucherRowApi declares VatCodeId (Visma's OpenAPI document); the codes are those GET /v2/vatcodes lists. A code
    # the company does not have is a model validation error (2000) naming the row, like an unknown cost-centre item.
    codes = check(api(BAKKERIJ).get("/v2/vatcodes")).json()["Data"]
    assert codes, "the seed lists VAT codes"
    r = post(body(Rows=rows(VatCodeId=codes[0]["Id"])))
    assert r.status_code == 201, r.text
    assert r.json()["Rows"][0]["VatCodeId"] == codes[0]["Id"]
    unknown = post(body(Rows=rows(VatCodeId="00000000-0000-0000-0000-000000000001")))
    err = error_of(unknown)
    assert unknown.status_code == 400 and err["ErrorCode"] == 2000
    assert "Rows[0].VatCodeId" in err["DeveloperErrorMessage"]

"""Voucher drafts: create, list, read, replace, delete, convert into a numbered voucher.

Sources: the operations, shapes and scopes of Visma's OpenAPI document (sandbox/spec/: /voucherdrafts,
/voucherdrafts/{voucherDraftId}, /voucherdrafts/{voucherDraftId}/convert — "Once converted, the voucher draft will be
removed and a new voucher will be created with the same transaction data"; DELETE "cannot be undone"); the changelog
entry "New endpoints: Voucher Drafts" (developer.vismaonline.com, in jakobwennberg/unified-se-v2
dev_docs/visma/VismaSpiris-docs.json @ 3fc1277); the draft row limits (amounts up to 1,000,000,000 with two decimals,
TransactionText up to 50) from VoucherDraftRowApi; lock codes 4026/4038 from Visma's error catalogue
(visma-eaccounting.md §5).
"""

from __future__ import annotations

import httpx
import pytest

from sandbox import seed

BAKKERIJ = "Bakkerij De Gouden Korst B.V."
FY2026 = seed.fiscal_year_id(seed.BAKKERIJ, 2026)
PROD = seed.cost_center_item_id(seed.BAKKERIJ, "PROD")
MISSING = "00000000-0000-0000-0000-0000000000aa"


def draft(day: str = "2026-03-31", amount: float = 1234.5, credit: float | None = None, **extra) -> dict:
    return {
        "VoucherDate": day,
        "VoucherText": "Correctie loonjournaal maart 2026",
        "Rows": [
            {"AccountNumber": 4000, "DebitAmount": amount, "TransactionText": "Brutolonen correctie",
             "CostCenterItemId1": PROD},
            {"AccountNumber": 1520, "CreditAmount": amount if credit is None else credit,
             "TransactionText": "Nettolonen correctie"},
        ],
        **extra,
    }


def test_create_read_list_and_convert(api, check, sbx):
    client = api(BAKKERIJ)
    created = check(client.post("/v2/voucherdrafts", json=draft()))
    assert created.status_code == 201
    d = created.json()
    assert d["VoucherDate"] == "2026-03-31T00:00:00Z" and d["NumberSeries"] is None
    assert [(r["AccountNumber"], r["DebitAmount"], r["CreditAmount"]) for r in d["Rows"]] == [
        (4000, 1234.5, 0.0), (1520, 0.0, 1234.5)]
    assert d["Rows"][0]["CostCenterItemId1"] == PROD
    assert check(client.get(f"/v2/voucherdrafts/{d['Id']}")).json() == d
    listed = check(client.get("/v2/voucherdrafts")).json()
    assert [x["Id"] for x in listed["Data"]] == [d["Id"]]
    assert httpx.get(f"{sbx.url}/_sandbox/vouchers", params={"company_id": seed.BAKKERIJ}).json() == []

    voucher = check(client.post(f"/v2/voucherdrafts/{d['Id']}/convert"))
    assert voucher.status_code == 201
    v = voucher.json()
    assert v["NumberAndNumberSeries"] == "A1" and v["VoucherText"] == "Correctie loonjournaal maart 2026"
    assert [(r["AccountNumber"], r["DebitAmount"], r["CreditAmount"], r["CostCenterItemId1"]) for r in v["Rows"]] == [
        (4000, 1234.5, 0.0, PROD), (1520, 0.0, 1234.5, None)]
    assert check(client.get(f"/v2/vouchers/{FY2026}/{v['Id']}")).json() == v
    gone = check(client.get(f"/v2/voucherdrafts/{d['Id']}"))
    assert gone.status_code == 404 and gone.json()["ErrorCode"] == 3000
    assert check(client.post(f"/v2/voucherdrafts/{d['Id']}/convert")).status_code == 404  # converted once only
    assert check(client.get("/v2/voucherdrafts")).json()["Data"] == []


def test_a_draft_need_not_balance_but_its_conversion_must(api, check):
    client = api(BAKKERIJ)
    d = check(client.post("/v2/voucherdrafts", json=draft(credit=1000.0))).json()
    refused = check(client.post(f"/v2/voucherdrafts/{d['Id']}/convert"))
    assert refused.status_code == 400 and refused.json()["ErrorCode"] == 2000
    assert "not balanced" in refused.json()["DeveloperErrorMessage"]
    assert check(client.get(f"/v2/voucherdrafts/{d['Id']}")).status_code == 200  # a refused conversion keeps it
    fixed = check(client.put(f"/v2/voucherdrafts/{d['Id']}", json=draft()))
    assert fixed.status_code == 200 and fixed.json()["Rows"][1]["CreditAmount"] == 1234.5
    assert fixed.json()["Id"] == d["Id"] and fixed.json()["CreatedUtc"] == d["CreatedUtc"]
    assert check(client.post(f"/v2/voucherdrafts/{d['Id']}/convert")).status_code == 201


def test_own_number_series(api, check):
    client = api(BAKKERIJ)
    d = check(client.post("/v2/voucherdrafts", json=draft(NumberSeries="k"))).json()
    assert d["NumberSeries"] == "K"
    assert check(client.post(f"/v2/voucherdrafts/{d['Id']}/convert")).json()["NumberAndNumberSeries"] == "K1"


def test_delete_is_final(api, check):
    client = api(BAKKERIJ)
    d = check(client.post("/v2/voucherdrafts", json=draft())).json()
    deleted = check(client.delete(f"/v2/voucherdrafts/{d['Id']}"))
    assert deleted.status_code == 200 and deleted.content == b""
    for r in (client.get(f"/v2/voucherdrafts/{d['Id']}"), client.delete(f"/v2/voucherdrafts/{d['Id']}"),
              client.put(f"/v2/voucherdrafts/{d['Id']}", json=draft()),
              client.post(f"/v2/voucherdrafts/{d['Id']}/convert")):
        assert check(r).status_code == 404 and r.json()["ErrorCode"] == 3000
    assert check(client.get("/v2/voucherdrafts/not-a-guid")).status_code == 404


def test_another_companys_draft_is_not_found(api, check):
    d = check(api(BAKKERIJ).post("/v2/voucherdrafts", json=draft())).json()
    other = api("Transportbedrijf Visser B.V.")
    assert check(other.get(f"/v2/voucherdrafts/{d['Id']}")).status_code == 404
    assert check(other.post(f"/v2/voucherdrafts/{d['Id']}/convert")).status_code == 404
    assert check(other.get("/v2/voucherdrafts")).json()["Data"] == []


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"VoucherDate": None}, "VoucherDate"),
        ({"VoucherDate": "31-03-2026"}, "VoucherDate"),
        ({"VoucherText": "x" * 1001}, "VoucherText"),
        ({"NumberSeries": "AB"}, "NumberSeries"),
        ({"Rows": [{"DebitAmount": 1.0}]}, "Rows[0].AccountNumber"),
        ({"Rows": [{"AccountNumber": 4000, "DebitAmount": 1.234}]}, "Rows[0].DebitAmount"),
        ({"Rows": [{"AccountNumber": 4000, "DebitAmount": 1000000000.01}]}, "Rows[0].DebitAmount"),
        ({"Rows": [{"AccountNumber": 4000, "CreditAmount": -1}]}, "Rows[0].CreditAmount"),
        ({"Rows": [{"AccountNumber": 4000, "TransactionText": "x" * 51}]}, "Rows[0].TransactionText"),
        ({"Rows": [{"AccountNumber": 4000, "ProjectId": "nope"}]}, "Rows[0].ProjectId"),
        ({"Rows": [{"AccountNumber": 4000, "VatCodeId": MISSING}]}, "Rows[0].VatCodeId"),
    ],
)
def test_field_validation(api, check, change, field):
    r = check(api(BAKKERIJ).post("/v2/voucherdrafts", json={**draft(), **change}))
    assert r.status_code == 400 and r.json()["ErrorCode"] == 2000
    assert f"{field}: " in r.json()["DeveloperErrorMessage"]


def test_amount_includes_vat_must_be_a_boolean(api, check):
    client = api(BAKKERIJ)
    ok = check(client.post("/v2/voucherdrafts", params={"amountIncludesVat": "true"}, json=draft()))
    assert ok.status_code == 201 and ok.json()["Rows"][0]["DebitAmount"] == 1234.5
    bad = check(client.post("/v2/voucherdrafts", params={"amountIncludesVat": "maybe"}, json=draft()))
    assert bad.status_code == 400 and bad.json()["ErrorCode"] == 2000


def test_scopes(api, check):
    readonly = api(BAKKERIJ, scope="ea:api ea:accounting_readonly")
    assert check(readonly.get("/v2/voucherdrafts")).status_code == 200
    refused = check(readonly.post("/v2/voucherdrafts", json=draft()))
    assert refused.status_code == 403 and refused.json()["ErrorCode"] == 4006
    assert check(api(BAKKERIJ, scope="ea:api ea:sales").get("/v2/voucherdrafts")).status_code == 403


def test_converting_into_a_locked_period_or_year(api, check, sbx):
    client = api(BAKKERIJ)
    d = check(client.post("/v2/voucherdrafts", json=draft(day="2026-02-28"))).json()
    httpx.put(f"{sbx.url}/_sandbox/companies/{seed.BAKKERIJ}/state",
              json={"state": "period_locked", "locked_to": "2026-02-28"}).raise_for_status()
    period = check(client.post(f"/v2/voucherdrafts/{d['Id']}/convert"))
    assert period.status_code == 400 and period.json()["ErrorCode"] == 4026
    httpx.put(f"{sbx.url}/_sandbox/companies/{seed.BAKKERIJ}/state", json={"state": "ok"}).raise_for_status()
    httpx.put(f"{sbx.url}/_sandbox/companies/{seed.BAKKERIJ}/fiscal-years/{FY2026}",
              json={"locked": True}).raise_for_status()
    year = check(client.post(f"/v2/voucherdrafts/{d['Id']}/convert"))
    assert year.status_code == 400 and year.json()["ErrorCode"] == 4038
    httpx.put(f"{sbx.url}/_sandbox/companies/{seed.BAKKERIJ}/fiscal-years/{FY2026}",
              json={"locked": False}).raise_for_status()
    assert check(client.post(f"/v2/voucherdrafts/{d['Id']}/convert")).status_code == 201


def test_converting_checks_the_account_flags(api, check, sbx):
    client = api(BAKKERIJ)
    body = draft()
    body["Rows"][0].pop("CostCenterItemId1")
    d = check(client.post("/v2/voucherdrafts", json=body)).json()
    httpx.put(f"{sbx.url}/_sandbox/companies/{seed.BAKKERIJ}/accounts/4000",
              json={"first_cost_center_mandatory": True}).raise_for_status()
    refused = check(client.post(f"/v2/voucherdrafts/{d['Id']}/convert"))
    assert refused.json()["DeveloperErrorMessage"] == (
        "DataModelValidationError - Cost center 1 is mandatory on account 4000.")


def test_bodies_are_read_as_the_voucher_post_reads_them(api, check):
    """JSON or form-encoded in ASP.NET's bracket notation, like POST /v2/vouchers (sandbox/api.py ``read_body``);
    any other media type is Web API's 415."""
    client = api(BAKKERIJ)
    form = {"VoucherDate": "2026-03-31", "VoucherText": "Correctie", "Rows[0][AccountNumber]": "4000",
            "Rows[0][DebitAmount]": "10.50", "Rows[1][AccountNumber]": "1520", "Rows[1][CreditAmount]": "10.50"}
    r = check(client.post("/v2/voucherdrafts", data=form))
    assert r.status_code == 201 and [row["DebitAmount"] for row in r.json()["Rows"]] == [10.5, 0.0]
    plain = client.post("/v2/voucherdrafts", content=b"VoucherDate=2026-03-31", headers={"Content-Type": "text/plain"})
    assert plain.status_code == 415

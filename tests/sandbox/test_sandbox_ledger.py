"""One account with its flags, projects, VAT codes, users, fiscal-year locks, and the voucher rules those flags drive.

Sources: shapes and scopes from Visma's OpenAPI document (sandbox/spec/, operations GET /accounts/{fiscalyearId}/
{accountNumber}, GET /projects, GET /vatcodes, GET /users, PUT /fiscalyears/{id}); error codes from Visma's published
catalogue (visma-eaccounting.md §5: 3001, 3002, 4026, 4038, 5005); the 2000 code for cost-centre-versus-account errors
from the changelog entry "Error code number changed when cost centers not allowed" (developer.vismaonline.com, in
jakobwennberg/unified-se-v2 dev_docs/visma/VismaSpiris-docs.json @ 3fc1277); fiscal-year locking through
IsLockedForAccounting from the changelog entry "PUT /v2/fiscalyears/{fiscalYearId}".
"""

from __future__ import annotations

import httpx
import pytest

from sandbox import seed

BAKKERIJ = "Bakkerij De Gouden Korst B.V."
FY2025 = seed.fiscal_year_id(seed.BAKKERIJ, 2025)
FY2026 = seed.fiscal_year_id(seed.BAKKERIJ, 2026)
ONGOING = seed.project_id(seed.BAKKERIJ, "P100")
FINISHED = seed.project_id(seed.BAKKERIJ, "P090")
PROD = seed.cost_center_item_id(seed.BAKKERIJ, "PROD")


def voucher(day: str = "2026-03-31", cost_center: str | None = PROD, project: str | None = None,
            account: int = 4000) -> dict:
    debit = {"AccountNumber": account, "DebitAmount": 250.0, "TransactionText": "Brutolonen"}
    if cost_center:
        debit["CostCenterItemId1"] = cost_center
    if project:
        debit["ProjectId"] = project
    return {"VoucherDate": day, "VoucherText": "Loonjournaal maart 2026",
            "Rows": [debit, {"AccountNumber": 1520, "CreditAmount": 250.0, "TransactionText": "Nettolonen"}]}


def admin_put(sbx, path: str, body: dict) -> httpx.Response:
    return httpx.put(f"{sbx.url}/_sandbox/companies/{seed.BAKKERIJ}/{path}", json=body, timeout=10)


def test_one_account_with_its_flags(api, check):
    client = api(BAKKERIJ)
    acc = check(client.get(f"/v2/accounts/{FY2026}/4000")).json()
    assert acc["Number"] == "4000" and acc["Name"] == "Brutolonen" and acc["FiscalYearId"] == FY2026
    assert (acc["IsActive"], acc["IsCostCenterAllowed"], acc["IsFirstCostCenterMandatory"],
            acc["IsProjectAllowed"]) == (True, True, False, True)
    bank = check(client.get(f"/v2/accounts/{FY2026}/1100")).json()
    assert (bank["IsCostCenterAllowed"], bank["IsProjectAllowed"]) == (False, False)
    assert check(client.get(f"/v2/accounts/{FY2026}/4990")).json()["IsActive"] is False


def test_missing_account_is_404_with_the_envelope(api, check):
    r = check(api(BAKKERIJ).get(f"/v2/accounts/{FY2026}/7777"))
    assert r.status_code == 404
    body = r.json()
    assert body["ErrorCode"] == 3002 and body["DeveloperErrorMessage"].startswith("AccountNotFound - Account 7777 ")


def test_account_in_a_missing_year_is_3001_and_a_bad_number_is_2000(api, check):
    client = api(BAKKERIJ)
    missing_year = check(client.get("/v2/accounts/00000000-0000-0000-0000-000000000000/4000"))
    assert missing_year.status_code == 400 and missing_year.json()["ErrorCode"] == 3001
    not_a_number = client.get(f"/v2/accounts/{FY2026}/abc")
    assert not_a_number.status_code == 400 and not_a_number.json()["ErrorCode"] == 2000


def test_account_needs_an_accounting_scope(api, check):
    r = check(api(BAKKERIJ, scope="ea:api ea:sales_readonly").get(f"/v2/accounts/{FY2026}/4000"))
    assert r.status_code == 403 and r.json()["ErrorCode"] == 4006


def test_admin_flags_show_on_the_account_and_drive_vouchers(api, check, sbx):
    client = api(BAKKERIJ)
    r = admin_put(sbx, "accounts/4000", {"first_cost_center_mandatory": True, "fiscal_year_id": FY2026})
    assert r.status_code == 200 and [a["fiscal_year_id"] for a in r.json()] == [FY2026]
    assert check(client.get(f"/v2/accounts/{FY2026}/4000")).json()["IsFirstCostCenterMandatory"] is True
    assert check(client.get(f"/v2/accounts/{FY2025}/4000")).json()["IsFirstCostCenterMandatory"] is False
    refused = check(client.post("/v2/vouchers", json=voucher(cost_center=None)))
    assert refused.status_code == 400 and refused.json()["ErrorCode"] == 2000
    assert refused.json()["DeveloperErrorMessage"] == (
        "DataModelValidationError - Cost center 1 is mandatory on account 4000.")
    assert check(client.post("/v2/vouchers", json=voucher())).status_code == 201
    assert check(client.post("/v2/vouchers", json=voucher(day="2025-12-31", cost_center=None))).status_code == 201

    admin_put(sbx, "accounts/4000", {"cost_center_allowed": False}).raise_for_status()
    not_allowed = check(client.post("/v2/vouchers", json=voucher()))
    assert not_allowed.json()["ErrorCode"] == 2000 and "not allowed on account 4000" in not_allowed.text

    admin_put(sbx, "accounts/4000", {"active": False}).raise_for_status()
    assert check(client.get(f"/v2/accounts/{FY2026}/4000")).json()["IsActive"] is False
    inactive = check(client.post("/v2/vouchers", json=voucher(cost_center=None)))
    assert inactive.json()["ErrorCode"] == 3002


def test_admin_account_flags_are_checked(sbx):
    assert admin_put(sbx, "accounts/4000", {"active": "no"}).status_code == 400
    assert admin_put(sbx, "accounts/4000", {"colour": True}).status_code == 400
    assert admin_put(sbx, "accounts/7777", {"active": False}).status_code == 404
    r = httpx.put(f"{sbx.url}/_sandbox/companies/nope/accounts/4000", json={"active": False})
    assert r.status_code == 404


def test_admin_deactivates_a_cost_center_item(api, check, sbx):
    client = api(BAKKERIJ)
    r = admin_put(sbx, "cost-center-items/PROD", {"active": False})
    assert r.status_code == 200 and r.json() == {"id": PROD, "short_name": "PROD", "active": False}
    items = {i["ShortName"]: i for i in check(client.get("/v2/costcenters")).json()["Data"][0]["Items"]}
    assert items["PROD"]["IsActive"] is False
    refused = check(client.post("/v2/vouchers", json=voucher()))
    assert refused.json()["ErrorCode"] == 5006
    assert refused.json()["DeveloperErrorMessage"] == "InactiveCostCenter - Cost center item PROD is inactive."
    admin_put(sbx, "cost-center-items/PROD", {"active": True}).raise_for_status()
    assert check(client.post("/v2/vouchers", json=voucher())).status_code == 201
    assert admin_put(sbx, "cost-center-items/NOPE", {"active": False}).status_code == 404
    assert admin_put(sbx, "cost-center-items/PROD", {"active": 0}).status_code == 400


def test_projects(api, check):
    body = check(api(BAKKERIJ, scope="ea:api ea:purchase_readonly").get("/v2/projects")).json()
    by_number = {p["Number"]: p for p in body["Data"]}
    assert by_number["P100"]["Status"] == 1 and by_number["P100"]["EndDate"] is None
    assert by_number["P090"]["Status"] == 2 and by_number["P090"]["EndDate"] == "2025-12-31T00:00:00Z"
    assert by_number["P100"]["Id"] == ONGOING
    client = api(BAKKERIJ)
    assert check(client.get(f"/v2/projects/{ONGOING}")).json()["Name"] == "Nieuwbouw filiaal"
    assert check(client.get("/v2/projects/00000000-0000-0000-0000-000000000000")).status_code == 404
    other = api("Transportbedrijf Visser B.V.")
    assert check(other.get(f"/v2/projects/{ONGOING}")).status_code == 404  # another company's project


def test_voucher_rows_with_projects(api, check, sbx):
    client = api(BAKKERIJ)
    ok = check(client.post("/v2/vouchers", json=voucher(project=ONGOING)))
    assert ok.status_code == 201 and ok.json()["Rows"][0]["ProjectId"] == ONGOING
    ended = check(client.post("/v2/vouchers", json=voucher(project=FINISHED)))
    assert ended.json()["ErrorCode"] == 5005
    assert ended.json()["DeveloperErrorMessage"] == "ProjectEnded - Project P090 has ended."
    wrong_account = check(client.post("/v2/vouchers", json=voucher(project=ONGOING, account=8000, cost_center=None)))
    assert wrong_account.json()["ErrorCode"] == 2000 and "Project is not allowed on account 8000" in wrong_account.text
    unknown = check(client.post("/v2/vouchers", json=voucher(project="00000000-0000-0000-0000-000000000001")))
    assert unknown.json()["ErrorCode"] == 2000
    assert unknown.json()["DeveloperErrorMessage"] == (
        "DataModelValidationError - Rows[0].ProjectId: ProjectId '00000000-0000-0000-0000-000000000001' does not "
        "exist in this company.")
    r = admin_put(sbx, "projects/P100", {"status": 2})
    assert r.status_code == 200
    assert check(client.post("/v2/vouchers", json=voucher(project=ONGOING))).json()["ErrorCode"] == 5005
    assert admin_put(sbx, "projects/P100", {"status": 3}).status_code == 400
    assert admin_put(sbx, "projects/NOPE", {"status": 2}).status_code == 404


def test_vatcodes(api, check):
    client = api(BAKKERIJ)
    body = check(client.get("/v2/vatcodes")).json()
    codes = {v["Code"]: v for v in body["Data"]}
    assert codes["NL21"]["VatRate"] == 21.0 and codes["NL21"]["RelatedAccounts"]["AccountNumber1"] == 1600
    assert codes["NL9"]["VatRate"] == 9.0
    assert check(client.get("/v2/vatcodes", params={"vatRateDate": "2026-03-31"})).status_code == 200
    bad = check(client.get("/v2/vatcodes", params={"vatRateDate": "31-03-2026"}))
    assert bad.status_code == 400 and bad.json()["ErrorCode"] == 6001
    assert check(api(BAKKERIJ, scope="ea:api ea:sales").get("/v2/vatcodes")).status_code == 403


def test_users_of_the_company(api, check):
    body = check(api("Van der Berg Installatietechniek B.V.").get("/v2/users")).json()
    users = {u["Email"]: u for u in body["Data"]}
    assert set(users) == {seed.ANNA, seed.JOOST}  # Eva has no access to this company
    assert users[seed.ANNA]["IsCurrentUser"] is True and users[seed.JOOST]["IsCurrentUser"] is False
    assert (users[seed.JOOST]["FirstName"], users[seed.JOOST]["LastName"]) == ("Joost", "de Vries")
    assert users[seed.ANNA]["Id"] == seed.user_id(seed.ANNA)
    assert check(api(BAKKERIJ, scope="ea:api ea:purchase_readonly").get("/v2/users")).status_code == 200


def test_lock_a_fiscal_year_through_the_api(api, check):
    client = api(BAKKERIJ)
    locked = check(client.put(f"/v2/fiscalyears/{FY2026}", json={"IsLockedForAccounting": True}))
    assert locked.status_code == 200 and locked.json()["IsLockedForAccounting"] is True
    listed = check(client.get("/v2/fiscalyears")).json()["Data"]
    assert [f["IsLockedForAccounting"] for f in listed] == [False, True]
    refused = check(client.post("/v2/vouchers", json=voucher()))
    assert refused.json()["ErrorCode"] == 4038
    check(client.put(f"/v2/fiscalyears/{FY2026}", json={"IsLockedForAccounting": False}))
    assert check(client.post("/v2/vouchers", json=voucher())).status_code == 201
    assert check(client.put(f"/v2/fiscalyears/{FY2026}", json={})).json()["ErrorCode"] == 2000
    missing = client.put("/v2/fiscalyears/00000000-0000-0000-0000-000000000000", json={"IsLockedForAccounting": True})
    assert check(missing).status_code == 404
    readonly = api(BAKKERIJ, scope="ea:api ea:accounting_readonly")
    assert check(readonly.put(f"/v2/fiscalyears/{FY2026}", json={"IsLockedForAccounting": True})).status_code == 403


def test_admin_locks_one_fiscal_year(api, check, sbx):
    client = api(BAKKERIJ)
    r = admin_put(sbx, f"fiscal-years/{FY2025}", {"locked": True})
    assert r.status_code == 200 and r.json()["locked"] is True
    assert check(client.get(f"/v2/fiscalyears/{FY2025}")).json()["IsLockedForAccounting"] is True
    assert check(client.post("/v2/vouchers", json=voucher(day="2025-12-31"))).json()["ErrorCode"] == 4038
    assert check(client.post("/v2/vouchers", json=voucher())).status_code == 201  # 2026 stays open
    assert admin_put(sbx, f"fiscal-years/{FY2025}", {"locked": "yes"}).status_code == 400
    other_company_year = seed.fiscal_year_id(seed.TRANSPORT, 2025)
    assert admin_put(sbx, f"fiscal-years/{other_company_year}", {"locked": True}).status_code == 404


@pytest.mark.parametrize("locked_to", ["2026-03-31"])
def test_accounting_locked_to_shows_in_company_settings_and_refuses_earlier_dates(api, check, sbx, locked_to):
    r = httpx.put(f"{sbx.url}/_sandbox/companies/{seed.BAKKERIJ}/state",
                  json={"state": "period_locked", "locked_to": locked_to})
    r.raise_for_status()
    client = api(BAKKERIJ)
    settings = check(client.get("/v2/companysettings")).json()
    assert settings["AccountingLockedTo"] == f"{locked_to}T00:00:00Z"
    refused = check(client.post("/v2/vouchers", json=voucher(day=locked_to)))
    assert refused.json()["ErrorCode"] == 4026
    assert check(client.post("/v2/vouchers", json=voucher(day="2026-04-01"))).status_code == 201

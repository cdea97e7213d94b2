"""Ledger look-ups beyond the chart-of-accounts lists: one account with its flags, projects, VAT codes, users, and
locking a fiscal year (visma-eaccounting.md §2; Visma's OpenAPI document for shapes and scopes).

- ``GET /v2/accounts/{fiscalyearId}/{accountNumber}`` (accounting scopes): the ``AccountApi`` with the flags the
  sandbox keeps per account and fiscal year — ``IsActive``, ``IsCostCenterAllowed``, ``IsFirstCostCenterMandatory``,
  ``IsProjectAllowed``. A fiscal year the company does not have is 400/3001 (as the account list of a year); an account
  number the year does not have is 404 (declared "Account not found") with Visma's envelope, 3002 AccountNotFound.
- ``GET /v2/projects``, ``GET /v2/projects/{id}`` (accounting, sales or purchase scopes, read-only ones included).
- ``GET /v2/vatcodes`` (accounting scopes), with ``vatRateDate`` (a date; 6001 InvalidInput otherwise).
- ``GET /v2/users`` (sales, purchase or accounting scopes): the users with access to the token's company.
- ``PUT /v2/fiscalyears/{id}`` (``ea:sales`` or ``ea:accounting``): lock or unlock a fiscal year with
  ``IsLockedForAccounting`` (the changelog's "PUT /v2/fiscalyears/{fiscalYearId}" entry); a voucher dated in a locked
  year is then refused with 4038.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sandbox import clock, errors, model, odata, seed
from sandbox.api import (
    ACCOUNTING_READ,
    FISCAL_WRITE,
    _json,
    _page,
    _store,
    account_api,
    fiscal_year_api,
    read_body,
    v2,
)
from sandbox.dimensions import project_of
from sandbox.errors import ApiError
from sandbox.store import Tx

PROJECT_READ = ["ea:accounting", "ea:accounting_readonly", "ea:sales", "ea:sales_readonly", "ea:purchase",
                "ea:purchase_readonly"]
USERS_READ = ["ea:sales", "ea:sales_readonly", "ea:purchase", "ea:purchase_readonly", "ea:accounting",
              "ea:accounting_readonly"]

PROJECT_FIELDS = {"Id", "Number", "Name", "StartDate", "EndDate", "CustomerId", "CustomerName", "Notes", "Status",
                  "ModifiedUtc"}
VATCODE_FIELDS = {"Id", "Code", "Description", "VatRate", "OssCodeType", "RelatedAccounts"}
USER_FIELDS = {"Id", "Email", "FirstName", "LastName", "IsActive", "IsCurrentUser", "IsConsultant",
               "HasPurchaseInvoicesApprovalPermission", "HasVATReportsApprovalPermission"}


def project_api(p: dict[str, Any]) -> dict[str, Any]:
    return {
        "Id": p["Id"], "Number": p["Number"], "Name": p["Name"], "StartDate": clock.iso_date(p["StartDate"]),
        "EndDate": clock.iso_date(p["EndDate"]) if p["EndDate"] else None, "CustomerId": None, "CustomerName": None,
        "Notes": None, "Status": p["Status"], "ModifiedUtc": clock.iso(p.get("modified", p["created"])),
    }


def vat_code_api(v: dict[str, Any]) -> dict[str, Any]:
    a1, a2, a3 = v["related"]
    return {"Id": v["Id"], "Code": v["Code"], "Description": v["Description"], "VatRate": v["VatRate"],
            "OssCodeType": 0, "RelatedAccounts": {"AccountNumber1": a1, "AccountNumber2": a2, "AccountNumber3": a3}}


def user_api(u: dict[str, Any], current_email: str) -> dict[str, Any]:
    first, _, last = u["name"].partition(" ")
    return {"Id": seed.user_id(u["email"]), "Email": u["email"], "FirstName": first, "LastName": last or None,
            "IsActive": True, "IsCurrentUser": u["email"] == current_email, "IsConsultant": False,
            "HasPurchaseInvoicesApprovalPermission": True, "HasVATReportsApprovalPermission": True}


def fiscal_year_or_3001(tx: Tx, cid: str, fy_id: str) -> dict[str, Any]:
    fy = next((f for f in model.visible_fiscal_years(tx, cid) if f["Id"] == fy_id.lower()), None)
    if fy is None:
        raise ApiError(400, 3001, f"FiscalYearDoesNotExist - Resource not found: fiscalYearId. There is no fiscal "
                                  f"year with id {fy_id}.")
    return fy


def msg_account_not_found(number: int, fy_id: str) -> str:
    return f"AccountNotFound - Account {number} does not exist in the fiscal year {fy_id}."


def _int32(raw: str, name: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise errors.validation_error(name, f"The value '{raw}' is not valid for {name}.") from None
    if not -2**31 <= value < 2**31:
        raise errors.validation_error(name, f"The value '{raw}' is not valid for {name}.")
    return value


@v2("/v2/accounts/{fiscalyearId}/{accountNumber}", ACCOUNTING_READ)
async def get_account(request: Request, ctx: dict[str, Any]) -> Response:
    cid = ctx["company"]["id"]
    number = _int32(request.path_params["accountNumber"], "accountNumber")
    with _store(request).tx(write=False) as tx:
        fy = fiscal_year_or_3001(tx, cid, request.path_params["fiscalyearId"])
        account = tx.get("account", f"{fy['Id']}:{number}")
    if account is None:
        return errors.error_response(ApiError(404, 3002, msg_account_not_found(number, fy["Id"])))
    return _json(account_api(account))


@v2("/v2/projects", PROJECT_READ)
async def list_projects(request: Request, ctx: dict[str, Any]) -> Response:
    with _store(request).tx(write=False) as tx:
        items = [project_api(p) for p in tx.list("project", ctx["company"]["id"])]
        return _page(request, tx, items, PROJECT_FIELDS, "ProjectApi")


@v2("/v2/projects/{id}", PROJECT_READ)
async def get_project(request: Request, ctx: dict[str, Any]) -> Response:
    with _store(request).tx(write=False) as tx:
        project = project_of(tx, ctx["company"]["id"], request.path_params["id"])
    if project is None:
        return Response(status_code=404)
    return _json(project_api(project))


@v2("/v2/vatcodes", ACCOUNTING_READ)
async def list_vatcodes(request: Request, ctx: dict[str, Any]) -> Response:
    raw = request.query_params.get("vatRateDate")
    if raw is not None:
        try:
            date.fromisoformat(raw[:10])
        except ValueError:
            raise odata.input_error(f"'{raw}' is not a valid date. Use the format yyyy-MM-dd.") from None
    with _store(request).tx(write=False) as tx:
        items = [vat_code_api(v) for v in tx.list("vatcode", ctx["company"]["id"])]
        return _page(request, tx, items, VATCODE_FIELDS, "VatCodeApi")


@v2("/v2/users", USERS_READ)
async def list_users(request: Request, ctx: dict[str, Any]) -> Response:
    cid = ctx["company"]["id"]
    with _store(request).tx(write=False) as tx:
        items = [user_api(u, ctx["token"]["user"]) for u in tx.list("user") if cid in u["companies"]]
        return _page(request, tx, items, USER_FIELDS, "UserApi")


@v2("/v2/fiscalyears/{id}", FISCAL_WRITE, write=True)
async def put_fiscalyear(request: Request, ctx: dict[str, Any]) -> Response:
    """Lock or unlock a fiscal year; only ``IsLockedForAccounting`` is changed (dates are not editable here)."""
    body = await read_body(request)
    if not isinstance(body.get("IsLockedForAccounting"), bool):
        raise errors.validation_error("IsLockedForAccounting", "The IsLockedForAccounting field is required and must "
                                                               "be true or false.")
    cid = ctx["company"]["id"]
    with _store(request).tx() as tx:
        fy = next((f for f in model.visible_fiscal_years(tx, cid) if f["Id"] == request.path_params["id"].lower()),
                  None)
        if fy is None:
            return Response(status_code=404)
        fy["locked"] = body["IsLockedForAccounting"]
        tx.put("fy", fy["Id"], fy, company=cid)
        return _json(fiscal_year_api(fy))


ROUTES = [
    Route("/v2/accounts/{fiscalyearId}/{accountNumber}", get_account, methods=["GET"]),
    Route("/v2/projects", list_projects, methods=["GET"]),
    Route("/v2/projects/{id}", get_project, methods=["GET"]),
    Route("/v2/vatcodes", list_vatcodes, methods=["GET"]),
    Route("/v2/users", list_users, methods=["GET"]),
    Route("/v2/fiscalyears/{id}", put_fiscalyear, methods=["PUT"]),
]

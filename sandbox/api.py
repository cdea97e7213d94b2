"""eAccounting API v2 under ``/v2`` (visma-eaccounting.md §2, §3): Bearer token, one company per token.

Every call goes through ``_guard`` in this order: token (401/4005) → rate limit (429/4010) → latency → forced
500/503 → scope (403/4006; ``ea:api`` plus one of the operation's scopes, F8) → company state (4011 no user access,
4004 inactive, 4002 API module off) → read-only user on writes (4019). Responses use the field names and types of
Visma's OpenAPI document (schemas FiscalYearApi, AccountApi, CostCenterApi, VoucherApi, CompanySettingsApi, the
``PaginatedResponseOf…`` envelope); the tests validate them against it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sandbox import clock, errors, faults, model, odata, seed, tokens, vouchers
from sandbox.errors import ApiError
from sandbox.ids import guid
from sandbox.store import Store, Tx

ACCOUNTING_READ = ["ea:accounting", "ea:accounting_readonly"]
ACCOUNTING_WRITE = ["ea:accounting"]
FISCAL_READ = ["ea:sales", "ea:sales_readonly", "ea:accounting", "ea:accounting_readonly"]
FISCAL_WRITE = ["ea:sales", "ea:accounting"]
COSTCENTER_READ = ["ea:accounting", "ea:accounting_readonly", "ea:sales", "ea:sales_readonly"]
SALES_READ = ["ea:sales", "ea:sales_readonly"]

FY_FIELDS = {"Id", "StartDate", "EndDate", "IsLockedForAccounting", "BookkeepingMethod"}
ACCOUNT_FIELDS = {"Name", "Number", "VatCodeId", "VatCodeDescription", "FiscalYearId", "ReferenceCode", "Type",
                  "TypeDescription", "ModifiedUtc", "CreatedUtc", "IsActive", "AllowTransactionText",
                  "IsFirstCostCenterMandatory", "IsProjectAllowed", "IsCostCenterAllowed",
                  "IsBlockedForManualBooking", "Description"}
COSTCENTER_FIELDS = {"Name", "Number", "IsActive", "Items", "Id"}
VOUCHER_FIELDS = {"Id", "VoucherDate", "VoucherText", "Rows", "NumberAndNumberSeries", "NumberSeries",
                  "ImportedVoucherNumber", "Attachments", "ModifiedUtc", "VoucherType", "SourceId", "CreatedUtc"}

Handler = Callable[[Request, dict[str, Any]], Awaitable[Response]]


def _store(request: Request) -> Store:
    return request.app.state.store


def _json(body: Any, status: int = 200) -> JSONResponse:
    return JSONResponse(body, status_code=status, media_type="application/json; charset=utf-8")


def v2(template: str, scopes: list[str] | None, write: bool = False) -> Callable[[Handler], Callable]:
    """Wrap a handler with the guard; ``scopes=None`` means the companysettings rule (see ``_required_scopes``)."""

    def deco(fn: Handler) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            if request.method in ("POST", "PUT"):
                # Receive the whole request first, as Visma's front end does: a client that gives up during the
                # latency fault must not stop the write from happening (the case a client has to reconcile).
                await request.body()
            try:
                ctx = await _guard(request, f"{request.method} {template}", scopes, write)
                return await fn(request, ctx)
            except ApiError as err:
                return errors.error_response(err)
            except UnsupportedMediaType as err:
                return err.response()

        return endpoint

    return deco


# ------------------------------------------------------------------------------------------------------------------
# request bodies
#
# The v2 API was built on ASP.NET Web API: its Swagger 2.0 document (2023) lists, for every POST, the media types of
# Web API's formatters: application/json, text/json, application/xml, text/xml, multipart/form-data and
# application/x-www-form-urlencoded. The sandbox reads JSON and form-encoded bodies; a form body uses ASP.NET's
# bracket notation (``Rows[0][AccountNumber]=4000``, jQuery style, or ``Rows[0].AccountNumber=4000``, MVC style; Web
# API's JQueryMvcFormUrlEncodedFormatter reads both) and its text values are converted as Web API's model binding
# converts them. Any other media type gets Web API's own 415 answer (aspnet/AspNetWebStack,
# FormatterParameterBindingTest): ``{"Message": "The request entity's media type 'text/plain' is not supported for
# this resource."}``; a body without a Content-Type is ``application/octet-stream`` to Web API.

JSON_MEDIA_TYPES = frozenset({"application/json", "text/json"})
FORM_MEDIA_TYPE = "application/x-www-form-urlencoded"
INT_FIELDS = frozenset({"AccountNumber", "VoucherType", "HarvestYear", "BookkeepingMethod"})
DECIMAL_FIELDS = frozenset({"DebitAmount", "CreditAmount", "VatAmount", "Quantity", "Weight"})
_KEY_PART = re.compile(r"\[([^\[\]]*)\]|\.([^.\[\]]+)")
_INTEGER = re.compile(r"[+-]?\d+")


class UnsupportedMediaType(Exception):
    """A body in a media type the API has no formatter for: ASP.NET Web API's 415 (see above)."""

    def __init__(self, media_type: str) -> None:
        super().__init__(media_type)
        self.media_type = media_type

    def response(self) -> Response:
        text = f"The request entity's media type '{self.media_type}' is not supported for this resource."
        return Response(json.dumps({"Message": text}), status_code=415, media_type="application/json; charset=utf-8")


async def read_body(request: Request) -> dict[str, Any]:
    """The request's body as a dict, from JSON or a form; UnsupportedMediaType or Visma's 2000 otherwise."""
    raw = await request.body()
    media = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media in JSON_MEDIA_TYPES or (not raw and not media):
        return vouchers.parse_body(raw)
    if media == FORM_MEDIA_TYPE:
        return form_body(raw)
    raise UnsupportedMediaType(media or "application/octet-stream")


def form_body(raw: bytes) -> dict[str, Any]:
    """An ``application/x-www-form-urlencoded`` body in ASP.NET's bracket notation, as the nested dict JSON gives."""
    try:
        pairs = parse_qsl(raw.decode("utf-8"), keep_blank_values=True, strict_parsing=bool(raw))
    except (UnicodeDecodeError, ValueError):
        raise errors.validation_error("Body", "The request body is not valid form data.") from None
    tree: dict[str, Any] = {}
    for key, value in pairs:
        path = _key_path(key)
        if path is None:
            raise errors.validation_error(key, f"'{key}' is not a valid field name.")
        node = tree
        for part in path[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise errors.validation_error(key, f"'{key}' gives a value and a list or object at once.")
        if isinstance(node.get(path[-1]), dict):
            raise errors.validation_error(key, f"'{key}' gives a value and a list or object at once.")
        node.setdefault(path[-1], _typed(path[-1], value))  # the first value of a repeated key counts
    return _lists(tree)


def _key_path(key: str) -> list[str] | None:
    head = re.match(r"[A-Za-z_][A-Za-z0-9_]*", key)
    if head is None:
        return None
    path, pos = [head.group(0)], head.end()
    while pos < len(key):
        m = _KEY_PART.match(key, pos)
        if m is None or m.end() == pos or not (m.group(1) or m.group(2)):
            return None
        path.append(m.group(1) or m.group(2))
        pos = m.end()
    return path


def _typed(name: str, value: str) -> Any:
    """A form value converted as model binding converts it for the property ``name``; what fails stays text."""
    if value == "":
        return None
    if name in INT_FIELDS and _INTEGER.fullmatch(value):
        return int(value)
    if name in DECIMAL_FIELDS:
        try:
            number = Decimal(value)
        except InvalidOperation:
            return value
        return number if number.is_finite() else value
    return value


def _lists(node: Any) -> Any:
    """``{"0": …, "1": …}`` (every key an index) becomes a list in index order; recursively."""
    if not isinstance(node, dict):
        return node
    items = {k: _lists(v) for k, v in node.items()}
    if items and all(k.isdigit() for k in items):
        return [items[k] for k in sorted(items, key=int)]
    return items


def _required_scopes(tx: Tx, scopes: list[str] | None) -> list[str]:
    if scopes is not None:
        return scopes
    if model.settings(tx)["companysettings_accepts_accounting"]:
        return SALES_READ + ACCOUNTING_READ
    return SALES_READ


async def _guard(request: Request, call: str, scopes: list[str] | None, write: bool) -> dict[str, Any]:
    header = request.headers.get("authorization", "")
    token = header[7:].strip() if header[:7].lower() == "bearer " else ""
    # Refusals are decided inside the transaction but raised after it commits, so that the call and rate-limit
    # counters of /_sandbox/stats also count the calls that were refused.
    refusal: ApiError | None = None
    with _store(request).tx() as tx:
        tx.bump("api_calls", call)
        rec = tokens.access_token_record(tx, token) if token else None
        company = tx.get("company", rec["company"]) if rec is not None else None
        if rec is None or company is None:
            refusal = ApiError(401, 4005, errors.MSG_401)
        else:
            try:
                faults.check_rate_limit(tx, company, rec["client"], request.url.path)
            except ApiError as err:
                refusal = err
    if refusal is not None:
        raise refusal
    await faults.apply_latency(company)
    faults.check_http_error(company)
    with _store(request).tx(write=False) as tx:
        needed = _required_scopes(tx, scopes)
    if "ea:api" not in rec["scopes"]:
        raise ApiError(403, 4006, errors.msg_4006(["ea:api"]))
    if not set(needed) & set(rec["scopes"]):
        raise ApiError(403, 4006, errors.msg_4006(needed))
    state = company["state"]
    if state == "no_user_access":
        raise ApiError(403, 4011, errors.MSG_4011)
    if state == "inactive":
        raise ApiError(403, 4004, errors.MSG_4004)
    if state == "api_module_inactive":
        raise ApiError(403, 4002, errors.MSG_4002)
    if write and state == "read_only":
        raise ApiError(403, 4019, errors.MSG_4019)
    return {"token": rec, "company": company}


def _server_time(tx: Tx) -> str:
    return clock.iso(clock.now(tx))


def _page(request: Request, tx: Tx, items: list[dict[str, Any]], fields: set[str],
          type_name: str | None = None) -> JSONResponse:
    """A list answer with Visma's query options applied (sandbox/odata.py); ``type_name`` is the schema's name."""
    clamp = model.settings(tx)["pagesize_over_max"] == "clamp"
    return _json(odata.paginate(items, request.query_params, _server_time(tx), fields, clamp, type_name))


# ------------------------------------------------------------------------------------------------------------------
# shapes


def fiscal_year_api(fy: dict[str, Any]) -> dict[str, Any]:
    return {"Id": fy["Id"], "StartDate": clock.iso_date(fy["start"]), "EndDate": clock.iso_date(fy["end"]),
            "IsLockedForAccounting": fy["locked"], "BookkeepingMethod": 0}


def account_api(acc: dict[str, Any]) -> dict[str, Any]:
    """AccountApi with every flag the sandbox keeps, in lists and alone (older account documents lack the newer flags:
    their defaults)."""
    return {
        "Name": acc["name"], "Number": str(acc["number"]), "VatCodeId": None, "VatCodeDescription": None,
        "FiscalYearId": acc["fy"], "ReferenceCode": None, "TypeDescription": None,
        "ModifiedUtc": clock.iso(acc.get("modified", acc["created"])), "CreatedUtc": clock.iso(acc["created"]),
        "IsActive": acc["active"], "AllowTransactionText": True,
        "IsFirstCostCenterMandatory": acc.get("cc_mandatory", False),
        "IsProjectAllowed": acc.get("project_allowed", False), "IsCostCenterAllowed": acc["cc_allowed"],
        "IsBlockedForManualBooking": False, "Description": None,
    }


def cost_center_api(cc: dict[str, Any], items: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "Name": cc["Name"], "Number": cc["Number"], "IsActive": cc["IsActive"], "Id": cc["Id"],
        "Items": [
            {"CostCenterId": i["CostCenterId"], "Id": i["Id"], "Name": i["Name"], "ShortName": i["ShortName"],
             "IsActive": i["IsActive"], "CreatedUtc": clock.iso(i["created"])}
            for i in items if i["CostCenterId"] == cc["Id"]
        ],
    }


def company_settings_api(company: dict[str, Any]) -> dict[str, Any]:
    locked_to = company.get("locked_to") or "2024-12-31"
    return {
        "Name": company["name"], "Email": None, "Phone": "030-1234567", "MobilePhone": None,
        "Address1": company["address"], "Address2": None, "CountryCode": "NL", "PostalCode": company["postal"],
        "City": company["city"], "Website": None, "OurReference": None, "CurrencyCode": "EUR",
        "TermsOfPaymentId": seed.derived_id(company["id"], "terms"), "CorporateIdentityNumber": company["kvk"],
        "PeppolId": None, "VatCode": f"NL{company['kvk'][:8]}0B01", "BankGiro": None, "PlusGiro": None,
        "BankAccount": None, "Iban": None, "AccountNumberDigits": 4, "AccountingLockedTo": clock.iso_date(locked_to),
        "AccountingLockInterval": 1 if company.get("locked_to") else 0, "Gln": None, "ProductVariant": 1,
        "TypeOfBusiness": 1, "VatPeriod": 3, "ActivatedModules": ["api_standard", "payroll_integration"],
        "NextCustomerNumber": 1, "NextSupplierNumber": 1, "NextCustomerInvoiceNumber": 1, "NextQuoteNumber": 1,
        "NextOrderNumber": 1, "ShowPricesExclVatPC": True, "ShowContributionMargin": False,
        "HasProportionalVatEnabled": False, "IsPayslipActivated": False, "UsesCostCenter": True,
        "UsesProject": False, "UsesMoss": False, "UsesPaymentReferenceNumber": False,
        "UseAutomaticVatCalculation": False, "CompanyStatus": 1, "CompanyIdentifier": company["id"],
        "ShowCostCenterReminder": False, "ShowProjectReminder": False, "UsesGreenTechnology": False,
        "UsesTransactionText": True,
    }


# ------------------------------------------------------------------------------------------------------------------
# endpoints


@v2("/v2/companysettings", None)
async def get_companysettings(request: Request, ctx: dict[str, Any]) -> Response:
    return _json(company_settings_api(ctx["company"]))


@v2("/v2/fiscalyears", FISCAL_READ)
async def list_fiscalyears(request: Request, ctx: dict[str, Any]) -> Response:
    with _store(request).tx(write=False) as tx:
        items = [fiscal_year_api(fy) for fy in model.visible_fiscal_years(tx, ctx["company"]["id"])]
        return _page(request, tx, items, FY_FIELDS, "FiscalYearApi")


@v2("/v2/fiscalyears/{id}", FISCAL_READ)
async def get_fiscalyear(request: Request, ctx: dict[str, Any]) -> Response:
    with _store(request).tx(write=False) as tx:
        fy = _fy_or_none(tx, ctx["company"]["id"], request.path_params["id"])
    if fy is None:
        return Response(status_code=404)
    return _json(fiscal_year_api(fy))


def _fy_or_none(tx: Tx, cid: str, fy_id: str) -> dict[str, Any] | None:
    return next((f for f in model.visible_fiscal_years(tx, cid) if f["Id"] == fy_id.lower()), None)


@v2("/v2/fiscalyears", FISCAL_WRITE, write=True)
async def create_fiscalyear(request: Request, ctx: dict[str, Any]) -> Response:
    """Create a fiscal year (4020 overlap, 4021 longer than 18 months, 4022 end not a month end).

    Re-creating a year that the ``no_fiscal_year`` state hid brings it back (with its chart of accounts): the fix the
    vendor's article gives, "create the fiscal year", works in a demo.
    """
    body = await read_body(request)
    start = _body_date(body, "StartDate")
    end = _body_date(body, "EndDate")
    if end < start:
        raise errors.validation_error("EndDate", "The EndDate must be after the StartDate.")
    if end != model.last_day_of_month(end):
        return errors.error_response(ApiError(400, 4022, "FiscalYearEndDateMustBeLastDayOfMonth - The end date of "
                                              "the fiscal year must be the last day of a month."))
    if (end.year - start.year) * 12 + end.month - start.month + 1 > 18:
        return errors.error_response(ApiError(400, 4021, "FiscalYearMaximumPeriodExceeded - A fiscal year can be "
                                              "at most 18 months long."))
    cid = ctx["company"]["id"]
    with _store(request).tx() as tx:
        hidden = [f for f in tx.list("fy", cid) if f["hidden"]]
        for fy in model.visible_fiscal_years(tx, cid):
            if fy["start"] <= end.isoformat() and start.isoformat() <= fy["end"]:
                return errors.error_response(ApiError(400, 4020, "FiscalYearIsOverlappingOtherYear - The fiscal year "
                                                      "overlaps another fiscal year."))
        same = next((f for f in hidden if f["start"] == start.isoformat() and f["end"] == end.isoformat()), None)
        if same is not None:
            same["hidden"] = False
            tx.put("fy", same["Id"], same, company=cid)
            fy = same
        else:
            fy = model.add_fiscal_year(tx, cid, start, end, clock.now_ts(tx))
        company = tx.get("company", cid) or {}
        if company.get("state") == "no_fiscal_year" and not any(f["hidden"] for f in tx.list("fy", cid)):
            company["state"] = "ok"
            tx.put("company", cid, company, company=cid)
        return _json(fiscal_year_api(fy), 201)


def _body_date(body: dict[str, Any], name: str) -> date:
    value = body.get(name)
    parsed = vouchers._parse_voucher_date(value)  # noqa: SLF001 - same date rules as vouchers
    if parsed is None:
        raise errors.validation_error(name, f"The {name} field is required and must be a date (yyyy-mm-dd).")
    return parsed


@v2("/v2/accounts", ACCOUNTING_READ)
async def list_accounts(request: Request, ctx: dict[str, Any]) -> Response:
    cid = ctx["company"]["id"]
    with _store(request).tx(write=False) as tx:
        visible = {fy["Id"] for fy in model.visible_fiscal_years(tx, cid)}
        items = [account_api(a) for a in tx.list("account", cid) if a["fy"] in visible]
        return _page(request, tx, items, ACCOUNT_FIELDS, "AccountApi")


@v2("/v2/accounts/{fiscalyearId}", ACCOUNTING_READ)
async def list_accounts_of_year(request: Request, ctx: dict[str, Any]) -> Response:
    cid = ctx["company"]["id"]
    fy_id = request.path_params["fiscalyearId"]
    with _store(request).tx(write=False) as tx:
        fy = _fy_or_3001(tx, cid, fy_id)
        items = [account_api(a) for a in tx.list("account", cid) if a["fy"] == fy["Id"]]
        return _page(request, tx, items, ACCOUNT_FIELDS, "AccountApi")


def _fy_or_3001(tx: Tx, cid: str, fy_id: str) -> dict[str, Any]:
    """The fiscal year named in a list path, or Visma's 3001 for an id the company does not have (or hides)."""
    fy = _fy_or_none(tx, cid, fy_id)
    if fy is None:
        raise ApiError(400, 3001, f"FiscalYearDoesNotExist - Resource not found: fiscalYearId. There is no fiscal "
                                  f"year with id {fy_id}.")
    return fy


@v2("/v2/costcenters", COSTCENTER_READ)
async def list_costcenters(request: Request, ctx: dict[str, Any]) -> Response:
    cid = ctx["company"]["id"]
    with _store(request).tx(write=False) as tx:
        items = tx.list("cci", cid)
        ccs = [cost_center_api(cc, items) for cc in sorted(tx.list("cc", cid), key=lambda c: c["Number"])]
        return _page(request, tx, ccs, COSTCENTER_FIELDS, "CostCenterApi")


@v2("/v2/vouchers", ACCOUNTING_READ)
async def list_vouchers(request: Request, ctx: dict[str, Any]) -> Response:
    cid = ctx["company"]["id"]
    with _store(request).tx(write=False) as tx:
        visible = {fy["Id"] for fy in model.visible_fiscal_years(tx, cid)}
        items = [v["api"] for v in tx.list("voucher", cid) if v["fiscal_year_id"] in visible]
        return _page(request, tx, items, VOUCHER_FIELDS, "VoucherApi")


@v2("/v2/vouchers/{fiscalyearId}", ACCOUNTING_READ)
async def list_vouchers_of_year(request: Request, ctx: dict[str, Any]) -> Response:
    cid = ctx["company"]["id"]
    fy_id = request.path_params["fiscalyearId"]
    with _store(request).tx(write=False) as tx:
        fy = _fy_or_3001(tx, cid, fy_id)
        items = [v["api"] for v in tx.list("voucher", cid) if v["fiscal_year_id"] == fy["Id"]]
        return _page(request, tx, items, VOUCHER_FIELDS, "VoucherApi")


@v2("/v2/vouchers/{fiscalyearId}/{voucherId}", ACCOUNTING_READ)
async def get_voucher(request: Request, ctx: dict[str, Any]) -> Response:
    cid = ctx["company"]["id"]
    fy_id = request.path_params["fiscalyearId"].lower()
    voucher_id = request.path_params["voucherId"].lower()
    with _store(request).tx(write=False) as tx:
        doc = tx.get("voucher", voucher_id) if guid(voucher_id) is not None else None
        fy = _fy_or_none(tx, cid, fy_id)
    if doc is None or fy is None or doc["company_id"] != cid or doc["fiscal_year_id"] != fy_id:
        return Response(status_code=404)
    return _json(doc["api"])


@v2("/v2/vouchers", ACCOUNTING_WRITE, write=True)
async def create_voucher(request: Request, ctx: dict[str, Any]) -> Response:
    flags = vouchers.parse_flags(request.query_params)
    body = await read_body(request)
    cid = ctx["company"]["id"]
    with _store(request).tx() as tx:
        # The guard checked the token before the latency fault; a reset or a revocation during that wait ends it.
        header = request.headers.get("authorization", "")
        if tokens.access_token_record(tx, header[7:].strip()) is None:
            raise ApiError(401, 4005, errors.MSG_401)
        company = tx.get("company", cid)
        assert company is not None
        checked = vouchers.validate(tx, company, body, flags)
        if company["state"] == "ledger_empty":
            return errors.ledger_empty_response()
        doc = vouchers.store_voucher(tx, company, checked)
        if company["faults"].get("commit_then_drop", 0) > 0:
            company["faults"]["commit_then_drop"] -= 1
            tx.put("company", cid, company, company=cid)
            tx.bump("connections_dropped", "POST /v2/vouchers")
            request.scope[faults.DROP_SCOPE_KEY] = True
    return _json(doc["api"], 201)


ROUTES = [
    Route("/v2/companysettings", get_companysettings, methods=["GET"]),
    Route("/v2/fiscalyears", list_fiscalyears, methods=["GET"]),
    Route("/v2/fiscalyears", create_fiscalyear, methods=["POST"]),
    Route("/v2/fiscalyears/{id}", get_fiscalyear, methods=["GET"]),
    Route("/v2/accounts", list_accounts, methods=["GET"]),
    Route("/v2/accounts/{fiscalyearId}", list_accounts_of_year, methods=["GET"]),
    Route("/v2/costcenters", list_costcenters, methods=["GET"]),
    Route("/v2/vouchers", list_vouchers, methods=["GET"]),
    Route("/v2/vouchers", create_voucher, methods=["POST"]),
    Route("/v2/vouchers/{fiscalyearId}", list_vouchers_of_year, methods=["GET"]),
    Route("/v2/vouchers/{fiscalyearId}/{voucherId}", get_voucher, methods=["GET"]),
]

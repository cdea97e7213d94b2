"""Voucher drafts: ``/v2/voucherdrafts`` (list, create, read, replace, delete) and ``POST …/{id}/convert``.

From Visma's OpenAPI document (VoucherDraftApi, VoucherDraftRowApi; reads need ``ea:accounting`` or
``ea:accounting_readonly``, writes ``ea:accounting``) and the changelog entry "New endpoints: Voucher Drafts":

- A draft is saved for later completion: its fields are checked (2000, every problem at once) but not the ledger rules
  — it need not balance, and its accounts, cost centres and projects are looked at when it is converted. Its own
  limits are the draft schema's: amounts at most 1,000,000,000 with two decimals, ``TransactionText`` at most 50
  characters, ``VoucherText`` at most 1000; ``VoucherDate`` is required (the 2023 document's ``required``).
- ``amountIncludesVat`` (default false) must be a boolean; with no VAT code on a row it changes nothing.
- Converting runs the voucher rules of ``POST /v2/vouchers`` (balance, fiscal year 3001, locked year 4038, locked
  period 4026, accounts 3002, cost centres, projects): "Once converted, the voucher draft will be removed and a new
  voucher will be created with the same transaction data" — 201 with the ``VoucherApi``, numbered in the draft's
  ``NumberSeries`` or the default series. A refused conversion keeps the draft.
- A draft that does not exist (never did, deleted, converted) is 404 on read, replace, delete and convert, with
  Visma's envelope (Visma returns an ErrorId "on all non-successful requests", docs "Let's get started"), 3000
  ResourceNotFound.
"""

from __future__ import annotations

import re
import uuid
from decimal import Decimal
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sandbox import clock, errors, vouchers
from sandbox.api import ACCOUNTING_READ, ACCOUNTING_WRITE, _json, _page, _store, read_body, v2
from sandbox.errors import ApiError
from sandbox.ids import guid
from sandbox.store import Tx

MAX_DRAFT_AMOUNT = Decimal("1000000000")
DRAFT_FIELDS = {"Id", "VoucherDate", "VoucherText", "NumberSeries", "CreatedUtc", "ModifiedUtc", "Rows"}
GUID_FIELDS = ("VatCodeId", "CostCenterItemId1", "CostCenterItemId2", "CostCenterItemId3", "ProjectId")


def msg_not_found(draft_id: str) -> str:
    return f"ResourceNotFound - The voucher draft {draft_id} was not found."


def _amount(row: dict[str, Any], name: str, where: str, problems: list[tuple[str, str]]) -> Decimal:
    amount = vouchers.row_amount(row, name, where, problems)
    if not Decimal(0) <= amount <= MAX_DRAFT_AMOUNT:
        problems.append((f"{where}.{name}", f"The {name} must be from 0 to 1000000000."))
    return amount


def _row(row: Any, where: str, problems: list[tuple[str, str]]) -> dict[str, Any]:
    if not isinstance(row, dict):
        problems.append((where, "A row must be an object."))
        return {}
    number = row.get("AccountNumber")
    if isinstance(number, bool) or not isinstance(number, int) or not 1 <= number <= 9999999999:
        problems.append((f"{where}.AccountNumber", "The AccountNumber field is required and must be a number from 1 "
                                                   "to 9999999999."))
    debit = _amount(row, "DebitAmount", where, problems)
    credit = _amount(row, "CreditAmount", where, problems)
    if debit and credit:
        problems.append((where, "A row cannot have both a debit and a credit amount."))
    text = row.get("TransactionText")
    if text is not None and (not isinstance(text, str) or len(text) > 50):
        problems.append((f"{where}.TransactionText", "The TransactionText can be at most 50 characters."))
    ids: dict[str, str | None] = {}
    for name in GUID_FIELDS:
        ids[name] = guid(row.get(name))
        if row.get(name) is not None and ids[name] is None:
            problems.append((f"{where}.{name}", f"'{row.get(name)}' is not a valid GUID."))
    return {"AccountNumber": number, "DebitAmount": str(debit), "CreditAmount": str(credit),
            "TransactionText": text, **ids}


def check_draft(tx: Tx, cid: str, body: dict[str, Any]) -> dict[str, Any]:
    """The draft's stored fields, or ApiError 2000 listing every problem."""
    problems: list[tuple[str, str]] = []
    raw_date = body.get("VoucherDate")
    day = vouchers._parse_voucher_date(raw_date)  # noqa: SLF001 - the same date rule as a voucher's
    if day is None:
        problems.append(("VoucherDate", "The VoucherDate field is required and must be a date (yyyy-mm-dd)."))
    text = body.get("VoucherText")
    if text is not None and (not isinstance(text, str) or len(text) > 1000):
        problems.append(("VoucherText", "The VoucherText can be at most 1000 characters."))
    series = body.get("NumberSeries")
    if series is not None and (not isinstance(series, str) or not re.fullmatch(r"[A-Za-z]", series)):
        problems.append(("NumberSeries", "The NumberSeries must be one letter."))
    rows = body.get("Rows")
    if rows is not None and not isinstance(rows, list):
        problems.append(("Rows", "The Rows must be a list of rows."))
        rows = []
    parsed = [_row(r, f"Rows[{i}]", problems) for i, r in enumerate(rows or [])]
    vat_codes = {v["Id"] for v in tx.list("vatcode", cid)}
    for i, r in enumerate(parsed):
        if r.get("VatCodeId") and r["VatCodeId"] not in vat_codes:
            problems.append((f"Rows[{i}].VatCodeId", f"VatCodeId '{r['VatCodeId']}' does not exist in this company."))
    if problems:
        raise errors.validation_errors(problems)
    assert day is not None
    return {"day": day.isoformat(), "text": text, "series": series.upper() if series else None, "rows": parsed}


def draft_api(d: dict[str, Any]) -> dict[str, Any]:
    return {
        "Id": d["Id"], "VoucherDate": clock.iso_date(d["day"]), "VoucherText": d["text"], "NumberSeries": d["series"],
        "CreatedUtc": clock.iso(d["created"]), "ModifiedUtc": clock.iso(d["modified"]),
        "Rows": [
            {"AccountNumber": r["AccountNumber"], "DebitAmount": float(r["DebitAmount"]),
             "CreditAmount": float(r["CreditAmount"]), "VatCodeId": r["VatCodeId"],
             "CostCenterItemId1": r["CostCenterItemId1"], "CostCenterItemId2": r["CostCenterItemId2"],
             "CostCenterItemId3": r["CostCenterItemId3"], "TransactionText": r["TransactionText"],
             "ProjectId": r["ProjectId"], "Quantity": None, "Weight": None, "DeliveryDate": None, "HarvestYear": None}
            for r in d["rows"]
        ],
    }


def voucher_body(d: dict[str, Any]) -> dict[str, Any]:
    """The ``POST /v2/vouchers`` body with the draft's transaction data (amounts as Decimal, as vouchers parses)."""
    rows = []
    for r in d["rows"]:
        row: dict[str, Any] = {"AccountNumber": r["AccountNumber"], "TransactionText": r["TransactionText"]}
        for name in ("DebitAmount", "CreditAmount"):
            if Decimal(r[name]):
                row[name] = Decimal(r[name])
        row.update({k: r[k] for k in GUID_FIELDS if r[k] is not None})
        rows.append(row)
    body: dict[str, Any] = {"VoucherDate": d["day"], "VoucherText": d["text"], "Rows": rows}
    if d["series"]:
        body["NumberSeries"] = d["series"]
    return body


def _bool_param(request: Request, name: str) -> None:
    raw = request.query_params.get(name)
    if raw is not None and raw.lower() not in ("true", "false"):
        raise errors.validation_error(name, f"The value '{raw}' is not valid for {name}; use true or false.")


def _draft_or_404(tx: Tx, cid: str, raw_id: str) -> dict[str, Any]:
    draft_id = guid(raw_id)
    draft = tx.get("draft", draft_id) if draft_id else None
    if draft is None or draft["company"] != cid:
        raise ApiError(404, 3000, msg_not_found(raw_id))
    return draft


@v2("/v2/voucherdrafts", ACCOUNTING_READ)
async def list_drafts(request: Request, ctx: dict[str, Any]) -> Response:
    with _store(request).tx(write=False) as tx:
        items = [draft_api(d) for d in tx.list("draft", ctx["company"]["id"])]
        return _page(request, tx, items, DRAFT_FIELDS, "VoucherDraftApi")


@v2("/v2/voucherdrafts", ACCOUNTING_WRITE, write=True)
async def create_draft(request: Request, ctx: dict[str, Any]) -> Response:
    _bool_param(request, "amountIncludesVat")
    body = await read_body(request)
    cid = ctx["company"]["id"]
    with _store(request).tx() as tx:
        fields = check_draft(tx, cid, body)
        now = clock.now_ts(tx)
        draft = {"Id": str(uuid.uuid4()), "company": cid, "created": now, "modified": now, **fields}
        tx.put("draft", draft["Id"], draft, company=cid)
        return _json(draft_api(draft), 201)


@v2("/v2/voucherdrafts/{voucherDraftId}", ACCOUNTING_READ)
async def get_draft(request: Request, ctx: dict[str, Any]) -> Response:
    with _store(request).tx(write=False) as tx:
        draft = _draft_or_404(tx, ctx["company"]["id"], request.path_params["voucherDraftId"])
    return _json(draft_api(draft))


@v2("/v2/voucherdrafts/{voucherDraftId}", ACCOUNTING_WRITE, write=True)
async def replace_draft(request: Request, ctx: dict[str, Any]) -> Response:
    body = await read_body(request)
    cid = ctx["company"]["id"]
    with _store(request).tx() as tx:
        draft = _draft_or_404(tx, cid, request.path_params["voucherDraftId"])
        draft.update(check_draft(tx, cid, body))
        draft["modified"] = clock.now_ts(tx)
        tx.put("draft", draft["Id"], draft, company=cid)
        return _json(draft_api(draft))


@v2("/v2/voucherdrafts/{voucherDraftId}", ACCOUNTING_WRITE, write=True)
async def delete_draft(request: Request, ctx: dict[str, Any]) -> Response:
    with _store(request).tx() as tx:
        draft = _draft_or_404(tx, ctx["company"]["id"], request.path_params["voucherDraftId"])
        tx.delete("draft", draft["Id"])
    return Response(status_code=200)


@v2("/v2/voucherdrafts/{voucherDraftId}/convert", ACCOUNTING_WRITE, write=True)
async def convert_draft(request: Request, ctx: dict[str, Any]) -> Response:
    cid = ctx["company"]["id"]
    with _store(request).tx() as tx:
        draft = _draft_or_404(tx, cid, request.path_params["voucherDraftId"])
        company = tx.get("company", cid)
        assert company is not None
        flags = {**vouchers.parse_flags({}), "useDefaultVoucherSeries": draft["series"] is None}
        checked = vouchers.validate(tx, company, voucher_body(draft), flags)
        if company["state"] == "ledger_empty":
            return errors.ledger_empty_response()
        doc = vouchers.store_voucher(tx, company, checked)
        tx.delete("draft", draft["Id"])  # in the voucher's transaction: both happen or neither
    return _json(doc["api"], 201)


ROUTES = [
    Route("/v2/voucherdrafts", list_drafts, methods=["GET"]),
    Route("/v2/voucherdrafts", create_draft, methods=["POST"]),
    Route("/v2/voucherdrafts/{voucherDraftId}", get_draft, methods=["GET"]),
    Route("/v2/voucherdrafts/{voucherDraftId}", replace_draft, methods=["PUT"]),
    Route("/v2/voucherdrafts/{voucherDraftId}", delete_draft, methods=["DELETE"]),
    Route("/v2/voucherdrafts/{voucherDraftId}/convert", convert_draft, methods=["POST"]),
]

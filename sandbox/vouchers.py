"""``POST /v2/vouchers``: Visma's voucher rules (visma-eaccounting.md §2 VoucherApi/VoucherRowApi, §7) and storage.

Order of checks (Visma's model validation first, then the domain): the query flags; field validation (2000, every
problem named in the one message); balance (2000); fiscal year of ``VoucherDate`` (3001), locked year (4038), locked
period (4026); each row's account exists and is active in that fiscal year (3002); cost centre allowed on the account
(2000), the item exists, is of the right dimension and is active (5006).

Amounts are parsed as Decimal straight from the JSON text, so "two decimals" is checked on what the client sent, not on
a float. The response turns them back into JSON numbers.
"""

from __future__ import annotations

import json
import re
import uuid
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sandbox import clock, dimensions, errors, model
from sandbox.errors import ApiError
from sandbox.ids import guid
from sandbox.store import Tx

VOUCHER_TYPES = {2, *range(5, 31), 32, 33, 34}
MAX_AMOUNT = Decimal("10000000000")
_FLAGS = ("useAutomaticVatCalculation", "useDefaultVatCodes", "useDefaultVoucherSeries")
_FLAG_DEFAULTS = {"useAutomaticVatCalculation": False, "useDefaultVatCodes": True, "useDefaultVoucherSeries": True}


def parse_body(raw: bytes) -> dict[str, Any]:
    try:
        body = json.loads(raw or b"null", parse_float=Decimal)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise errors.validation_error("Body", "The request body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise errors.validation_error("Body", "The request body must be a voucher object.")
    return body


def parse_flags(query: Any) -> dict[str, bool]:
    flags = dict(_FLAG_DEFAULTS)
    for name in _FLAGS:
        raw = query.get(name)
        if raw is None:
            continue
        if raw.lower() not in ("true", "false"):
            raise errors.validation_error(name, f"The value '{raw}' is not valid for {name}; use true or false.")
        flags[name] = raw.lower() == "true"
    return flags


def _parse_voucher_date(value: Any) -> date | None:
    if not isinstance(value, str):
        return None
    try:
        if "T" in value:
            return datetime.fromisoformat(value.replace("Z", "+00:00")).date()
        return date.fromisoformat(value)
    except ValueError:
        return None


def row_amount(row: dict[str, Any], name: str, where: str, problems: list[tuple[str, str]]) -> Decimal:
    """A row's amount as a number with at most 2 decimals (0 when absent); the caller checks its range. Drafts read
    their amounts the same way."""
    value = row.get(name)
    if value is None:
        return Decimal(0)
    if isinstance(value, bool) or not isinstance(value, (int, Decimal)):
        problems.append((f"{where}.{name}", f"The {name} must be a number."))
        return Decimal(0)
    amount = Decimal(value)
    try:
        exponent = amount.normalize().as_tuple().exponent
    except InvalidOperation:
        exponent = 0
    if isinstance(exponent, int) and exponent < -2:
        problems.append((f"{where}.{name}", f"The {name} can have at most 2 decimals."))
    return amount


def _amount(row: dict[str, Any], name: str, where: str, problems: list[tuple[str, str]]) -> Decimal:
    amount = row_amount(row, name, where, problems)
    if amount < 0:
        problems.append((f"{where}.{name}", f"The {name} must be 0 or more."))
    if amount > MAX_AMOUNT:
        problems.append((f"{where}.{name}", f"The {name} must be at most 10000000000."))
    return amount


def _check_text(body: dict[str, Any], problems: list[tuple[str, str]]) -> Any:
    text = body.get("VoucherText")
    if not isinstance(text, str) or not text.strip():
        problems.append(("VoucherText", "The VoucherText field is required."))
    elif len(text) > 1000:
        problems.append(("VoucherText", "The VoucherText can be at most 1000 characters."))
    return text


def _check_date(tx: Tx, body: dict[str, Any], behaviour: dict[str, Any],
                problems: list[tuple[str, str]]) -> date | None:
    raw_date = body.get("VoucherDate")
    day = _parse_voucher_date(raw_date)
    if raw_date is None:
        if behaviour["require_voucher_date"]:
            problems.append(("VoucherDate", "The VoucherDate field is required."))
        else:
            day = clock.today(tx)
    elif day is None:
        problems.append(("VoucherDate", f"The value '{raw_date}' is not a valid date; use yyyy-mm-dd."))
    return day


def _check_type(body: dict[str, Any], problems: list[tuple[str, str]]) -> Any:
    vtype = body.get("VoucherType", 2)
    if vtype is None:
        vtype = 2
    if isinstance(vtype, bool) or not isinstance(vtype, int) or vtype not in VOUCHER_TYPES:
        problems.append(("VoucherType", f"The value '{vtype}' is not a valid VoucherType."))
    return vtype


def _check_series(body: dict[str, Any], flags: dict[str, bool], problems: list[tuple[str, str]]) -> str:
    if flags["useDefaultVoucherSeries"]:
        return "A"
    wanted = body.get("NumberSeries")
    if not isinstance(wanted, str) or not re.fullmatch(r"[A-Za-z]", wanted):
        problems.append(("NumberSeries", "With useDefaultVoucherSeries=false, NumberSeries must be one letter."))
        return "A"
    return wanted.upper()


def _cost_center_items(row: dict[str, Any], where: str, problems: list[tuple[str, str]]) -> dict[int, str]:
    items: dict[int, str] = {}
    for n in (1, 2, 3):
        value = row.get(f"CostCenterItemId{n}")
        if value is None:
            continue
        if guid(value) is None:
            problems.append((f"{where}.CostCenterItemId{n}", f"'{value}' is not a valid GUID."))
        else:
            items[n] = str(value).lower()
    return items


def _check_row(row: dict[str, Any], where: str, behaviour: dict[str, Any],
               problems: list[tuple[str, str]]) -> dict[str, Any]:
    number = row.get("AccountNumber")
    if number is None:
        problems.append((f"{where}.AccountNumber", "The AccountNumber field is required."))
    elif isinstance(number, bool) or not isinstance(number, int) or not 1 <= number <= 9999999999:
        problems.append((f"{where}.AccountNumber", "The AccountNumber must be a number from 1 to 9999999999."))
    debit = _amount(row, "DebitAmount", where, problems)
    credit = _amount(row, "CreditAmount", where, problems)
    if debit and credit:
        problems.append((where, "A row cannot have both a debit and a credit amount."))
    elif not debit and not credit and behaviour["reject_zero_rows"]:
        problems.append((where, "A row must have a debit or a credit amount."))
    ttext = row.get("TransactionText")
    if ttext is not None and (not isinstance(ttext, str) or len(ttext) > 60):
        problems.append((f"{where}.TransactionText", "The TransactionText can be at most 60 characters."))
    items = _cost_center_items(row, where, problems)
    # VatCodeId: checked against the company's VAT codes in ``validate``; ProjectId in dimensions.check_rows
    return {"number": number, "debit": debit, "credit": credit, "text": ttext, "items": items,
            "vat": row.get("VatCodeId")}


def _check_rows(body: dict[str, Any], behaviour: dict[str, Any],
                problems: list[tuple[str, str]]) -> list[dict[str, Any]]:
    rows = body.get("Rows")
    if not isinstance(rows, list) or not rows:
        problems.append(("Rows", "The voucher must have rows."))
        return []
    parsed = []
    for i, row in enumerate(rows):
        if not isinstance(row, dict):
            problems.append((f"Rows[{i}]", "A row must be an object."))
            continue
        parsed.append(_check_row(row, f"Rows[{i}]", behaviour, problems))
    return parsed


def _check_balance(parsed: list[dict[str, Any]]) -> None:
    total_debit = sum((r["debit"] for r in parsed), Decimal(0))
    total_credit = sum((r["credit"] for r in parsed), Decimal(0))
    if total_debit != total_credit:
        raise ApiError(400, 2000, errors.msg_unbalanced(f"{total_debit:.2f}", f"{total_credit:.2f}"),
                       [{"Field": "Rows", "ErrorCode": "2000", "Message": "The voucher is not balanced.",
                         "Key": "Rows"}])


def _open_fiscal_year(tx: Tx, company: dict[str, Any], day: date) -> dict[str, Any]:
    """The fiscal year of ``day`` when it is open for this voucher date: 3001, 4038, 4026 otherwise."""
    iso_day = day.isoformat()
    fy = model.fiscal_year_for(tx, company["id"], day)
    if fy is None:
        raise ApiError(400, 3001, errors.msg_3001(iso_day))
    if fy["locked"]:
        raise ApiError(400, 4038, errors.msg_4038(iso_day))
    if company.get("locked_to") and iso_day <= company["locked_to"]:
        raise ApiError(400, 4026, errors.msg_4026(iso_day))
    return fy


def _check_accounts(tx: Tx, fy: dict[str, Any], parsed: list[dict[str, Any]]) -> None:
    for r in parsed:
        account = tx.get("account", f"{fy['Id']}:{r['number']}")
        if account is None or not account["active"]:
            raise ApiError(400, 3002, errors.msg_3002(r["number"]))
        r["account"] = account


def _check_cost_centers(tx: Tx, cid: str, parsed: list[dict[str, Any]]) -> None:
    for i, r in enumerate(parsed):
        for n, item_id in r["items"].items():
            field = f"Rows[{i}].CostCenterItemId{n}"
            if not r["account"]["cc_allowed"]:
                raise ApiError(400, 2000, errors.msg_cost_center_not_allowed(r["number"]),
                               [{"Field": field, "ErrorCode": "2000", "Message": "Cost center is not allowed.",
                                 "Key": field}])
            item = next((c for c in tx.list("cci", cid) if c["Id"] == item_id), None)
            if item is None or item["Number"] != n:
                raise errors.validation_error(field, f"Cost center item {item_id} does not exist in dimension {n}.")
            if not item["IsActive"]:
                raise ApiError(400, 5006, errors.msg_5006(item["ShortName"]))


def validate(tx: Tx, company: dict[str, Any], body: dict[str, Any], flags: dict[str, bool]) -> dict[str, Any]:
    """Check a voucher; return what ``store_voucher`` needs. Raises ``ApiError`` with Visma's code and text.

    Field validation first, every problem listed at once (Visma's model validation); then the domain rules, each
    answering on its own, in Visma's order."""
    behaviour = model.settings(tx)
    problems: list[tuple[str, str]] = []
    text = _check_text(body, problems)
    day = _check_date(tx, body, behaviour, problems)
    vtype = _check_type(body, problems)
    series = _check_series(body, flags, problems)
    parsed = _check_rows(body, behaviour, problems)
    vat_codes = {v["Id"] for v in tx.list("vatcode", company["id"])}  # GET /v2/vatcodes lists them
    for i, r in enumerate(parsed):
        if r["vat"] is not None and r["vat"] not in vat_codes:
            problems.append((f"Rows[{i}].VatCodeId", f"VatCodeId '{r['vat']}' does not exist in this company."))
    if problems:
        raise errors.validation_errors(problems)
    assert day is not None  # a missing or bad date is a problem above
    _check_balance(parsed)
    fy = _open_fiscal_year(tx, company, day)
    _check_accounts(tx, fy, parsed)
    _check_cost_centers(tx, company["id"], parsed)
    dimensions.check_rows(tx, company["id"], body, parsed, day.isoformat())  # first cost centre mandatory, projects
    return {"day": day.isoformat(), "fy": fy, "rows": parsed, "text": text, "type": vtype, "series": series}


def store_voucher(tx: Tx, company: dict[str, Any], checked: dict[str, Any]) -> dict[str, Any]:
    """Number and save a checked voucher; returns the stored document (``api`` holds the VoucherApi body)."""
    cid, fy = company["id"], checked["fy"]
    counter_id = f"{cid}:{fy['Id']}:{checked['series']}"
    counter = tx.get("series", counter_id) or {"n": 0}
    counter["n"] += 1
    tx.put("series", counter_id, counter, company=cid)
    voucher_id = str(uuid.uuid4())
    now = clock.iso(clock.now(tx))
    api = {
        "Id": voucher_id,
        "VoucherDate": clock.iso_date(checked["day"]),
        "VoucherText": checked["text"],
        "Rows": [
            {
                "AccountNumber": r["number"],
                "AccountDescription": r["account"]["name"],
                "DebitAmount": float(r["debit"]),
                "CreditAmount": float(r["credit"]),
                "TransactionText": r["text"],
                "CostCenterItemId1": r["items"].get(1),
                "CostCenterItemId2": r["items"].get(2),
                "CostCenterItemId3": r["items"].get(3),
                "VatCodeId": r.get("vat"),
                "VatCodeAndPercent": None,
                "VatAmount": None,
                "Quantity": None,
                "Weight": None,
                "DeliveryDate": None,
                "HarvestYear": None,
                "ProjectId": r.get("project"),
            }
            for r in checked["rows"]
        ],
        "NumberAndNumberSeries": f"{checked['series']}{counter['n']}",
        "NumberSeries": checked["series"],
        "ImportedVoucherNumber": None,
        "Attachments": {"DocumentId": voucher_id, "DocumentType": 3, "AttachmentIds": []},
        "ModifiedUtc": now,
        "VoucherType": checked["type"],
        "SourceId": None,
        "CreatedUtc": now,
    }
    doc = {"company_id": cid, "fiscal_year_id": fy["Id"], "api": api}
    tx.put("voucher", voucher_id, doc, company=cid)
    tx.bump("vouchers_created", cid)
    return doc

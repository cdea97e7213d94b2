"""Visma's error envelope and the exact texts of docs/architecture.md ("Error texts").

eAccounting answers every failed call with ``CommonExtendedBadRequest``:
``{"ErrorCode", "DeveloperErrorMessage", "ErrorId", "Errors"}`` where ``ErrorId`` is a fresh GUID each time
(visma-eaccounting.md F17). The texts below are the contract the project's error catalogue matches on; change them
only together with the catalogue.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from starlette.responses import Response

MSG_401 = "AuthorizationException - Authorization has been denied for this request."
MSG_4002 = "ForbiddenRequestException - No access to module: api_standard"
MSG_4011 = "ForbiddenRequestException - The authenticated user does not have access to eAccounting for this company."
MSG_4004 = "CompanyNotActive - The company is not active."
MSG_4019 = "NoPermissionForReadonlyUser - The user has read-only permissions and cannot create or change data."
MSG_500 = "InternalServerError - An unexpected error occurred."
MSG_503 = "CantReachSystemDependendency - A system dependency could not be reached."


def msg_4006(scopes: list[str]) -> str:
    return (
        "NoAccessToScopes - The access token does not include any of the scopes required for this operation: "
        + ", ".join(scopes)
        + "."
    )


def msg_3001(day: str) -> str:
    return f"FiscalYearDoesNotExist - Resource not found: fiscalYearId. There is no fiscal year for the date {day}."


def msg_3002(account: int | str) -> str:
    return (
        f"AccountNotFound - Account {account} does not exist or is not active in the fiscal year of the voucher date."
    )


def msg_4026(day: str) -> str:
    return f"VoucherDateIsInLockedPeriod - The voucher date {day} is in a locked accounting period."


def msg_4038(day: str) -> str:
    return (
        f"VoucherDateIsInLockedYearException - The voucher date {day} is in a fiscal year that is locked for "
        "accounting."
    )


def msg_cost_center_not_allowed(account: int | str) -> str:
    return f"DataModelValidationError - Cost center is not allowed on account {account}."


def msg_unbalanced(debit: str, credit: str) -> str:
    return (
        f"DataModelValidationError - The voucher is not balanced: total debit {debit} does not equal total credit "
        f"{credit}."
    )


def msg_5006(short_name: str) -> str:
    return f"InactiveCostCenter - Cost center item {short_name} is inactive."


def msg_429(limit: int, seconds: int) -> str:
    return f"API calls quota exceeded! maximum admitted {limit} per Minute. Try again in {seconds} seconds."


class ApiError(Exception):
    """Raised anywhere under /v2; the app turns it into Visma's envelope with ``status``."""

    def __init__(
        self,
        status: int,
        code: int,
        message: str,
        errors: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.errors = errors
        self.headers = headers or {}


def validation_error(field: str, what: str) -> ApiError:
    """2000 for one field: ``DataModelValidationError - <field>: <what is wrong>`` with the field in ``Errors``."""
    return validation_errors([(field, what)])


def validation_errors(problems: list[tuple[str, str]]) -> ApiError:
    field, what = problems[0]
    return ApiError(
        400,
        2000,
        f"DataModelValidationError - {field}: {what}",
        [{"Field": f, "ErrorCode": "2000", "Message": w, "Key": f} for f, w in problems],
    )


def envelope(code: int, message: str, errors: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {"ErrorCode": code, "DeveloperErrorMessage": message, "ErrorId": str(uuid.uuid4()), "Errors": errors or []}


def error_response(err: ApiError) -> Response:
    headers = dict(err.headers)
    if err.status == 401:
        headers.setdefault("WWW-Authenticate", "Bearer")
    return Response(
        json.dumps(envelope(err.code, err.message, err.errors)),
        status_code=err.status,
        media_type="application/json; charset=utf-8",
        headers=headers,
    )


def ledger_empty_response() -> Response:
    """The article's third error, byte for byte in Visma.net ERP's ``{"message": …}`` envelope.

    This is not an eAccounting error (visma-eaccounting.md §5, "The seed's three errors, traced"): the shape and the
    "General ledger batch"/"Ledger" fields belong to Visma.net. The sandbox reproduces it anyway because the vendor's
    article shows it and the project's troubleshooting catalogue must recognise it.
    """
    text = (
        f"VismaId: {uuid.uuid4()}. Error creating journal transaction. Error: Inserting 'General ledger batch' record "
        "raised at least one error. Please review the errors.\r\nError: 'Ledger' cannot be empty.\r\n"
    )
    return Response(json.dumps({"message": text}), status_code=400, media_type="application/json; charset=utf-8")

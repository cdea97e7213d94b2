"""Visma's error envelope and the exact texts of docs/architecture.md ("Error texts").

eAccounting answers every failed call with exactly three keys, ``{"ErrorCode", "DeveloperErrorMessage", "ErrorId"}``,
where ``ErrorId`` is a fresh GUID each time: Visma's "Rate Limits" page shows the 429 body with these three keys and
no more, and the "Error Handling" page describes the same three fields (transcribed in ``api-evangelist/visma``
``errors/visma-problem-types.yml``). The OpenAPI document's ``CommonExtendedBadRequest`` also allows an ``Errors``
list, but no body captured from the live API carries one, so the sandbox never sends it: a validation error names its
fields in ``DeveloperErrorMessage``. The texts below are the contract the project's error catalogue matches on; change
them only together with the catalogue.
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
    """Raised anywhere under /v2; the app turns it into Visma's envelope with ``status``.

    ``errors`` (the field-level problems some callers know) is kept on the exception for code that inspects it, but
    is not part of the body: Visma's envelope has three keys (see the module docstring).
    """

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
    """2000 for one field: ``DataModelValidationError - <field>: <what is wrong>``."""
    return validation_errors([(field, what)])


def validation_errors(problems: list[tuple[str, str]]) -> ApiError:
    """2000 for every problem at once, each as ``<field>: <what is wrong>`` in the one message, in the order found."""
    return ApiError(
        400,
        2000,
        "DataModelValidationError - " + " ".join(f"{field}: {what}" for field, what in problems),
        [{"Field": f, "ErrorCode": "2000", "Message": w, "Key": f} for f, w in problems],
    )


def envelope(code: int, message: str) -> dict[str, Any]:
    """Visma's error body: exactly ``ErrorCode``, ``DeveloperErrorMessage`` and a fresh ``ErrorId``."""
    return {"ErrorCode": code, "DeveloperErrorMessage": message, "ErrorId": str(uuid.uuid4())}


def not_found_response(path: str) -> Response:
    """An unknown resource under /v2: 404 with Visma's envelope and 3000 ResourceNotFound.

    No answer of the live API to an unknown path has been published; the code is the catalogue's ResourceNotFound
    ("you refer to a specific object that does not exist") and the wording is ASP.NET Web API's own text for a URI no
    route matches, the framework the v2 API was built on (its Swagger 2.0 document lists Web API's formatters).
    """
    return error_response(ApiError(
        404, 3000, f"ResourceNotFound - No HTTP resource was found that matches the request URI '{path}'."))


def error_response(err: ApiError) -> Response:
    headers = dict(err.headers)
    if err.status == 401:
        headers.setdefault("WWW-Authenticate", "Bearer")
    return Response(
        json.dumps(envelope(err.code, err.message)),
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

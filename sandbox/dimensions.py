"""The account flags a voucher row must honour beyond cost-centre permission: first cost centre mandatory, projects.

``POST /v2/vouchers`` (and converting a voucher draft, which goes through the same checks) calls ``check_rows`` after
its own cost-centre checks, with the accounts already looked up. The rules, from Visma's OpenAPI document
(AccountApi, VoucherRowApi) and error catalogue (visma-eaccounting.md §5):

- ``IsFirstCostCenterMandatory``: "If the account must have first cost center to it" — a row on such an account
  without ``CostCenterItemId1`` is a 2000 DataModelValidationError (the changelog's "Error code number changed when cost
  centers not allowed" moved the cost-centre-versus-account errors from 4000 Conflict to 2000).
- ``ProjectId`` ("Source: Get from /v2/projects"): it must be a project of the company (2000), the account must allow
  projects (``IsProjectAllowed``, 2000), and the project must not have ended (5005 ProjectEnded): status Finished, or
  an end date before the voucher date.

Visma publishes no ``DeveloperErrorMessage`` for these; the texts follow the pattern of the sandbox's other texts
(``<ErrorName> - <what>``).
"""

from __future__ import annotations

import uuid
from typing import Any

from sandbox import errors
from sandbox.errors import ApiError
from sandbox.store import Tx


def msg_first_cost_center_mandatory(account: int | str) -> str:
    return f"DataModelValidationError - Cost center 1 is mandatory on account {account}."


def msg_project_not_allowed(account: int | str) -> str:
    return f"DataModelValidationError - Project is not allowed on account {account}."


def msg_5005(number: str) -> str:
    return f"ProjectEnded - Project {number} has ended."


def _field_error(field: str, message: str, short: str) -> ApiError:
    return ApiError(400, 2000, message, [{"Field": field, "ErrorCode": "2000", "Message": short, "Key": field}])


def project_of(tx: Tx, cid: str, value: Any) -> dict[str, Any] | None:
    """The company's project with id ``value`` (a GUID string), or None."""
    try:
        pid = str(uuid.UUID(str(value)))
    except ValueError:
        return None
    project = tx.get("project", pid)
    if project is None or not isinstance(value, str) or project["company"] != cid:
        return None
    return project


def project_ended(project: dict[str, Any], iso_day: str) -> bool:
    return project["Status"] == 2 or (project["EndDate"] is not None and project["EndDate"] < iso_day)


def check_rows(tx: Tx, cid: str, body: dict[str, Any], parsed: list[dict[str, Any]], iso_day: str) -> None:
    """Check each row (``parsed[i]`` has its ``account`` document, ``items`` by dimension) against its account's
    flags; sets ``parsed[i]["project"]`` to the row's project id (or None). Raises ApiError (2000, 5005)."""
    rows = body.get("Rows") or []
    for i, r in enumerate(parsed):
        account = r["account"]
        if account.get("cc_mandatory") and 1 not in r["items"]:
            raise _field_error(f"Rows[{i}].CostCenterItemId1", msg_first_cost_center_mandatory(r["number"]),
                               "Cost center 1 is mandatory.")
        raw = rows[i].get("ProjectId") if i < len(rows) and isinstance(rows[i], dict) else None
        r["project"] = None
        if raw is None:
            continue
        field = f"Rows[{i}].ProjectId"
        project = project_of(tx, cid, raw)
        if project is None:
            raise errors.validation_error(field, f"ProjectId '{raw}' does not exist in this company.")
        if not account.get("project_allowed"):
            raise _field_error(field, msg_project_not_allowed(r["number"]), "Project is not allowed.")
        if project_ended(project, iso_day):
            raise ApiError(400, 5005, msg_5005(project["Number"]))
        r["project"] = project["Id"]

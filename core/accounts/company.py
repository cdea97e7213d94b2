"""The Visma company an authorization is for: the one the user chose at Visma's login, read from the access token's
claims and ``companysettings``, with the note the account gets when Visma will not show it."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any

import httpx

from core.accounts.records import record_failure
from core.accounts.revocation import revoke_quietly
from core.errors import ServiceError
from core.troubleshooting.classify import entry_for
from core.visma.errors import VismaError
from core.visma.oauth import TokenSet


@dataclass(frozen=True, slots=True)
class ChosenCompany:
    """The Visma company the user chose at login, and the note the account gets when Visma will not show it."""

    id: str | None
    name: str | None
    status_reason: str | None = None
    status_entry_id: str | None = None

    @property
    def label(self) -> str:
        return f"'{self.name}'" if self.name else f"company {self.id}"


_API_MODULE_INACTIVE = (
    "Authorized, but Visma's API module is not active for this company (403 4002 api_standard), so nothing can be "
    "read or posted. In eAccounting activate the API module (Settings → 'Extra diensten' / Apps and extensions); if "
    "the wrong company was authorized because the Visma user has a 'default company', deselect that setting in Visma "
    "Online and re-authorize."
)


def _jwt_claims(token: str) -> dict[str, Any]:
    """The claims of a JWT access token, read without verifying (it came straight from the token endpoint over TLS;
    only ``customer_id``, the company chosen at login, is used). Empty for an opaque token."""
    try:
        payload = token.split(".")[1]
        data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _company_unreachable(rt, account_id: int, tokens: TokenSet, exc: Exception, status: int | None, *,
                         actor: str) -> ServiceError:
    """The tokens work but Visma's API could not be asked which company they are for: revoke them, note it."""
    revoke_quietly(rt, tokens.refresh_token)
    message = (
        "The authorization worked, but Visma's API could not be reached to read the company "
        f"({type(exc).__name__}). Wait a few minutes and authorize again."
    )
    record_failure(rt, account_id, actor=actor, action="authorization.failed", reason=message,
                   entry_id="visma-unavailable", detail={"step": "companysettings", "status": status})
    return ServiceError(message, entry_id="visma-unavailable", code="visma_unavailable")


def read_company(rt, account_id: int, tokens: TokenSet, *, actor: str) -> ChosenCompany:
    """The company from the token's claims and ``companysettings``. A company whose API module is off, or that Visma
    refuses to show, is still authorized (the token is fine), with a note; Visma unreachable is an error."""
    claims = _jwt_claims(tokens.access_token)
    company_id = str(claims["customer_id"]) if claims.get("customer_id") else None
    company_name = claims.get("customer_name") if isinstance(claims.get("customer_name"), str) else None
    try:
        company = rt.visma.company_settings(tokens.access_token)
    except VismaError as exc:
        if exc.is_api_module_inactive:
            return ChosenCompany(company_id, company_name, _API_MODULE_INACTIVE, "api-module-inactive")
        if exc.status in (400, 403, 404):
            reason = f"Authorized, but Visma refuses to show the company's settings: {exc}"[:500]
            return ChosenCompany(company_id, company_name, reason, entry_for(exc))
        raise _company_unreachable(rt, account_id, tokens, exc, exc.status, actor=actor) from None
    except httpx.HTTPError as exc:
        raise _company_unreachable(rt, account_id, tokens, exc, None, actor=actor) from None
    return ChosenCompany(company_id or company.corporate_identity_number, company.name or company_name)

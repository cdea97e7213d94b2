"""Visma accounts: create, authorize over OAuth (state + PKCE kept server-side), refresh single-flight, disconnect.

One account is one authorization of one Visma user for one Visma company (the article: to map several companies with
one Visma login, authorize it several times, one account each).

Single-flight refresh, across threads, processes and machines: Visma's refresh tokens rotate and are single-use, so
two refreshes racing would log the account out. Whoever needs a new access token takes a *lease* on the account's
``account_token`` row with one conditional UPDATE (``WHERE version = :seen AND lease free``); only the lease holder
calls Visma, and it stores the rotated refresh token together with the new access token in one commit (``version``
+1) before anyone uses the new access token. The others poll the row until the version changes (bounded), and a lease
whose holder died expires. Only ``invalid_grant`` sends an account to *needs re-authorization*; a 403 4002
``api_standard`` is a Visma setting, never an authorization failure (visma-eaccounting.md §6 (a)).
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import socket
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl

import sqlalchemy as sa
from sqlmodel import Session, col, select

from core.db import audit, models
from core.db.engine import session_scope
from core.db.models import (
    AUTHORIZED,
    NEEDS_REAUTHORIZATION,
    NOT_AUTHORIZED,
    Account,
    AccountToken,
    CompanyMapping,
    OAuthState,
    PayrollCompany,
)
from core.errors import ServiceError
from core.visma.oauth import OAuthError

STATE_TTL = timedelta(minutes=10)
STATE_KEEP = timedelta(days=1)  # expired states are kept a day so that a late callback gets "expired", not "unknown"
REFRESH_MARGIN = timedelta(seconds=120)  # refresh when less than this remains
LEASE_TTL = timedelta(seconds=45)  # longer than the identity server's timeout (15 s); a dead holder's lease expires
WAIT_LIMIT_SECONDS = 30.0
POLL_SECONDS = 0.05
NAME_MAX = 100

__all__ = [
    "complete_authorization",
    "create_account",
    "delete_account",
    "disconnect_account",
    "get_account",
    "list_accounts",
    "refresh_account",
    "start_authorization",
    "token_provider",
    "visma_session",
]


def _now() -> datetime:
    """Our clock (``core.db.models.utcnow``, looked up at call time so tests can move it)."""
    return models.utcnow()


# ---------------------------------------------------------------------------------------------------- reading


def _mapped_companies(session: Session, account_id: int) -> list[str]:
    rows = session.exec(
        select(PayrollCompany.name)
        .join(CompanyMapping, col(CompanyMapping.payroll_company_id) == col(PayrollCompany.id))
        .where(CompanyMapping.account_id == account_id)
        .order_by(PayrollCompany.name)
    ).all()
    return list(rows)


def _companies_by_account(session: Session, account_ids: list[int] | None = None) -> dict[int, list[str]]:
    """The payroll companies mapped to each account (names sorted), in one query for all accounts."""
    stmt = (
        select(CompanyMapping.account_id, PayrollCompany.name)
        .join(PayrollCompany, col(CompanyMapping.payroll_company_id) == col(PayrollCompany.id))
        .order_by(PayrollCompany.name)
    )
    if account_ids is not None:
        stmt = stmt.where(col(CompanyMapping.account_id).in_(account_ids))
    out: dict[int, list[str]] = {}
    for account_id, name in session.exec(stmt).all():
        out.setdefault(account_id, []).append(name)
    return out


def _to_dict(session: Session, account: Account, mapped: list[str] | None = None) -> dict[str, Any]:
    """An account as plain data; ``mapped`` (its payroll companies) is read here when the caller has not."""
    return {
        "id": account.id,
        "name": account.name,
        "status": account.status,
        "status_reason": account.status_reason,
        "status_entry_id": account.status_entry_id,
        "visma_company_id": account.visma_company_id,
        "visma_company_name": account.visma_company_name,
        "visma_company": account.visma_company_name,
        "scope": account.scope,
        "token_expires_at": account.token_expires_at,
        "last_refreshed_at": account.last_refreshed_at,
        "authorized_at": account.authorized_at,
        "reauthorize_by": account.reauthorize_by,
        "created_at": account.created_at,
        "mapped_companies": _mapped_companies(session, account.id) if mapped is None else mapped,
    }


def _find(session: Session, name: str) -> Account:
    wanted = (name or "").strip()
    account = session.exec(select(Account).where(Account.name == wanted)).first()
    if account is None and wanted:
        account = session.exec(select(Account).where(sa.func.lower(Account.name) == wanted.lower())).first()
    if account is None:
        raise ServiceError(
            f"There is no account named '{wanted}'. See the accounts with `accounts list` or on the Accounts page.",
            code="account_not_found",
        )
    return account


def list_accounts(rt) -> list[dict[str, Any]]:
    """Every account with its status, Visma company, token expiry, re-authorization deadline and the payroll
    companies mapped to it. Two queries whatever the number of accounts (accounts; mappings grouped here)."""
    with Session(rt.engine) as session:
        accounts = session.exec(select(Account).order_by(Account.name)).all()
        mapped = _companies_by_account(session)
        return [_to_dict(session, a, mapped.get(a.id, [])) for a in accounts]


def get_account(rt, name: str) -> dict[str, Any]:
    """One account, by name (case-insensitive)."""
    with Session(rt.engine) as session:
        return _to_dict(session, _find(session, name))


# ---------------------------------------------------------------------------------------------------- create


def create_account(rt, name: str, *, actor: str) -> dict[str, Any]:
    """A new account named freely by the user (trimmed; unique regardless of case)."""
    clean = " ".join((name or "").split())
    if not clean:
        raise ServiceError("The account name is empty. Type a name, for example the Visma user's e-mail address.",
                           code="name_blank")
    if len(clean) > NAME_MAX:
        raise ServiceError(f"The account name is longer than {NAME_MAX} characters. Choose a shorter name.",
                           code="name_too_long")
    duplicate = ServiceError(f"An account named '{clean}' already exists. Choose another name.", code="name_taken")
    try:
        with session_scope(rt.engine) as session:
            if session.exec(select(Account.id).where(sa.func.lower(Account.name) == clean.lower())).first():
                raise duplicate
            account = Account(name=clean)
            session.add(account)
            session.flush()
            audit.record(session, actor=actor, action="account.created", account_id=account.id,
                         detail={"name": clean})
            return _to_dict(session, account)
    except sa.exc.IntegrityError:
        raise duplicate from None


# ---------------------------------------------------------------------------------------------------- authorize


def start_authorization(rt, name: str, *, actor: str, redirect_uri: str | None = None) -> str:
    """The URL of Visma's login for this account; ``state`` and the PKCE verifier are kept here for 10 minutes.

    ``redirect_uri`` defaults to the configured one (production: the URI registered with Visma). The dashboard passes
    its own address in demo mode, where the embedded sandbox learns it here, so a demo on another port still works.
    """
    if redirect_uri and redirect_uri != rt.settings.redirect_uri and rt.embedded_sandbox:
        from core.demo.sandbox import register_redirect_uri

        register_redirect_uri(rt.sandbox_url, redirect_uri)
    redirect_uri = redirect_uri or rt.settings.redirect_uri
    state = secrets.token_urlsafe(32)
    verifier = secrets.token_urlsafe(64)  # 86 characters, within PKCE's 43–128
    now = _now()
    with session_scope(rt.engine) as session:
        account = _find(session, name)
        session.exec(sa.delete(OAuthState).where(col(OAuthState.expires_at) < now - STATE_KEEP))
        session.add(
            OAuthState(
                state=state,
                account_id=account.id,
                code_verifier_enc=rt.cipher.encrypt(verifier),
                redirect_uri=redirect_uri,
                created_at=now,
                expires_at=now + STATE_TTL,
            )
        )
        audit.record(session, actor=actor, action="authorization.started", account_id=account.id,
                     detail={"redirect_uri": redirect_uri})
    return rt.oauth.authorization_url(state, verifier, redirect_uri)


def _parse_callback(callback: str | Mapping[str, Any]) -> dict[str, str]:
    if isinstance(callback, Mapping):
        out = {}
        for key, value in callback.items():
            if isinstance(value, list | tuple):
                value = value[0] if value else ""
            out[str(key)] = "" if value is None else str(value)
        return out
    text = (callback or "").strip()
    base, _, fragment = text.partition("#")
    if "?" in base:
        query = base.split("?", 1)[1]
    elif "://" in base or not base:
        query = ""
    else:
        query = base
    if not query and "=" in fragment:
        query = fragment
    return {k: v for k, v in parse_qsl(query, keep_blank_values=True)}


_CALLBACK_ERRORS: dict[str, tuple[str, str | None]] = {
    "access_denied": (
        "Access was not granted: on Visma's page the authorization was cancelled or 'Allow' was not clicked. "
        "Start the authorization again, log in with the Visma user meant for the integration and click Allow.",
        "consent-denied",
    ),
    "login_required": ("Visma asked for a login that did not happen. Start the authorization again and log in.", None),
    "consent_required": ("Visma needs the user's consent. Start the authorization again and click Allow.", None),
    "interaction_required": ("Visma needs the user to log in and allow access. Start the authorization again.", None),
    "invalid_scope": (
        "Visma refused the permissions the dashboard asks for (invalid_scope). Check in Visma's developer portal that "
        "the app may use ea:api, offline_access, ea:accounting and ea:sales_readonly, then authorize again.",
        "scope-missing",
    ),
    "unauthorized_client": (
        "Visma does not allow this dashboard's client to authorize this way (unauthorized_client); usually the "
        "redirect URI is not registered. Register the dashboard's redirect URI in Visma's developer portal.",
        "redirect-uri-mismatch",
    ),
    "server_error": (
        "Visma's login service had an error. Wait a few minutes and authorize again.",
        "visma-unavailable",
    ),
    "temporarily_unavailable": (
        "Visma's login service is temporarily unavailable. Wait a few minutes and authorize again.",
        "visma-unavailable",
    ),
}


def _classify(**kwargs) -> str | None:
    try:
        from core.troubleshooting.troubleshooting import classify
    except ImportError:  # pragma: no cover - the catalogue is part of the product
        return None
    try:
        return classify(**kwargs)
    except Exception:  # a matcher problem must never hide the real error
        return None


def _callback_error_message(error: str, description: str) -> tuple[str, str | None]:
    message, entry = _CALLBACK_ERRORS.get(
        error,
        (
            f"Visma ended the authorization with the error '{error}'"
            + (f" ({description})" if description else "")
            + ". Start the authorization again; if it happens again, look the error up on the Troubleshooting page.",
            None,
        ),
    )
    return message, _classify(oauth_error=error, message=description) or entry


def _state_error(kind: str) -> ServiceError:
    messages = {
        "missing": "The address has no 'state', so it cannot be matched to an authorization started here. Start the "
        "authorization again from the Accounts page and paste the whole address Visma sends you back to.",
        "unknown": "This authorization callback was not started by this dashboard (its state is unknown): it may be "
        "forged, belong to another installation, or be older than a day. Nothing was stored. Start the authorization "
        "again from the Accounts page.",
        "expired": "This authorization was started more than 10 minutes ago and has expired. Nothing was stored. Start "
        "the authorization again from the Accounts page and finish it within 10 minutes.",
        "reused": "This authorization callback was already used (the page was reloaded or the address pasted twice). "
        "Nothing more was stored. If the account is not authorized, start the authorization again.",
        "issuer": "The callback names another identity server than the one configured (iss does not match). "
        "Nothing was stored. Start the authorization again from the Accounts page.",
    }
    return ServiceError(messages[kind], entry_id="oauth-state-invalid", code=f"state_{kind}")


def _claim_state(rt, state_value: str, params: dict[str, str]) -> OAuthState:
    """Validate ``state`` and mark it used, atomically (a replayed callback loses); nothing else is stored."""
    if not state_value:
        raise _state_error("missing")
    now = _now()
    with Session(rt.engine) as session:
        row = session.get(OAuthState, state_value)
    if row is None:
        raise _state_error("unknown")
    if row.used_at is not None:
        raise _state_error("reused")
    if row.expires_at <= now:
        raise _state_error("expired")
    iss = params.get("iss")
    if iss and iss.rstrip("/") != rt.settings.identity_url.rstrip("/"):
        raise _state_error("issuer")
    with rt.engine.begin() as conn:
        claimed = conn.execute(
            sa.update(OAuthState)
            .where(
                col(OAuthState.state) == state_value,
                col(OAuthState.used_at).is_(None),
                col(OAuthState.expires_at) > now,
            )
            .values(used_at=now)
        ).rowcount
    if claimed != 1:
        raise _state_error("reused")
    return row


def _record_failure(rt, account_id: int, *, actor: str, action: str, reason: str, entry_id: str | None,
                    detail: dict) -> None:
    """Note a failed authorization on the account (unless it is still authorized: it keeps working) and audit it."""
    with session_scope(rt.engine) as session:
        account = session.get(Account, account_id)
        if account is not None and account.status != AUTHORIZED:
            account.status_reason = reason[:500]
            account.status_entry_id = entry_id
            account.updated_at = _now()
            session.add(account)
        audit.record(session, actor=actor, action=action, account_id=account_id,
                     detail={**detail, "entry_id": entry_id})


def _jwt_claims(token: str) -> dict[str, Any]:
    """The claims of a JWT access token, read without verifying (it came straight from the token endpoint over TLS;
    only ``customer_id``, the company chosen at login, is used). Empty for an opaque token."""
    try:
        payload = token.split(".")[1]
        data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _revoke_quietly(rt, refresh_token: str | None) -> bool:
    if not refresh_token:
        return True
    try:
        rt.oauth.revoke(refresh_token)
        return True
    except OAuthError:
        return False


def _reauthorize_by(rt, authorized_at: datetime) -> datetime | None:
    """When this authorization's refresh token is assumed to die: an absolute lifetime counted from the
    authorization, which refreshes do not extend (core.settings, VISMA_REFRESH_TOKEN_LIFETIME_DAYS); None when the
    lifetime is configured as unknown (0)."""
    days = rt.settings.refresh_token_lifetime_days
    return authorized_at + timedelta(days=days) if days else None


def complete_authorization(rt, callback: str | Mapping[str, Any], *, actor: str) -> dict[str, Any]:
    """Finish an authorization from the address Visma sent the browser back to (or its query parameters).

    Validates ``state`` (unknown, expired, reused → ServiceError, nothing stored), exchanges the code, reads
    ``companysettings`` to learn the company, and stores the tokens encrypted. The answer is the account plus
    ``warnings`` (list of str). A company whose API module is off is still authorized (the token is fine), with
    ``status_entry_id="api-module-inactive"``. Re-authorizing an account whose mappings point at another company is
    refused (the mappings would silently post to the wrong books).
    """
    params = _parse_callback(callback)
    state_value, code, error = params.get("state", ""), params.get("code", ""), params.get("error", "")
    if not (state_value or code or error):
        raise ServiceError(
            "That is not the address Visma sends you back to: it has no code, state or error. Copy the whole address "
            "from the browser's address bar after clicking Allow.",
            code="callback_invalid",
        )
    if error and not state_value:
        message, entry = _callback_error_message(error, params.get("error_description", ""))
        raise ServiceError(message, entry_id=entry, code=error)
    pending = _claim_state(rt, state_value, params)
    account_id = pending.account_id

    if error:
        description = params.get("error_description", "")
        message, entry = _callback_error_message(error, description)
        _record_failure(rt, account_id, actor=actor, action="authorization.failed", reason=message, entry_id=entry,
                        detail={"error": error, "error_description": description[:200]})
        raise ServiceError(message, entry_id=entry, code=error)
    if not code:
        raise ServiceError("Visma's answer has no authorization code. Start the authorization again.",
                           entry_id="authorization-code-invalid", code="code_missing")

    try:
        tokens = rt.oauth.exchange_code(code, rt.cipher.decrypt(pending.code_verifier_enc), pending.redirect_uri)
    except OAuthError as exc:
        if exc.error == "invalid_grant":
            message, entry = (
                "Visma did not accept the authorization code: it is valid for 5 minutes and only once. Start the "
                "authorization again and finish it within 5 minutes.",
                "authorization-code-invalid",
            )
        elif exc.error == "invalid_client":
            message, entry = (
                "Visma did not accept the dashboard's client id or secret (invalid_client). Check VISMA_CLIENT_ID and "
                "VISMA_CLIENT_SECRET against Visma's developer portal.",
                "client-credentials-invalid",
            )
        elif exc.is_temporary:
            message, entry = ("Visma's login service could not be reached. Wait a few minutes and authorize again.",
                              "visma-unavailable")
        else:
            message, entry = (f"Visma refused to issue tokens ({exc}). Start the authorization again.",
                              _classify(oauth_error=exc.error, message=exc.description))
        _record_failure(rt, account_id, actor=actor, action="authorization.failed", reason=message, entry_id=entry,
                        detail={"error": exc.error, "step": "code exchange"})
        raise ServiceError(message, entry_id=entry, code=exc.error) from None

    claims = _jwt_claims(tokens.access_token)
    company_id = str(claims["customer_id"]) if claims.get("customer_id") else None
    company_name = claims.get("customer_name") if isinstance(claims.get("customer_name"), str) else None
    status_reason, status_entry = None, None
    try:
        company = rt.visma.company_settings(tokens.access_token)
        company_name = company.name or company_name
        company_id = company_id or getattr(company, "corporate_identity_number", None)
    except Exception as exc:  # VismaError (core.visma.client); classified below
        entry = getattr(exc, "entry_id", None)
        if getattr(exc, "is_api_module_inactive", False):
            status_entry = "api-module-inactive"
            status_reason = (
                "Authorized, but Visma's API module is not active for this company (403 4002 api_standard), so "
                "nothing can be read or posted. In eAccounting activate the API module (Settings → 'Extra diensten' / "
                "Apps and extensions); if the wrong company was authorized because the Visma user has a 'default "
                "company', deselect that setting in Visma Online and re-authorize."
            )
        elif getattr(exc, "status", None) in (400, 403, 404):
            status_entry = entry if isinstance(entry, str) else None
            status_reason = f"Authorized, but Visma refuses to show the company's settings: {exc}"[:500]
        else:
            _revoke_quietly(rt, tokens.refresh_token)
            message = (
                "The authorization worked, but Visma's API could not be reached to read the company "
                f"({type(exc).__name__}). Wait a few minutes and authorize again."
            )
            _record_failure(rt, account_id, actor=actor, action="authorization.failed", reason=message,
                            entry_id="visma-unavailable", detail={"step": "companysettings",
                                                                  "status": getattr(exc, "status", None)})
            raise ServiceError(message, entry_id="visma-unavailable", code="visma_unavailable") from None

    now = _now()
    warnings: list[str] = []
    wrong_company: ServiceError | None = None
    with session_scope(rt.engine) as session:
        account = session.get(Account, account_id)
        if account is None:
            raise ServiceError("The account was deleted while it was being authorized. Create it again.",
                               code="account_not_found")
        mappings = session.exec(select(CompanyMapping).where(CompanyMapping.account_id == account_id)).all()
        expected = {m.visma_company_id or account.visma_company_id for m in mappings} - {None}
        label = f"'{company_name}'" if company_name else f"company {company_id}"
        if expected and company_id and company_id not in expected:
            mapped_to = account.visma_company_name or ", ".join(sorted(expected))
            reason = (
                f"The last authorization chose {label}, but this account's mappings "
                f"({', '.join(_mapped_companies(session, account_id))}) post to '{mapped_to}'. Nothing was changed. "
                f"Authorize again and choose '{mapped_to}' (if Visma skips the company choice, deselect the user's "
                "'default company' in Visma Online first), or remove the mappings before switching companies."
            )
            wrong_company = ServiceError(reason, entry_id="wrong-company-authorized", code="wrong_company")
            if account.status != AUTHORIZED:
                account.status_reason = reason[:500]
                account.status_entry_id = "wrong-company-authorized"
                session.add(account)
            audit.record(session, actor=actor, action="authorization.rejected", account_id=account_id,
                         detail={"reason": "wrong company", "chosen_company_id": company_id,
                                 "expected_company_ids": sorted(expected)})
        else:
            if account.visma_company_id and company_id and account.visma_company_id != company_id:
                warnings.append(
                    f"This account was authorized for '{account.visma_company_name or account.visma_company_id}' "
                    f"before; it now points at {label}."
                )
            others = session.exec(
                select(Account.name).where(Account.visma_company_id == company_id, Account.id != account_id)
            ).all() if company_id else []
            if others:
                warnings.append(f"{label} is also authorized through account(s) {', '.join(others)}.")
            token_row = session.get(AccountToken, account_id)
            if token_row is None:
                token_row = AccountToken(account_id=account_id, access_token_enc="", expires_at=tokens.expires_at,
                                         version=0)
            token_row.access_token_enc = rt.cipher.encrypt(tokens.access_token)
            token_row.refresh_token_enc = rt.cipher.encrypt(tokens.refresh_token) if tokens.refresh_token else None
            token_row.expires_at = tokens.expires_at
            token_row.version = (token_row.version or 0) + 1
            token_row.refresh_lease_owner = None
            token_row.refresh_lease_until = None
            token_row.updated_at = now
            session.add(token_row)
            previous = account.visma_company_id
            account.status = AUTHORIZED
            account.status_reason = status_reason
            account.status_entry_id = status_entry
            account.visma_company_id = company_id
            account.visma_company_name = company_name
            account.scope = (tokens.scope or params.get("scope") or None)
            account.token_expires_at = tokens.expires_at
            account.authorized_at = now
            account.reauthorize_by = _reauthorize_by(rt, now)
            account.last_refreshed_at = None
            account.updated_at = now
            session.add(account)
            audit.record(session, actor=actor, action="authorization.completed", account_id=account_id,
                         detail={"visma_company_id": company_id, "visma_company_name": company_name,
                                 "previous_company_id": previous, "status_entry_id": status_entry})
            session.flush()
            result = _to_dict(session, account)
    if wrong_company is not None:
        _revoke_quietly(rt, tokens.refresh_token)
        raise wrong_company
    result["warnings"] = warnings
    return result


# ---------------------------------------------------------------------------------------------------- refresh


def _needs_reauth_error(account: Account) -> ServiceError:
    return ServiceError(
        f"Account '{account.name}' needs re-authorization: {account.status_reason or 'Visma no longer accepts it.'} "
        "Re-authorize it on the Accounts page (or `accounts authorize`).",
        entry_id="reauthorize-needed",
        code="needs_reauthorization",
    )


def _not_authorized_error(account: Account) -> ServiceError:
    return ServiceError(
        f"Account '{account.name}' is not authorized (grey Visma logo). Authorize it on the Accounts page "
        "(or `accounts authorize`) first.",
        entry_id="account-not-authorized",
        code="not_authorized",
    )


def _lease_owner() -> str:
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{threading.get_ident() % 10**8}:{uuid.uuid4().hex[:8]}"


def _take_lease(rt, account_id: int, version: int, owner: str, now: datetime) -> bool:
    with rt.engine.begin() as conn:
        taken = conn.execute(
            sa.update(AccountToken)
            .where(
                col(AccountToken.account_id) == account_id,
                col(AccountToken.version) == version,
                sa.or_(col(AccountToken.refresh_lease_until).is_(None), col(AccountToken.refresh_lease_until) <= now),
            )
            .values(refresh_lease_owner=owner, refresh_lease_until=now + LEASE_TTL)
        ).rowcount
    return taken == 1


def _release_lease(rt, account_id: int, owner: str) -> None:
    with rt.engine.begin() as conn:
        conn.execute(
            sa.update(AccountToken)
            .where(col(AccountToken.account_id) == account_id, col(AccountToken.refresh_lease_owner) == owner)
            .values(refresh_lease_owner=None, refresh_lease_until=None)
        )


def _mark_needs_reauthorization(rt, account_id: int, version: int, exc: OAuthError, actor: str) -> ServiceError:
    said = f" (Visma said: '{exc.description}')" if exc.description else ""
    reason = (
        f"Visma no longer accepts this account's refresh token{said}: it expired, was revoked, was already used, or "
        "the Visma user's password changed. Re-authorize the account with the same Visma user and company; its "
        "mappings are kept."
    )
    with session_scope(rt.engine) as session:
        account = session.get(Account, account_id)
        gone = session.exec(
            sa.delete(AccountToken).where(col(AccountToken.account_id) == account_id,
                                          col(AccountToken.version) == version)
        ).rowcount
        if gone == 1 and account is not None:  # else someone re-authorized meanwhile: leave their work alone
            account.status = NEEDS_REAUTHORIZATION
            account.status_reason = reason[:500]
            account.status_entry_id = "reauthorize-needed"
            account.token_expires_at = None
            account.updated_at = _now()
            session.add(account)
            audit.record(session, actor=actor, action="token.refresh_failed", account_id=account_id,
                         detail={"error": exc.error, "status": NEEDS_REAUTHORIZATION})
        name = account.name if account else str(account_id)
    return ServiceError(
        f"Account '{name}' needs re-authorization: {reason}", entry_id="reauthorize-needed",
        code="needs_reauthorization",
    )


def _refresh_as_holder(rt, account_id: int, version: int, owner: str, actor: str) -> tuple[str, int] | None:
    """Refresh at Visma while holding the lease; store both new tokens in one commit. ``None``: state moved on."""
    with Session(rt.engine) as session:
        row = session.get(AccountToken, account_id)
        if row is None or row.version != version or row.refresh_lease_owner != owner:
            return None
        refresh_enc = row.refresh_token_enc
    if not refresh_enc:  # authorized without offline_access: nothing to refresh with
        missing = OAuthError("invalid_grant", "no refresh token was issued")
        raise _mark_needs_reauthorization(rt, account_id, version, missing, actor)
    try:
        new = rt.oauth.refresh(rt.cipher.decrypt(refresh_enc))
    except OAuthError as exc:
        if exc.is_invalid_grant:
            raise _mark_needs_reauthorization(rt, account_id, version, exc, actor) from None
        _release_lease(rt, account_id, owner)
        with session_scope(rt.engine) as session:
            audit.record(session, actor=actor, action="token.refresh_failed", account_id=account_id,
                         detail={"error": exc.error, "status": exc.status})
        if exc.error == "invalid_client":
            raise ServiceError(
                "Visma did not accept the dashboard's client id or secret while refreshing a token (invalid_client). "
                "Check VISMA_CLIENT_ID and VISMA_CLIENT_SECRET; the account itself is fine.",
                entry_id="client-credentials-invalid", code="invalid_client",
            ) from None
        raise ServiceError(
            "Visma's login service could not refresh the token right now; the account stays authorized. Try again in "
            "a few minutes.",
            entry_id="visma-unavailable", code="refresh_unavailable",
        ) from None
    except BaseException:
        _release_lease(rt, account_id, owner)
        raise
    now = _now()
    with session_scope(rt.engine) as session:
        stored = session.exec(
            sa.update(AccountToken)
            .where(col(AccountToken.account_id) == account_id, col(AccountToken.version) == version)
            .values(
                access_token_enc=rt.cipher.encrypt(new.access_token),
                refresh_token_enc=rt.cipher.encrypt(new.refresh_token) if new.refresh_token else refresh_enc,
                expires_at=new.expires_at,
                version=version + 1,
                refresh_lease_owner=None,
                refresh_lease_until=None,
                updated_at=now,
            )
        ).rowcount
        if stored != 1:  # re-authorized or disconnected while we refreshed: theirs wins
            return None
        account = session.get(Account, account_id)
        if account is not None:
            account.token_expires_at = new.expires_at
            account.last_refreshed_at = now
            account.updated_at = now
            session.add(account)
        audit.record(session, actor=actor, action="token.refreshed", account_id=account_id,
                     detail={"expires_at": new.expires_at.isoformat(), "version": version + 1})
    return new.access_token, version + 1


def _access_token(rt, account_id: int, *, force: bool, seen_version: int | None, actor: str) -> tuple[str, int]:
    """A usable access token and its version; refreshes single-flight when it expires within 2 minutes, or when
    ``force`` and nobody has refreshed since ``seen_version`` (the caller's token was refused)."""
    deadline = time.monotonic() + WAIT_LIMIT_SECONDS
    owner = _lease_owner()
    while True:
        with Session(rt.engine) as session:
            account = session.get(Account, account_id)
            row = session.get(AccountToken, account_id)
        if account is None:
            raise ServiceError(f"Account {account_id} does not exist any more.", code="account_not_found")
        if account.status == NEEDS_REAUTHORIZATION:
            raise _needs_reauth_error(account)
        if row is None or account.status != AUTHORIZED:
            raise _not_authorized_error(account)
        if force and seen_version is None:
            seen_version = row.version
        now = _now()
        stale = force and row.version == seen_version
        remaining = row.expires_at - now
        if not stale and remaining > REFRESH_MARGIN:
            return rt.cipher.decrypt(row.access_token_enc), row.version
        lease_free = row.refresh_lease_until is None or row.refresh_lease_until <= now
        if lease_free and _take_lease(rt, account_id, row.version, owner, now):
            done = _refresh_as_holder(rt, account_id, row.version, owner, actor)
            if done is not None:
                return done
            continue
        if not lease_free and not stale and remaining > timedelta(seconds=10):
            # someone is refreshing; the current token still works for a while
            return rt.cipher.decrypt(row.access_token_enc), row.version
        if time.monotonic() > deadline:
            raise ServiceError(
                "Refreshing the Visma token takes too long (another process holds the refresh). Try again in a minute.",
                entry_id="visma-unavailable", code="refresh_timeout",
            )
        time.sleep(POLL_SECONDS)


def token_provider(rt, account_id: int, *, actor: str = "system") -> Callable[[bool], str]:
    """``provide(force_refresh=False) -> access token`` for one account, for ``VismaSession``.

    ``force_refresh=True`` (after a 401) refreshes unless someone already refreshed since this provider last handed
    out a token, so a burst of 401s leads to one refresh."""
    lock = threading.Lock()
    last: dict[str, int | None] = {"version": None}

    def provide(force_refresh: bool = False) -> str:
        with lock:
            seen = last["version"]
        token, version = _access_token(rt, account_id, force=force_refresh, seen_version=seen, actor=actor)
        with lock:
            last["version"] = version
        return token

    return provide


def refresh_account(rt, name: str, *, actor: str) -> dict[str, Any]:
    """Refresh the account's token now (single-flight like every refresh)."""
    with Session(rt.engine) as session:
        account = _find(session, name)
    if account.status == NEEDS_REAUTHORIZATION:
        raise _needs_reauth_error(account)
    if account.status != AUTHORIZED:
        raise _not_authorized_error(account)
    token, _ = _access_token(rt, account.id, force=True, seen_version=None, actor=actor)
    if account.status_entry_id == "api-module-inactive":
        _recheck_company(rt, account.id, token)
    return get_account(rt, account.name)


def _recheck_company(rt, account_id: int, token: str) -> None:
    """After the customer activated the API module, the explicit refresh clears the warning and learns the name."""
    try:
        company = rt.visma.company_settings(token)
    except Exception:  # still inactive, or Visma unreachable: leave the note as it is
        return
    with session_scope(rt.engine) as session:
        account = session.get(Account, account_id)
        if account is not None and account.status == AUTHORIZED:
            account.status_reason = None
            account.status_entry_id = None
            account.visma_company_name = company.name or account.visma_company_name
            account.updated_at = _now()
            session.add(account)


def visma_session(rt, account_id: int):
    """A ``VismaSession`` bound to the account's valid token (refresh single-flight, retry after a 401)."""
    from core.visma.client import VismaSession

    with Session(rt.engine) as session:
        account = session.get(Account, account_id)
    if account is None:
        raise ServiceError(f"Account {account_id} does not exist.", code="account_not_found")
    if account.status == NEEDS_REAUTHORIZATION:
        raise _needs_reauth_error(account)
    if account.status != AUTHORIZED:
        raise _not_authorized_error(account)
    return VismaSession(rt.visma, account.visma_company_id or f"account-{account_id}", token_provider(rt, account_id))


# ---------------------------------------------------------------------------------------------------- disconnect


def _stored_refresh_token(rt, account_id: int) -> str | None:
    with Session(rt.engine) as session:
        row = session.get(AccountToken, account_id)
    if row is None or not row.refresh_token_enc:
        return None
    try:
        return rt.cipher.decrypt(row.refresh_token_enc)
    except Exception:  # a changed key: nothing to revoke with
        return None


def disconnect_account(rt, name: str, *, actor: str) -> dict[str, Any]:
    """Revoke the account's tokens at Visma and wipe them here; status *not authorized*, mappings kept."""
    with Session(rt.engine) as session:
        account = _find(session, name)
    warnings = []
    if not _revoke_quietly(rt, _stored_refresh_token(rt, account.id)):
        warnings.append(
            "Visma could not be reached to revoke the authorization; the tokens were deleted here anyway. To be sure, "
            "remove the app's access in Visma Online."
        )
    with session_scope(rt.engine) as session:
        session.exec(sa.delete(AccountToken).where(col(AccountToken.account_id) == account.id))
        session.exec(sa.delete(OAuthState).where(col(OAuthState.account_id) == account.id))
        acc = session.get(Account, account.id)
        acc.status = NOT_AUTHORIZED
        acc.status_reason = None
        acc.status_entry_id = None
        acc.token_expires_at = None
        acc.reauthorize_by = None
        acc.updated_at = _now()
        session.add(acc)
        audit.record(session, actor=actor, action="account.disconnected", account_id=acc.id,
                     detail={"revoked_at_visma": not warnings})
        session.flush()
        result = _to_dict(session, acc)
    result["warnings"] = warnings
    return result


def delete_account(rt, name: str, *, actor: str) -> None:
    """Delete an account that no mapping uses (its tokens are revoked at Visma first)."""
    with Session(rt.engine) as session:
        account = _find(session, name)
        mapped = _mapped_companies(session, account.id)
    if mapped:
        raise ServiceError(
            f"Account '{account.name}' is used by the mapping(s) of {', '.join(mapped)}. Remove those mappings on the "
            "Administrations page first.",
            code="account_in_use",
        )
    _revoke_quietly(rt, _stored_refresh_token(rt, account.id))
    with session_scope(rt.engine) as session:
        session.exec(sa.delete(AccountToken).where(col(AccountToken.account_id) == account.id))
        session.exec(sa.delete(OAuthState).where(col(OAuthState.account_id) == account.id))
        session.exec(sa.delete(Account).where(col(Account.id) == account.id))
        audit.record(session, actor=actor, action="account.deleted", account_id=account.id,
                     detail={"name": account.name})

"""Authorizing an account over OAuth: the URL of Visma's login (state + PKCE kept server-side), and the callback.

``complete_authorization`` is five steps: validate the callback, consume its state, exchange the code, read the
company the user chose, store the tokens. A callback that fails before the code exchange stores nothing but the note
on the account; a wrong company stores no tokens (they are revoked).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl

from sqlmodel import Session, select

from core.accounts.company import ChosenCompany, read_company
from core.accounts.oauth_states import claim_state, remember_state
from core.accounts.records import account_view, find_account, mapped_companies, now, record_failure
from core.accounts.revocation import revoke_quietly
from core.accounts.tokens import store_tokens
from core.accounts.views import AccountChangeView
from core.db import audit
from core.db.engine import session_scope
from core.db.models import AUTHORIZED, Account, CompanyMapping, OAuthState
from core.errors import ServiceError
from core.troubleshooting.classify import classify, entry_for
from core.visma.oauth import OAuthError, TokenSet
from core.words import plural


def start_authorization(rt, name: str, *, actor: str, redirect_uri: str | None = None) -> str:
    """The URL of Visma's login for this account; ``state`` and the PKCE verifier are kept here for 10 minutes.

    ``redirect_uri`` defaults to the configured one (production: the URI registered with Visma). The dashboard passes
    its own address in demo mode, where the embedded sandbox learns it here, so a demo on another port still works.
    """
    if redirect_uri:
        rt.accept_redirect_uri(redirect_uri)
    redirect_uri = redirect_uri or rt.settings.redirect_uri
    at = now()
    with session_scope(rt.engine) as session:
        account = find_account(session, name)
        state, verifier = remember_state(rt, session, account.id, redirect_uri, at)
        audit.record(session, actor=actor, action="authorization.started", account_id=account.id,
                     detail={"redirect_uri": redirect_uri})
    return rt.oauth.authorization_url(state, verifier, redirect_uri)


# ---------------------------------------------------------------------------------------------------- the callback


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
    return message, classify(oauth_error=error, message=description) or entry


def _validate_callback(params: dict[str, str]) -> None:
    """Refuse an address that is no callback at all, and Visma's error without a state (nothing to note it on)."""
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


def _consume_state(rt, params: dict[str, str], *, actor: str) -> OAuthState:
    """Claim the callback's state (once); Visma's error for it is noted on the account and raised."""
    pending = claim_state(rt, params.get("state", ""), params)
    error = params.get("error", "")
    if error:
        description = params.get("error_description", "")
        message, entry = _callback_error_message(error, description)
        record_failure(rt, pending.account_id, actor=actor, action="authorization.failed", reason=message,
                       entry_id=entry, detail={"error": error, "error_description": description[:200]})
        raise ServiceError(message, entry_id=entry, code=error)
    return pending


# ---------------------------------------------------------------------------------------------------- the code


def _exchange_failure(exc: OAuthError) -> tuple[str, str | None]:
    """What to tell the user, and the troubleshooting entry, when the token endpoint refused the code."""
    if exc.error == "invalid_grant":
        return (
            "Visma did not accept the authorization code: it is valid for 5 minutes and only once. Start the "
            "authorization again and finish it within 5 minutes.",
            "authorization-code-invalid",
        )
    if exc.error == "invalid_client":
        return (
            "Visma did not accept the dashboard's client id or secret (invalid_client). Check VISMA_CLIENT_ID and "
            "VISMA_CLIENT_SECRET against Visma's developer portal.",
            "client-credentials-invalid",
        )
    if exc.is_temporary:
        return ("Visma's login service could not be reached. Wait a few minutes and authorize again.",
                "visma-unavailable")
    return (f"Visma refused to issue tokens ({exc}). Start the authorization again.",
            entry_for(exc))


def _exchange_code(rt, pending: OAuthState, code: str, *, actor: str) -> TokenSet:
    if not code:
        raise ServiceError("Visma's answer has no authorization code. Start the authorization again.",
                           entry_id="authorization-code-invalid", code="code_missing")
    try:
        return rt.oauth.exchange_code(code, rt.cipher.decrypt(pending.code_verifier_enc), pending.redirect_uri)
    except OAuthError as exc:
        message, entry = _exchange_failure(exc)
        record_failure(rt, pending.account_id, actor=actor, action="authorization.failed", reason=message,
                       entry_id=entry, detail={"error": exc.error, "step": "code exchange"})
        raise ServiceError(message, entry_id=entry, code=exc.error) from None


# ---------------------------------------------------------------------------------------------------- storing


def _reauthorize_by(rt, authorized_at: datetime) -> datetime | None:
    """When this authorization's refresh token is assumed to die: an absolute lifetime counted from the
    authorization, which refreshes do not extend (core.settings, VISMA_REFRESH_TOKEN_LIFETIME_DAYS); None when the
    lifetime is configured as unknown (0)."""
    days = rt.settings.refresh_token_lifetime_days
    return authorized_at + timedelta(days=days) if days else None


def _wrong_company(session: Session, account: Account, company: ChosenCompany, *, actor: str) -> ServiceError | None:
    """Refuse a company other than the one the account's mappings post to (they would silently post to the wrong
    books): noted on the account unless it is still authorized, and audited."""
    mappings = session.exec(select(CompanyMapping).where(CompanyMapping.account_id == account.id)).all()
    expected = {m.visma_company_id or account.visma_company_id for m in mappings} - {None}
    if not (expected and company.id and company.id not in expected):
        return None
    mapped_to = account.visma_company_name or ", ".join(sorted(expected))
    reason = (
        f"The last authorization chose {company.label}, but this account's mappings "
        f"({', '.join(mapped_companies(session, account.id))}) post to '{mapped_to}'. Nothing was changed. "
        f"Authorize again and choose '{mapped_to}' (if Visma skips the company choice, deselect the user's "
        "'default company' in Visma Online first), or remove the mappings before switching companies."
    )
    if account.status != AUTHORIZED:
        account.status_reason = reason[:500]
        account.status_entry_id = "wrong-company-authorized"
        session.add(account)
    audit.record(session, actor=actor, action="authorization.rejected", account_id=account.id,
                 detail={"reason": "wrong company", "chosen_company_id": company.id,
                         "expected_company_ids": sorted(expected)})
    return ServiceError(reason, entry_id="wrong-company-authorized", code="wrong_company")


def _company_warnings(session: Session, account: Account, company: ChosenCompany) -> list[str]:
    """A switch of company, and the same company authorized through other accounts, are worth knowing."""
    warnings = []
    if account.visma_company_id and company.id and account.visma_company_id != company.id:
        warnings.append(
            f"This account was authorized for '{account.visma_company_name or account.visma_company_id}' "
            f"before; it now points at {company.label}."
        )
    others = session.exec(
        select(Account.name).where(Account.visma_company_id == company.id, Account.id != account.id)
    ).all() if company.id else []
    if others:
        warnings.append(f"{company.label} is also authorized through {plural(len(others), 'account')} "
                        f"{', '.join(others)}.")
    return warnings


def _mark_authorized(rt, session: Session, account: Account, company: ChosenCompany, tokens: TokenSet,
                     scope: str | None, at: datetime, *, actor: str) -> None:
    previous = account.visma_company_id
    account.status = AUTHORIZED
    account.status_reason = company.status_reason
    account.status_entry_id = company.status_entry_id
    account.visma_company_id = company.id
    account.visma_company_name = company.name
    account.scope = (tokens.scope or scope or None)
    account.token_expires_at = tokens.expires_at
    account.authorized_at = at
    account.reauthorize_by = _reauthorize_by(rt, at)
    account.last_refreshed_at = None
    account.updated_at = at
    session.add(account)
    audit.record(session, actor=actor, action="authorization.completed", account_id=account.id,
                 detail={"visma_company_id": company.id, "visma_company_name": company.name,
                         "previous_company_id": previous, "status_entry_id": company.status_entry_id})


def _store(rt, account_id: int, tokens: TokenSet, company: ChosenCompany, scope: str | None, *,
           actor: str) -> AccountChangeView:
    at = now()
    with session_scope(rt.engine) as session:
        account = session.get(Account, account_id)
        if account is None:
            raise ServiceError("The account was deleted while it was being authorized. Create it again.",
                               code="account_not_found")
        refused = _wrong_company(session, account, company, actor=actor)
        if refused is None:
            warnings = _company_warnings(session, account, company)
            store_tokens(rt, session, account_id, tokens, at)
            _mark_authorized(rt, session, account, company, tokens, scope, at, actor=actor)
            session.flush()
            result = account_view(session, account, warnings=warnings)
    if refused is not None:  # raised once the note on the account is committed
        revoke_quietly(rt, tokens.refresh_token)
        raise refused
    return result


def complete_authorization(rt, callback: str | Mapping[str, Any], *, actor: str) -> AccountChangeView:
    """Finish an authorization from the address Visma sent the browser back to (or its query parameters).

    Validates ``state`` (unknown, expired, reused → ServiceError, nothing stored), exchanges the code, reads
    ``companysettings`` to learn the company, and stores the tokens encrypted. The answer is the account plus
    ``warnings``. A company whose API module is off is still authorized (the token is fine), with
    ``status_entry_id="api-module-inactive"``. Re-authorizing an account whose mappings point at another company is
    refused (the mappings would silently post to the wrong books).
    """
    params = _parse_callback(callback)
    _validate_callback(params)
    pending = _consume_state(rt, params, actor=actor)
    tokens = _exchange_code(rt, pending, params.get("code", ""), actor=actor)
    company = read_company(rt, pending.account_id, tokens, actor=actor)
    return _store(rt, pending.account_id, tokens, company, params.get("scope"), actor=actor)

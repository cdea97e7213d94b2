"""Ending an authorization: revoke the refresh token at Visma and wipe the tokens here (disconnect), or remove the
account altogether (delete). Revoking is best effort: Visma being unreachable never keeps tokens stored here."""

from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import Session, col

from core.accounts.records import account_view, find_account, mapped_companies, now
from core.accounts.views import AccountView
from core.db import audit
from core.db.crypto import TokenDecryptionError
from core.db.engine import session_scope
from core.db.models import NOT_AUTHORIZED, Account, AccountToken, OAuthState
from core.errors import ServiceError
from core.visma.oauth import OAuthError
from core.words import plural


def revoke_quietly(rt, refresh_token: str | None) -> bool:
    """Revoke a refresh token at Visma; False when Visma could not be reached or refused (nothing is raised)."""
    if not refresh_token:
        return True
    try:
        rt.oauth.revoke(refresh_token)
        return True
    except OAuthError:
        return False


def _stored_refresh_token(rt, account_id: int) -> str | None:
    with Session(rt.engine) as session:
        row = session.get(AccountToken, account_id)
    if row is None or not row.refresh_token_enc:
        return None
    try:
        return rt.cipher.decrypt(row.refresh_token_enc)
    except TokenDecryptionError:  # a changed key: nothing to revoke with
        return None


def _delete_tokens_and_states(session: Session, account_id: int) -> None:
    session.exec(sa.delete(AccountToken).where(col(AccountToken.account_id) == account_id))
    session.exec(sa.delete(OAuthState).where(col(OAuthState.account_id) == account_id))


def disconnect_account(rt, name: str, *, actor: str) -> AccountView:
    """Revoke the account's tokens at Visma and wipe them here; status *not authorized*, mappings kept. The answer
    carries ``warnings`` (an ``AccountChangeView``)."""
    with Session(rt.engine) as session:
        account = find_account(session, name)
    warnings = []
    if not revoke_quietly(rt, _stored_refresh_token(rt, account.id)):
        warnings.append(
            "Visma could not be reached to revoke the authorization; the tokens were deleted here anyway. To be sure, "
            "remove the app's access in Visma Online."
        )
    with session_scope(rt.engine) as session:
        _delete_tokens_and_states(session, account.id)
        acc = session.get(Account, account.id)
        acc.status = NOT_AUTHORIZED
        acc.status_reason = None
        acc.status_entry_id = None
        acc.token_expires_at = None
        acc.reauthorize_by = None
        acc.updated_at = now()
        session.add(acc)
        audit.record(session, actor=actor, action="account.disconnected", account_id=acc.id,
                     detail={"revoked_at_visma": not warnings})
        session.flush()
        return account_view(session, acc, warnings=warnings)


def delete_account(rt, name: str, *, actor: str) -> None:
    """Delete an account that no mapping uses (its tokens are revoked at Visma first)."""
    with Session(rt.engine) as session:
        account = find_account(session, name)
        mapped = mapped_companies(session, account.id)
    if mapped:
        raise ServiceError(
            f"Account '{account.name}' is used by the {plural(len(mapped), 'mapping')} of {', '.join(mapped)}. "
            "Remove those mappings on the Administrations page first.",
            code="account_in_use",
        )
    revoke_quietly(rt, _stored_refresh_token(rt, account.id))
    with session_scope(rt.engine) as session:
        _delete_tokens_and_states(session, account.id)
        session.exec(sa.delete(Account).where(col(Account.id) == account.id))
        audit.record(session, actor=actor, action="account.deleted", account_id=account.id,
                     detail={"name": account.name})

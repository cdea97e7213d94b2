"""Token storage and single-flight refresh, across threads, processes and machines.

Visma's refresh tokens rotate and are single-use, so two refreshes racing would log the account out. Whoever needs a
new access token takes a *lease* on the account's ``account_token`` row with one conditional UPDATE (``WHERE version =
:seen AND lease free``); only the lease holder calls Visma, and it stores the rotated refresh token together with the
new access token in one commit (``version`` +1) before anyone uses the new access token. The others poll the row until
the version changes (bounded), and a lease whose holder died expires. Only ``invalid_grant`` sends an account to
*needs re-authorization*; a 403 4002 ``api_standard`` is a Visma setting, never an authorization failure
(visma-eaccounting.md §6 (a)).
"""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

import httpx
import sqlalchemy as sa
from sqlmodel import Session, col

from core.accounts.records import find_account, get_account, not_authorized_error, now, require_authorized
from core.accounts.views import AccountView
from core.db import audit
from core.db.crypto import TokenDecryptionError
from core.db.engine import session_scope
from core.db.models import AUTHORIZED, NEEDS_REAUTHORIZATION, Account, AccountToken
from core.errors import ServiceError
from core.settings import ConfigurationError
from core.visma.errors import VismaError
from core.visma.oauth import OAuthError, TokenSet

REFRESH_MARGIN = timedelta(seconds=120)  # refresh when less than this remains
LEASE_TTL = timedelta(seconds=45)  # longer than the identity server's timeout (15 s); a dead holder's lease expires
WAIT_LIMIT_SECONDS = 30.0
POLL_SECONDS = 0.05


def store_tokens(rt, session: Session, account_id: int, tokens: TokenSet, at: datetime) -> None:
    """Write a new authorization's tokens, encrypted, as the next version of the account's token row (any refresh
    lease is dropped: its holder's refresh token is gone)."""
    row = session.get(AccountToken, account_id)
    if row is None:
        row = AccountToken(account_id=account_id, access_token_enc="", expires_at=tokens.expires_at, version=0)
    row.access_token_enc = rt.cipher.encrypt(tokens.access_token)
    row.refresh_token_enc = rt.cipher.encrypt(tokens.refresh_token) if tokens.refresh_token else None
    row.expires_at = tokens.expires_at
    row.version = (row.version or 0) + 1
    row.refresh_lease_owner = None
    row.refresh_lease_until = None
    row.updated_at = at
    session.add(row)


# ---------------------------------------------------------------------------------------------------- the lease


def _lease_owner() -> str:
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{threading.get_ident() % 10**8}:{uuid.uuid4().hex[:8]}"


def _take_lease(rt, account_id: int, version: int, owner: str, at: datetime) -> bool:
    with rt.engine.begin() as conn:
        taken = conn.execute(
            sa.update(AccountToken)
            .where(
                col(AccountToken.account_id) == account_id,
                col(AccountToken.version) == version,
                sa.or_(col(AccountToken.refresh_lease_until).is_(None), col(AccountToken.refresh_lease_until) <= at),
            )
            .values(refresh_lease_owner=owner, refresh_lease_until=at + LEASE_TTL)
        ).rowcount
    return taken == 1


def _release_lease(rt, account_id: int, owner: str) -> None:
    with rt.engine.begin() as conn:
        conn.execute(
            sa.update(AccountToken)
            .where(col(AccountToken.account_id) == account_id, col(AccountToken.refresh_lease_owner) == owner)
            .values(refresh_lease_owner=None, refresh_lease_until=None)
        )


# ---------------------------------------------------------------------------------------------------- refreshing


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
            account.updated_at = now()
            session.add(account)
            audit.record(session, actor=actor, action="token.refresh_failed", account_id=account_id,
                         detail={"error": exc.error, "status": NEEDS_REAUTHORIZATION})
        name = account.name if account else str(account_id)
    return ServiceError(
        f"Account '{name}' needs re-authorization: {reason}", entry_id="reauthorize-needed",
        code="needs_reauthorization",
    )


def _refresh_refused(rt, account_id: int, version: int, owner: str, exc: OAuthError, actor: str) -> ServiceError:
    """The ServiceError for an identity server that refused a refresh; the account keeps its status unless the
    refresh token itself is dead (``invalid_grant``)."""
    if exc.is_invalid_grant:
        return _mark_needs_reauthorization(rt, account_id, version, exc, actor)
    _release_lease(rt, account_id, owner)
    with session_scope(rt.engine) as session:
        audit.record(session, actor=actor, action="token.refresh_failed", account_id=account_id,
                     detail={"error": exc.error, "status": exc.status})
    if exc.error == "invalid_client":
        return ServiceError(
            "Visma did not accept the dashboard's client id or secret while refreshing a token (invalid_client). "
            "Check VISMA_CLIENT_ID and VISMA_CLIENT_SECRET; the account itself is fine.",
            entry_id="client-credentials-invalid", code="invalid_client",
        )
    return ServiceError(
        "Visma's login service could not refresh the token right now; the account stays authorized. Try again in "
        "a few minutes.",
        entry_id="visma-unavailable", code="refresh_unavailable",
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
        raise _refresh_refused(rt, account_id, version, owner, exc, actor) from None
    except BaseException:
        _release_lease(rt, account_id, owner)
        raise
    at = now()
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
                updated_at=at,
            )
        ).rowcount
        if stored != 1:  # re-authorized or disconnected while we refreshed: theirs wins
            return None
        account = session.get(Account, account_id)
        if account is not None:
            account.token_expires_at = new.expires_at
            account.last_refreshed_at = at
            account.updated_at = at
            session.add(account)
        audit.record(session, actor=actor, action="token.refreshed", account_id=account_id,
                     detail={"expires_at": new.expires_at.isoformat(), "version": version + 1})
    return new.access_token, version + 1


def _current_token_row(rt, account_id: int) -> AccountToken:
    """The account's token row, or the ServiceError that says why it cannot have one now."""
    with Session(rt.engine) as session:
        account = session.get(Account, account_id)
        row = session.get(AccountToken, account_id)
    if account is None:
        raise ServiceError(f"Account {account_id} does not exist any more.", code="account_not_found")
    require_authorized(account)
    if row is None:
        raise not_authorized_error(account)
    return row


def _access_token(rt, account_id: int, *, force: bool, seen_version: int | None, actor: str) -> tuple[str, int]:
    """A usable access token and its version; refreshes single-flight when it expires within 2 minutes, or when
    ``force`` and nobody has refreshed since ``seen_version`` (the caller's token was refused)."""
    deadline = time.monotonic() + WAIT_LIMIT_SECONDS
    owner = _lease_owner()
    while True:
        row = _current_token_row(rt, account_id)
        if force and seen_version is None:
            seen_version = row.version
        at = now()
        stale = force and row.version == seen_version
        remaining = row.expires_at - at
        if not stale and remaining > REFRESH_MARGIN:
            return rt.cipher.decrypt(row.access_token_enc), row.version
        lease_free = row.refresh_lease_until is None or row.refresh_lease_until <= at
        if lease_free and _take_lease(rt, account_id, row.version, owner, at):
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


def refresh_account(rt, name: str, *, actor: str) -> AccountView:
    """Refresh the account's token now (single-flight like every refresh)."""
    with Session(rt.engine) as session:
        account = find_account(session, name)
    require_authorized(account)
    token, _ = _access_token(rt, account.id, force=True, seen_version=None, actor=actor)
    if account.status_entry_id == "api-module-inactive":
        _recheck_company(rt, account.id, token)
    return get_account(rt, account.name)


def _recheck_company(rt, account_id: int, token: str) -> None:
    """After the customer activated the API module, the explicit refresh clears the warning and learns the name."""
    try:
        company = rt.visma.company_settings(token)
    except (VismaError, httpx.HTTPError):  # still inactive, or Visma unreachable: leave the note as it is
        return
    with session_scope(rt.engine) as session:
        account = session.get(Account, account_id)
        if account is not None and account.status == AUTHORIZED:
            account.status_reason = None
            account.status_entry_id = None
            account.visma_company_name = company.name or account.visma_company_name
            account.updated_at = now()
            session.add(account)


def check_token_key(rt) -> None:
    """Refuse to work with a ``TOKEN_ENCRYPTION_KEY`` that opens none of the stored tokens.

    A sender started with another valid key would otherwise fail every run as "re-authorization needed", advice that
    points away from the real fix. One stored token that decrypts is enough (an account authorized under an older
    key is that account's own problem, reported on it); none decrypting means the key is not the one the tokens were
    stored with: a configuration error, raised before any run is touched."""
    with Session(rt.engine) as session:
        stored = session.exec(sa.select(AccountToken.access_token_enc).limit(50)).scalars().all()
    if not stored:
        return
    for ciphertext in stored:
        try:
            rt.cipher.decrypt(ciphertext)
        except TokenDecryptionError:
            continue
        return
    raise ConfigurationError(
        "TOKEN_ENCRYPTION_KEY is not the key the Visma tokens in this database were encrypted with, so nothing can be "
        "sent. Start the sender with the key the dashboard uses (the same environment variable or secrets.toml "
        "entry); only if that key is lost, authorize every account again. No run was touched."
    )

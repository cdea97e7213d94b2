"""The server side of an authorization in progress: its ``state`` and PKCE verifier, kept 10 minutes, used once.

A callback is accepted only for a state this dashboard started, that has not expired and has not been used; claiming
it is one conditional UPDATE, so a replayed callback loses. Expired states are kept a day so that a late callback gets
"expired", not "unknown".
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session, col

from core.accounts.records import now
from core.db.models import OAuthState
from core.errors import ServiceError

STATE_TTL = timedelta(minutes=10)
STATE_KEEP = timedelta(days=1)  # expired states are kept a day so that a late callback gets "expired", not "unknown"


def remember_state(rt, session: Session, account_id: int, redirect_uri: str, at: datetime) -> tuple[str, str]:
    """A new ``state`` and PKCE verifier for the account, stored (the verifier encrypted); old states are swept."""
    state = secrets.token_urlsafe(32)
    verifier = secrets.token_urlsafe(64)  # 86 characters, within PKCE's 43–128
    session.exec(sa.delete(OAuthState).where(col(OAuthState.expires_at) < at - STATE_KEEP))
    session.add(
        OAuthState(
            state=state,
            account_id=account_id,
            code_verifier_enc=rt.cipher.encrypt(verifier),
            redirect_uri=redirect_uri,
            created_at=at,
            expires_at=at + STATE_TTL,
        )
    )
    return state, verifier


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


def claim_state(rt, state_value: str, params: dict[str, str]) -> OAuthState:
    """Validate ``state`` and mark it used, atomically (a replayed callback loses); nothing else is stored."""
    if not state_value:
        raise _state_error("missing")
    at = now()
    with Session(rt.engine) as session:
        row = session.get(OAuthState, state_value)
    if row is None:
        raise _state_error("unknown")
    if row.used_at is not None:
        raise _state_error("reused")
    if row.expires_at <= at:
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
                col(OAuthState.expires_at) > at,
            )
            .values(used_at=at)
        ).rowcount
    if claimed != 1:
        raise _state_error("reused")
    return row

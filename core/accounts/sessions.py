"""A ``VismaSession`` bound to one account: every call gets a valid token (refreshed single-flight, one retry after a
401)."""

from __future__ import annotations

from sqlmodel import Session

from core.accounts.records import require_authorized
from core.accounts.tokens import token_provider
from core.db.models import Account
from core.errors import ServiceError
from core.visma.client import VismaSession


def visma_session(rt, account_id: int) -> VismaSession:
    """A ``VismaSession`` bound to the account's valid token (refresh single-flight, retry after a 401)."""
    with Session(rt.engine) as session:
        account = session.get(Account, account_id)
    if account is None:
        raise ServiceError(f"Account {account_id} does not exist.", code="account_not_found")
    require_authorized(account)
    return VismaSession(rt.visma, account.visma_company_id or f"account-{account_id}", token_provider(rt, account_id))

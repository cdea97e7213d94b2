"""Account records: create, list, look up; the read model built from them; the status notes a failure leaves.

One account is one authorization of one Visma user for one Visma company (the article: to map several companies with
one Visma login, authorize it several times, one account each).
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, col, select

from core.accounts.views import AccountChangeView, AccountView
from core.db import audit, models
from core.db.engine import session_scope
from core.db.models import AUTHORIZED, NEEDS_REAUTHORIZATION, Account, CompanyMapping, PayrollCompany
from core.errors import ServiceError

NAME_MAX = 100


def now() -> datetime:
    """Our clock (``core.db.models.utcnow``, looked up at call time so tests can move it)."""
    return models.utcnow()


# ---------------------------------------------------------------------------------------------------- reading


def mapped_companies(session: Session, account_id: int) -> list[str]:
    """The names of the payroll companies mapped to one account, sorted."""
    rows = session.exec(
        select(PayrollCompany.name)
        .join(CompanyMapping, col(CompanyMapping.payroll_company_id) == col(PayrollCompany.id))
        .where(CompanyMapping.account_id == account_id)
        .order_by(PayrollCompany.name)
    ).all()
    return list(rows)


def _companies_by_account(session: Session) -> dict[int, list[str]]:
    """The payroll companies mapped to each account (names sorted), in one query for all accounts."""
    stmt = (
        select(CompanyMapping.account_id, PayrollCompany.name)
        .join(PayrollCompany, col(CompanyMapping.payroll_company_id) == col(PayrollCompany.id))
        .order_by(PayrollCompany.name)
    )
    out: dict[int, list[str]] = {}
    for account_id, name in session.exec(stmt).all():
        out.setdefault(account_id, []).append(name)
    return out


def account_view(session: Session, account: Account, mapped: list[str] | None = None,
                 warnings: list[str] | None = None) -> AccountView:
    """An account as a read model; ``mapped`` (its payroll companies) is read here when the caller has not. With
    ``warnings`` (after an authorization or a disconnect) an ``AccountChangeView``."""
    fields = {
        "id": account.id,
        "name": account.name,
        "status": account.status,
        "status_reason": account.status_reason,
        "status_entry_id": account.status_entry_id,
        "visma_company_id": account.visma_company_id,
        "visma_company_name": account.visma_company_name,
        "scope": account.scope,
        "token_expires_at": account.token_expires_at,
        "last_refreshed_at": account.last_refreshed_at,
        "authorized_at": account.authorized_at,
        "reauthorize_by": account.reauthorize_by,
        "created_at": account.created_at,
        "mapped_companies": tuple(mapped_companies(session, account.id) if mapped is None else mapped),
    }
    if warnings is None:
        return AccountView(**fields)
    return AccountChangeView(**fields, warnings=tuple(warnings))


def find_account(session: Session, name: str) -> Account:
    """The account of this name (exact first, then regardless of case), or a ServiceError naming it."""
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


def list_accounts(rt) -> list[AccountView]:
    """Every account with its status, Visma company, token expiry, re-authorization deadline and the payroll
    companies mapped to it. Two queries whatever the number of accounts (accounts; mappings grouped here)."""
    with Session(rt.engine) as session:
        accounts = session.exec(select(Account).order_by(Account.name)).all()
        mapped = _companies_by_account(session)
        return [account_view(session, a, mapped.get(a.id, [])) for a in accounts]


def get_account(rt, name: str) -> AccountView:
    """One account, by name (case-insensitive)."""
    with Session(rt.engine) as session:
        return account_view(session, find_account(session, name))


# ---------------------------------------------------------------------------------------------------- create


def create_account(rt, name: str, *, actor: str) -> AccountView:
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
            return account_view(session, account)
    except sa.exc.IntegrityError:
        raise duplicate from None


# ---------------------------------------------------------------------------------------------------- status


def needs_reauth_error(account: Account) -> ServiceError:
    return ServiceError(
        f"Account '{account.name}' needs re-authorization: {account.status_reason or 'Visma no longer accepts it.'} "
        "Re-authorize it on the Accounts page (or `accounts authorize`).",
        entry_id="reauthorize-needed",
        code="needs_reauthorization",
    )


def not_authorized_error(account: Account) -> ServiceError:
    return ServiceError(
        f"Account '{account.name}' is not authorized (grey Visma logo). Authorize it on the Accounts page "
        "(or `accounts authorize`) first.",
        entry_id="account-not-authorized",
        code="not_authorized",
    )


def require_authorized(account: Account) -> None:
    """Raise the ServiceError that explains why this account cannot talk to Visma, unless it is authorized."""
    if account.status == NEEDS_REAUTHORIZATION:
        raise needs_reauth_error(account)
    if account.status != AUTHORIZED:
        raise not_authorized_error(account)


def record_failure(rt, account_id: int, *, actor: str, action: str, reason: str, entry_id: str | None,
                   detail: dict) -> None:
    """Note a failed authorization on the account (unless it is still authorized: it keeps working) and audit it."""
    with session_scope(rt.engine) as session:
        account = session.get(Account, account_id)
        if account is not None and account.status != AUTHORIZED:
            account.status_reason = reason[:500]
            account.status_entry_id = entry_id
            account.updated_at = now()
            session.add(account)
        audit.record(session, actor=actor, action=action, account_id=account_id,
                     detail={**detail, "entry_id": entry_id})

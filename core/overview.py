"""The health-at-a-glance numbers of the dashboard's first page, in a handful of aggregate queries.

Every figure is a GROUP BY in the database (never a loop over ORM objects), so the page answers in well under
0.3 s with 2,000 companies × 12 runs: accounts by status, accounts needing action, a status grid (runs per period and
status), failures grouped by troubleshooting entry, the accounts whose authorization runs out soon (with the payroll
companies depending on them), and runs waiting to be sent.

Access tokens last an hour and are refreshed automatically, so their expiry says nothing. What forces someone to log
in at Visma again is the end of the refresh token's life: ``Account.reauthorize_by``, counted from the authorization
(core.settings, ``VISMA_REFRESH_TOKEN_LIFETIME_DAYS``), and moved by nothing but a new authorization.
"""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from core.db import models
from core.db.engine import session_scope
from core.db.models import (
    AUTHORIZED,
    FAILED,
    NOT_SENT,
    SENDING,
    SENT,
    UNCONFIRMED,
    Account,
    CompanyMapping,
    PayrollCompany,
    PayrollRun,
)
from core.export.claims import abandoned_condition
from core.export.views import recent_failures

__all__ = ["overview"]


def overview(rt, *, reauthorization_within: timedelta = timedelta(days=7)) -> dict:
    """The Overview page's figures. ``reauthorization_due``: authorized accounts whose ``reauthorize_by`` falls
    within ``reauthorization_within`` (or has passed already), soonest first; it and ``accounts_needing_action`` give
    each account's ``companies`` (the payroll companies mapped to it: what stops when it does)."""
    now = models.utcnow()
    with session_scope(rt.engine) as session:
        by_status = dict(session.execute(
            sa.select(Account.status, sa.func.count()).group_by(Account.status)).all())
        needing = session.execute(
            sa.select(Account.id, Account.name, Account.status, Account.status_reason, Account.status_entry_id)
            # an authorized account can need action too: its token works but Visma refuses the company's data
            # (e.g. 403 4002, API module off) — the note is its status_entry_id
            .where(sa.or_(Account.status != AUTHORIZED, Account.status_entry_id.is_not(None)))
            .order_by(Account.name)).all()
        due_condition = sa.and_(Account.status == AUTHORIZED, Account.reauthorize_by.is_not(None),
                                Account.reauthorize_by < now + reauthorization_within)
        due = session.execute(
            sa.select(Account.id, Account.name, Account.reauthorize_by).where(due_condition)
            .order_by(Account.reauthorize_by, Account.name)).all()
        depending: dict[int, list[str]] = {}
        if due or needing:  # the payroll companies of every listed account, in one query
            for account_id, company in session.execute(
                sa.select(CompanyMapping.account_id, PayrollCompany.name)
                .join(PayrollCompany, PayrollCompany.id == CompanyMapping.payroll_company_id)
                .join(Account, Account.id == CompanyMapping.account_id)
                .where(sa.or_(Account.status != AUTHORIZED, due_condition))
                .order_by(PayrollCompany.name)).all():
                depending.setdefault(account_id, []).append(company)
        grid = session.execute(
            sa.select(PayrollRun.year, PayrollRun.period, PayrollRun.status, sa.func.count())
            .group_by(PayrollRun.year, PayrollRun.period, PayrollRun.status)
            .order_by(PayrollRun.year, PayrollRun.period)).all()
        runs_by_status = dict(session.execute(
            sa.select(PayrollRun.status, sa.func.count()).group_by(PayrollRun.status)).all())
        companies = session.scalar(sa.select(sa.func.count()).select_from(PayrollCompany)) or 0
        mapped = session.scalar(sa.select(sa.func.count()).select_from(CompanyMapping)) or 0
        auto = session.scalar(sa.select(sa.func.count()).select_from(CompanyMapping)
                              .where(CompanyMapping.auto_send.is_(True))) or 0
        stale = session.scalar(sa.select(sa.func.count()).select_from(PayrollRun).where(abandoned_condition(now))) or 0
        waiting_mapped = session.scalar(
            sa.select(sa.func.count()).select_from(PayrollRun)
            .join(CompanyMapping, CompanyMapping.payroll_company_id == PayrollRun.company_id)
            .where(PayrollRun.status.in_([NOT_SENT, FAILED]))) or 0
    cells: dict[tuple[int, int], dict] = {}
    for year, period, status, count in grid:
        cell = cells.setdefault((year, period), {"year": year, "period": period, "not_sent": 0, "sending": 0,
                                                 "unconfirmed": 0, "sent": 0, "failed": 0})
        cell[status] = cell.get(status, 0) + int(count)
    runs = {k: int(v) for k, v in runs_by_status.items()}
    accounts_total = sum(int(v) for v in by_status.values())
    return {
        # Headline figures, each a partition that sums to its total (the page's metrics and their help texts).
        "accounts": {"total": accounts_total, "ok": accounts_total - len(needing), "to_fix": len(needing)},
        "runs": {
            "total": sum(runs.values()),
            "sent": runs.get(SENT, 0),
            "waiting": runs.get(NOT_SENT, 0) + runs.get(SENDING, 0) - stale,
            "attention": runs.get(FAILED, 0) + runs.get(UNCONFIRMED, 0) + stale,
        },
        "accounts_by_status": {k: int(v) for k, v in by_status.items()},
        "accounts_needing_action": [
            {"name": n, "status": s, "status_reason": r, "status_entry_id": e, "companies": depending.get(i, [])}
            for i, n, s, r, e in needing],
        "reauthorization_due": [
            {"name": name, "reauthorize_by": by, "overdue": by <= now, "companies": depending.get(account_id, [])}
            for account_id, name, by in due],
        "status_grid": list(cells.values()),
        "runs_by_status": runs,
        "runs_waiting": waiting_mapped,
        "runs_stuck_sending": stale,
        "companies": {"total": companies, "mapped": mapped, "unmapped": companies - mapped, "auto_send": auto},
        "failures_by_entry": recent_failures(rt),
    }

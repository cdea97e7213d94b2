"""Demo mode's actions: status, seed (accounts authorized through the sandbox's own pages), reset, and switching a
sandbox company into a known error. All of them are refused outside demo mode: they talk to the sandbox's admin API,
which production Visma does not have."""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Any
from urllib.parse import quote

import httpx
import sqlalchemy as sa

from core.accounts.authorization import complete_authorization, start_authorization
from core.accounts.records import create_account, list_accounts
from core.accounts.views import AccountChangeView
from core.db import audit
from core.db.engine import session_scope
from core.db.models import AUTHORIZED, PayrollRun, utcnow
from core.demo.constants import DEMO_PASSWORD, DEMO_USER_ALL_COMPANIES
from core.demo.login import DemoLoginError, login_and_consent
from core.demo.payroll import demo_source, demo_window_source
from core.demo.sandbox import stop_sandbox
from core.errors import ServiceError
from core.export.restore import forget as forget_send_marks
from core.mappings.companies import map_company
from core.payroll.store import list_payroll_companies, sync_source

ADMIN_TIMEOUT = httpx.Timeout(15.0, connect=5.0)
# A sandbox company without any connection fault (the sandbox's own defaults).
NO_FAULTS: dict[str, Any] = {"latency_ms": 0, "rate_limit_per_minute": None, "http_error": None, "commit_then_drop": 0}


def _sandbox_url(rt) -> str:
    if not rt.settings.demo_mode or not rt.sandbox_url:
        raise ServiceError(
            "This works only in demo mode (no VISMA_CLIENT_ID set): it changes the bundled sandbox, not Visma.",
            code="not_demo_mode",
        )
    return rt.sandbox_url.rstrip("/")


@functools.cache
def _admin_client() -> httpx.Client:
    """One client (its connection pool and TLS context) for every admin call of this process: a new one per call cost
    about 40 ms, twice per Demo page load."""
    return httpx.Client(timeout=ADMIN_TIMEOUT)


def _admin(rt, method: str, path: str, **kwargs) -> Any:
    url = f"{_sandbox_url(rt)}/_sandbox/{path.lstrip('/')}"
    try:
        response = _admin_client().request(method, url, **kwargs)
    except httpx.InvalidURL:
        raise ServiceError("That is not a sandbox company id; `python -m core demo status` lists them.",
                           code="sandbox_company_unknown") from None
    except httpx.HTTPError as exc:
        raise ServiceError(
            f"The demo sandbox at {_sandbox_url(rt)} does not answer ({type(exc).__name__}). Restart the dashboard or "
            "the command; demo mode starts it again.",
            code="sandbox_unreachable",
        ) from None
    if response.status_code >= 400:
        try:
            detail = response.json().get("error") or response.text
        except (ValueError, AttributeError):
            detail = response.text
        raise ServiceError(f"The sandbox refused: {str(detail)[:300]}", code="sandbox_refused")
    return response.json() if response.content else None


def sandbox_companies(rt) -> list[dict]:
    """The sandbox's companies with their state and faults."""
    return _admin(rt, "GET", "companies")


def demo_status(rt) -> dict[str, Any]:
    """Where the sandbox runs, its companies (states, faults) and the accounts."""
    url = _sandbox_url(rt)
    status: dict[str, Any] = {"sandbox_url": url, "running": True, "companies": [], "accounts": []}
    try:
        status["companies"] = sandbox_companies(rt)
        status["clock"] = _admin(rt, "GET", "clock")
    except ServiceError as exc:
        status["running"] = False
        status["error"] = exc.message
    status["accounts"] = [
        {"name": a.name, "status": a.status, "visma_company_name": a.visma_company_name,
         "status_entry_id": a.status_entry_id, "token_expires_at": a.token_expires_at}
        for a in list_accounts(rt)
    ]
    return status


def _demo_login(url: str, *, email: str, company: str | None, failed: str) -> str:
    """Log in to the sandbox's login page as a demo user and allow; the callback address it sends back to."""
    try:
        return login_and_consent(url, email=email, password=DEMO_PASSWORD, company=company)
    except DemoLoginError as exc:
        raise ServiceError(f"{failed}: {exc}", code="demo_login_failed") from None


def _authorize_in_sandbox(rt, name: str, company_name: str, *, actor: str) -> AccountChangeView:
    url = start_authorization(rt, name, actor=actor)
    callback = _demo_login(url, email=DEMO_USER_ALL_COMPANIES, company=company_name,
                           failed=f"The demo login for '{name}' failed")
    return complete_authorization(rt, callback, actor=actor)


def authorize_with_demo_login(rt, name: str, *, email: str, company: str | None, actor: str,
                              redirect_uri: str | None = None) -> AccountChangeView:
    """Authorize an account without a browser (``accounts authorize --demo-user``): start the authorization, log in
    to the sandbox as this demo user, choose the company, allow, and complete it. Demo mode only."""
    url = start_authorization(rt, name, actor=actor, redirect_uri=redirect_uri)
    if not rt.settings.demo_mode:
        raise ServiceError("--demo-user works only in demo mode (no VISMA_CLIENT_ID set).", code="not_demo_mode")
    callback = _demo_login(url, email=email, company=company, failed="The demo login failed")
    return complete_authorization(rt, callback, actor=actor)


def _map_payroll_companies(rt, account_names: set[str], *, actor: str) -> tuple[list[str], list[str]]:
    """Map each demo payroll company to the account named like it (the demo gives them the sandbox's names)."""
    mapped, warnings = [], []
    for company in list_payroll_companies(rt):
        if company.account_name or company.name not in account_names:
            continue
        try:
            result = map_company(rt, company.code, company.name, actor=actor)
        except ServiceError as exc:
            warnings.append(f"{company.name}: {exc.message}")
            continue
        mapped.append(company.name)
        warnings += [f"{company.name}: {w}" for w in result.warnings]
    return mapped, warnings


def prepare_demo(rt, *, actor: str = "demo-mode") -> dict[str, Any] | None:
    """On a dashboard started with nothing configured, load the demo payroll companies and runs once (DESIGN.md: demo
    mode is "seeded with demo payroll companies and runs"), so a sales demo can go straight to authorizing an account
    and mapping a company. Accounts are left to the person demoing: authorizing live is the point of the demo.
    Does nothing on a sandbox named by configuration (tests) or once any payroll company exists."""
    if not (rt.settings.demo_mode and rt.embedded_sandbox) or list_payroll_companies(rt):
        return None
    return seed_demo_payroll(rt, actor=actor, now=utcnow())


def seed_demo(rt, *, actor: str) -> dict[str, Any]:
    """Demo data in one go, idempotent: one account per sandbox company, named after it and authorized through the
    sandbox's login and consent pages; the demo payroll companies and runs; and their mappings."""
    _sandbox_url(rt)
    existing = {a.name: a for a in list_accounts(rt)}
    created, authorized, failed = [], [], []
    names = set()
    for company in sandbox_companies(rt):
        name = company["name"]
        names.add(name)
        if name not in existing:
            create_account(rt, name, actor=actor)
            created.append(name)
        elif existing[name].status == AUTHORIZED:
            continue
        try:
            _authorize_in_sandbox(rt, name, company["name"], actor=actor)
            authorized.append(name)
        except ServiceError as exc:
            failed.append({"account": name, "error": exc.message})
    payroll = seed_demo_payroll(rt, now=utcnow())
    mapped, warnings = _map_payroll_companies(rt, names, actor=actor)
    with session_scope(rt.engine) as session:
        audit.record(session, actor=actor, action="demo.seeded",
                     detail={"accounts_created": len(created), "accounts_authorized": len(authorized),
                             "mapped": len(mapped)})
    return {
        "accounts_created": created,
        "accounts_authorized": authorized,
        "accounts_failed": failed,
        "payroll": payroll,
        "mapped": mapped,
        "warnings": warnings,
    }


def reset_demo(rt, *, actor: str, seed: bool = False, stop: bool = False,
               all_healthy: bool = False) -> dict[str, Any]:
    """The sandbox back to how the demo starts and every table of this product emptied (accounts, runs, mappings,
    audit); then, when asked, the demo seeded again (``seed``) and the embedded sandbox process stopped (``stop``).

    Afterwards no sandbox company has a fault left (not even one a sandbox started with ``--fault`` keeps as its
    seed), and every company is in its start state: healthy, except the companies that start with the help
    article's errors (``start_state``), which are made healthy too with ``all_healthy``. The answer lists the
    companies as they are after the reset (``companies``).
    """
    result = _reset(rt, actor=actor)
    result["companies"] = _heal(rt, all_healthy=all_healthy)
    forget_send_marks(rt)  # emptied on purpose: not a database that went back in time
    if seed:
        result["seed"] = seed_demo(rt, actor=actor)
    if stop:
        result["sandbox_stopped"] = stop_sandbox(rt.settings)
    return result


def _heal(rt, *, all_healthy: bool) -> list[dict]:
    """Clear whatever fault survived the sandbox's reset, and with ``all_healthy`` make every company ``ok``; the
    companies as they are then."""
    companies = sandbox_companies(rt)
    changed = False
    for company in companies:
        if any(company.get("faults", {}).get(name) for name in NO_FAULTS):
            _admin(rt, "PUT", f"companies/{company['id']}/faults", json=NO_FAULTS)
            changed = True
        if all_healthy and company.get("state") != "ok":
            _admin(rt, "PUT", f"companies/{company['id']}/state", json={"state": "ok"})
            changed = True
    return sandbox_companies(rt) if changed else companies


def _reset(rt, *, actor: str) -> dict[str, Any]:
    _admin(rt, "POST", "reset")
    metadata = sa.MetaData()
    metadata.reflect(bind=rt.engine)  # every table in the database, also those of modules not imported here
    tables = list(reversed(metadata.sorted_tables))
    emptied = []
    with session_scope(rt.engine) as session:
        for table in tables:
            if table.name == "alembic_version":
                continue
            session.exec(sa.delete(table))
            emptied.append(table.name)
        audit.record(session, actor=actor, action="demo.reset", detail={"tables": len(emptied)})
    return {"sandbox_reset": True, "tables_emptied": emptied}


def set_company_state(rt, visma_company_id: str, state: str, *, actor: str) -> dict:
    """Switch a sandbox company into a known error (``no_fiscal_year``, ``api_module_inactive``, …) or back to ok."""
    company = _admin(rt, "PUT", f"companies/{quote(visma_company_id, safe='')}/state", json={"state": state})
    with session_scope(rt.engine) as session:
        audit.record(session, actor=actor, action="demo.company_state",
                     detail={"visma_company_id": visma_company_id, "state": state})
    return company


def set_company_faults(rt, visma_company_id: str, *, actor: str, **faults: Any) -> dict:
    """Merge faults into a sandbox company (``latency_ms``, ``rate_limit_per_minute``, ``http_error``,
    ``commit_then_drop``)."""
    company = _admin(rt, "PUT", f"companies/{quote(visma_company_id, safe='')}/faults", json=faults)
    with session_scope(rt.engine) as session:
        audit.record(session, actor=actor, action="demo.company_faults",
                     detail={"visma_company_id": visma_company_id, "faults": faults})
    return company


def seed_demo_payroll(rt, *, actor: str = "demo-seed", now: datetime | None = None) -> dict:
    """Store the demo payroll companies and their twelve runs each; idempotent (a second call adds nothing).

    With ``now`` (a live demo) the runs are the twelve months processed by then; without it, the fixed year 2026
    (periods 1–12), which tests rely on.
    """
    before = _count_runs(rt)
    source = demo_source() if now is None else demo_window_source(now)
    result = sync_source(rt, source, actor=actor)
    return {"companies": result["companies"], "runs_added": _count_runs(rt) - before}


def _count_runs(rt) -> int:
    with session_scope(rt.engine) as session:
        return session.scalar(sa.select(sa.func.count()).select_from(PayrollRun)) or 0

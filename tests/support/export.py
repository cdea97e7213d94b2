"""Helpers for the export-side tests: store a few demo runs, authorize an account for a sandbox company, map them;
and the sandbox admin calls the tests use (faults, states, the vouchers Visma holds).

The fixtures (``rt``, ``clock``) are in tests/conftest.py; the helpers here are plain functions.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx
import sqlalchemy as sa

from core.db.engine import session_scope
from core.db.models import PayrollCompany, PayrollRun
from core.demo.payroll import DEMO_COMPANIES, DEMO_MAPPING, demo_runs
from core.payroll.store import _write_batch
from core.payroll.types import PayrollCompanyData
from sandbox import seed
from tests.support.runtime import authorize

ACTOR = "test@export"


@dataclass
class Setup:
    code: str
    account: str
    visma_company_id: str
    run_ids: list[int]


def store_demo_runs(rt, code: str, periods=(1, 2, 3)) -> list[int]:
    """Store some of a demo company's runs (all twelve are slower to build than most tests need)."""
    company = next(c for c in DEMO_COMPANIES if c.code == code)
    runs = [r for r in demo_runs(code) if r.period in periods]
    _write_batch(rt, PayrollCompanyData(company.code, company.name), runs, source="demo", actor=ACTOR,
                 skip_existing=True)
    return run_ids(rt, code)


def run_ids(rt, code: str) -> list[int]:
    with session_scope(rt.engine) as session:
        return [r[0] for r in session.execute(
            sa.select(PayrollRun.id).join(PayrollCompany, PayrollCompany.id == PayrollRun.company_id)
            .where(PayrollCompany.code == code).order_by(PayrollRun.year, PayrollRun.period)).all()]


def authorize_for(rt, sandbox_company_name: str, account_name: str | None = None) -> dict:
    """An authorized account for one sandbox company (created and authorized through the sandbox's login pages)."""
    return authorize(rt, account_name or sandbox_company_name, sandbox_company_name)


def setup_company(rt, code: str = "BAKKERIJ-DGK", *, periods=(1, 2, 3), account_name: str | None = None,
                  map_it: bool = True) -> Setup:
    """Demo runs of ``code``, an account authorized for its sandbox company, and the mapping between them."""
    from core.mappings.companies import map_company

    ids = store_demo_runs(rt, code, periods)
    name = account_name or f"acc-{code}"
    account = authorize_for(rt, DEMO_MAPPING[code], name)
    if map_it:
        map_company(rt, code, name, actor=ACTOR)
    return Setup(code, name, account.visma_company_id, ids)


def company_id_of(code: str) -> str:
    return seed.company_by_name(DEMO_MAPPING[code])["id"]


def set_faults(sandbox_url: str, visma_company_id: str, **faults) -> dict:
    r = httpx.put(f"{sandbox_url}/_sandbox/companies/{visma_company_id}/faults", json=faults, timeout=10)
    r.raise_for_status()
    return r.json()


def set_state(sandbox_url: str, visma_company_id: str, state: str) -> dict:
    r = httpx.put(f"{sandbox_url}/_sandbox/companies/{visma_company_id}/state", json={"state": state}, timeout=10)
    r.raise_for_status()
    return r.json()


def sandbox_vouchers(sandbox_url: str, visma_company_id: str | None = None) -> list[dict]:
    params = {"company_id": visma_company_id} if visma_company_id else None
    r = httpx.get(f"{sandbox_url}/_sandbox/vouchers", params=params, timeout=10)
    r.raise_for_status()
    return r.json()


def marker_counts(sandbox_url: str, visma_company_id: str | None = None) -> dict[str, int]:
    """How many vouchers in Visma carry each export marker (exactly-once: every value is 1)."""
    counts: dict[str, int] = {}
    for v in sandbox_vouchers(sandbox_url, visma_company_id):
        marker = next((w for w in v["VoucherText"].split() if w.startswith("ELX-")), None)
        if marker:
            counts[marker] = counts.get(marker, 0) + 1
    return counts


def api_calls(sandbox_url: str) -> dict:
    return httpx.get(f"{sandbox_url}/_sandbox/stats", timeout=10).json()


def reset_stats(sandbox_url: str) -> None:
    httpx.post(f"{sandbox_url}/_sandbox/stats/reset", timeout=10).raise_for_status()


def fast_client(rt, **kwargs):
    """Replace the runtime's Visma client by one that never sleeps between retries (tests inject the waits)."""
    from core.visma.client import VismaClient

    defaults = {"sleep": lambda _s: None, "max_retries": 2}
    defaults.update(kwargs)
    client = VismaClient(rt.settings.api_url, **defaults)
    old = rt.__dict__.get("visma")
    rt.__dict__["visma"] = client
    rt._closers.append(client.close)
    if old is not None:
        old.close()
    return client

"""The demo reset leaves no fault in any sandbox company — also on a sandbox started with a fault in its seed
(``python -m sandbox --fault …``, which its own reset keeps) — and, when asked, every company healthy (issue 12)."""

from __future__ import annotations

import httpx
import pytest

from core.demo import service as demo
from core.runtime import build_runtime
from core.settings import load_settings
from sandbox import seed, start_sandbox
from tests.support.runtime import runtime_env

NO_FAULTS = {"latency_ms": 0, "rate_limit_per_minute": None, "http_error": None, "commit_then_drop": 0}


@pytest.fixture
def faulty_rt(database_url, tmp_path):
    overrides = {seed.TRANSPORT: {"state": "read_only", "faults": {"http_error": 503, "latency_ms": 5}}}
    with start_sandbox(port=0, companies=overrides) as sandbox:
        runtime = build_runtime(load_settings(runtime_env(sandbox.url, database_url, tmp_path / "data")))
        yield runtime
        runtime.close()


def _companies(rt) -> dict[str, dict]:
    return {c["id"]: c for c in httpx.get(f"{rt.sandbox_url}/_sandbox/companies", timeout=10).json()}


def test_reset_clears_faults_the_sandbox_started_with(faulty_rt):
    rt = faulty_rt
    assert _companies(rt)[seed.TRANSPORT]["faults"]["http_error"] == 503
    demo.set_company_faults(rt, seed.BAKKERIJ, actor="test", rate_limit_per_minute=2, commit_then_drop=1)
    demo.set_company_state(rt, seed.BAKKERIJ, "period_locked", actor="test")

    result = demo.reset_demo(rt, actor="test")
    companies = _companies(rt)
    assert {cid: c["faults"] for cid, c in companies.items()} == {cid: NO_FAULTS for cid in companies}
    assert companies[seed.BAKKERIJ]["state"] == "ok"
    # states go back to how the demo starts: the article's companies and the start's own override keep theirs
    assert {cid: c["state"] for cid, c in companies.items()} == {cid: c["start_state"] for cid, c in companies.items()}
    assert companies[seed.TRANSPORT]["start_state"] == "read_only"
    assert {c["id"]: c["state"] for c in result["companies"]} == {cid: c["state"] for cid, c in companies.items()}


def test_reset_all_healthy_leaves_every_company_ok(faulty_rt):
    rt = faulty_rt
    demo.set_company_state(rt, seed.BAKKERIJ, "year_locked", actor="test")
    result = demo.reset_demo(rt, actor="test", all_healthy=True)
    companies = _companies(rt)
    assert {c["state"] for c in companies.values()} == {"ok"}
    assert all(c["faults"] == NO_FAULTS for c in companies.values())
    assert all(not fy["locked"] for c in companies.values() for fy in c["fiscal_years"])
    assert {c["state"] for c in result["companies"]} == {"ok"}

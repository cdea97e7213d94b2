"""Demo page (AppTest): *Reset demo data* clears every fault the page can set, in every sandbox company, as its
dialog says — in the sandbox and in the page's own controls — and returns every company to how the demo starts
(healthy, except the seeded companies that show the help article's errors from the start). Issue 12."""

from __future__ import annotations

import httpx
import pytest

from tests.support.apptest import open_page

PAGE = "pages/demo.py"
NO_FAULTS = {"latency_ms": 0, "rate_limit_per_minute": None, "http_error": None, "commit_then_drop": 0}
BROKEN_STATES = ("no_fiscal_year", "api_module_inactive", "ledger_empty", "period_locked", "year_locked",
                 "no_user_access", "inactive", "read_only")


def _companies(url: str) -> list[dict]:
    return httpx.get(f"{url}/_sandbox/companies", timeout=10).json()


def _break_everything(at, companies: list[dict]) -> None:
    """Through the page: every state the page offers, and every fault, spread over every company."""
    for i, company in enumerate(companies):
        cid = company["id"]
        at.selectbox(key="demo_company").set_value(cid).run()
        state = BROKEN_STATES[i % len(BROKEN_STATES)]
        if state == company["state"]:
            state = BROKEN_STATES[(i + 1) % len(BROKEN_STATES)]
        at.radio(key=f"demo_state_{cid}").set_value(state).run()
        at.button(key="demo_apply_state").click().run()
        at.toggle(key=f"demo_rl_{cid}").set_value(True).run()
        at.number_input(key=f"demo_rlv_{cid}").set_value(3).run()
        at.selectbox(key=f"demo_down_{cid}").set_value(503 if i % 2 else 500).run()
        at.slider(key=f"demo_lat_{cid}").set_value(250).run()
        at.number_input(key=f"demo_drop_{cid}").set_value(2).run()
        at.button(key="demo_apply_faults").click().run()
        assert not at.exception, at.exception


def _reset(at):
    at.button(key="demo_reset").click().run()
    at.button(key="demo_confirm_reset").click().run()
    assert not at.exception, at.exception
    return at


@pytest.mark.timeout(240)
def test_reset_clears_every_fault_of_every_company(app_env):
    before = {c["id"]: c["state"] for c in _companies(app_env.url)}  # the seed: how the demo starts
    at = open_page(PAGE)
    _break_everything(at, _companies(app_env.url))
    broken = _companies(app_env.url)
    assert all(c["faults"] != NO_FAULTS for c in broken)
    assert all(c["state"] != before[c["id"]] for c in broken)

    _reset(at)
    after = _companies(app_env.url)
    assert {c["id"]: c["faults"] for c in after} == {cid: NO_FAULTS for cid in before}
    assert {c["id"]: c["state"] for c in after} == before
    assert all(c["locked_to"] is None for c in after)
    assert all(not fy["locked"] for c in after for fy in c["fiscal_years"])
    healthy = [c for c in after if c["state"] == "ok"]
    assert len(healthy) >= 4
    # the page's table and its controls show the healed companies, not what was set before the reset
    table = at.dataframe[0].value
    assert set(table["faults"]) == {"none"}
    for company in after:
        cid = company["id"]
        at.selectbox(key="demo_company").set_value(cid).run()
        assert at.radio(key=f"demo_state_{cid}").value == company["state"], company["name"]
        assert at.toggle(key=f"demo_rl_{cid}").value is False, company["name"]
        assert at.selectbox(key=f"demo_down_{cid}").value is None, company["name"]
        assert at.slider(key=f"demo_lat_{cid}").value == 0, company["name"]
        assert at.number_input(key=f"demo_drop_{cid}").value == 0, company["name"]
        assert at.button(key="demo_apply_state").disabled, company["name"]


def test_the_reset_dialog_says_which_companies_start_with_an_error(app_env):
    at = open_page(PAGE)
    at.button(key="demo_reset").click().run()
    text = " ".join(m.value for m in at.markdown).replace("\\", "")
    assert "clears every fault" in text
    assert "back to healthy" not in text  # the old promise, untrue for the article's companies
    starting = [c for c in _companies(app_env.url) if c["start_state"] != "ok"]
    assert starting
    for company in starting:
        assert company["name"] in text, company["name"]


@pytest.mark.timeout(240)
def test_reset_can_make_every_company_healthy(app_env):
    at = open_page(PAGE)
    _break_everything(at, _companies(app_env.url))
    at.button(key="demo_reset").click().run()
    at.checkbox(key="demo_reset_all_healthy").check().run()
    at.button(key="demo_confirm_reset").click().run()
    assert not at.exception, at.exception
    after = _companies(app_env.url)
    assert {c["state"] for c in after} == {"ok"}
    assert all(c["faults"] == NO_FAULTS for c in after)
    assert any("no fault left" in s.value and "all healthy" in s.value for s in at.success), \
        [s.value for s in at.success]


def test_clear_faults_also_clears_the_controls(app_env):
    at = open_page(PAGE)
    cid = _companies(app_env.url)[0]["id"]
    at.selectbox(key="demo_company").set_value(cid).run()
    at.toggle(key=f"demo_rl_{cid}").set_value(True).run()
    at.selectbox(key=f"demo_down_{cid}").set_value(503).run()
    at.slider(key=f"demo_lat_{cid}").set_value(500).run()
    at.button(key="demo_apply_faults").click().run()
    at.button(key="demo_clear_faults").click().run()
    assert not at.exception
    assert next(c for c in _companies(app_env.url) if c["id"] == cid)["faults"] == NO_FAULTS
    assert at.toggle(key=f"demo_rl_{cid}").value is False
    assert at.selectbox(key=f"demo_down_{cid}").value is None
    assert at.slider(key=f"demo_lat_{cid}").value == 0

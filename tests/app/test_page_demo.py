"""AppTest: the Demo page (sandbox companies with their states, switching a company into a known error, faults,
loading and resetting the demo data) — and that it offers nothing outside demo mode."""

from __future__ import annotations

import httpx

from tests.support.apptest import all_text, open_page

PAGE = "pages/demo.py"
KAPSALON_ID = "e8599e7c-99a0-4b94-9b91-31f323e604f0"
BAKKERIJ_ID = "a30dbfb4-d516-402f-bae3-ae900cd65085"


def sandbox_company(sandbox_url: str, company_id: str) -> dict:
    companies = httpx.get(f"{sandbox_url}/_sandbox/companies", timeout=10).json()
    return next(c for c in companies if c["id"] == company_id)


def test_lists_sandbox_companies_with_states_in_plain_words(app_env):
    at = open_page(PAGE)
    assert not at.exception
    table = at.dataframe[0].value
    assert len(table) >= 7
    row = table[table["company"] == "Kapsalon Het Knipperlicht"].iloc[0]
    assert row["state"].startswith("Article 1")
    assert "fiscalYearId" in row["customer_sees"]


def test_switch_a_company_into_an_article_error(app_env):
    at = open_page(PAGE)
    at.selectbox(key="demo_company").set_value(BAKKERIJ_ID).run()
    at.radio(key=f"demo_state_{BAKKERIJ_ID}").set_value("api_module_inactive").run()
    at.button(key="demo_apply_state").click().run()
    assert not at.exception
    assert sandbox_company(app_env.url, BAKKERIJ_ID)["state"] == "api_module_inactive"
    assert "is now: Article 2" in all_text(at)


def test_every_article_error_and_the_locked_period_then_healthy_again(app_env):
    """A sales person walks through the article's three errors and a locked period, then heals the company."""
    at = open_page(PAGE)
    at.selectbox(key="demo_company").set_value(BAKKERIJ_ID).run()
    for state, title in [("no_fiscal_year", "Article 1"), ("ledger_empty", "Article 3"),
                         ("period_locked", "Locked period"), ("year_locked", "Locked fiscal year"),
                         ("ok", "Healthy")]:
        at.radio(key=f"demo_state_{BAKKERIJ_ID}").set_value(state).run()
        at.button(key="demo_apply_state").click().run()
        assert not at.exception
        assert sandbox_company(app_env.url, BAKKERIJ_ID)["state"] == state
        assert f"is now: {title}" in all_text(at)
        table = at.dataframe[0].value
        assert table[table["company"] == "Bakkerij De Gouden Korst B.V."].iloc[0]["state"].startswith(title)
    assert at.button(key="demo_apply_state").disabled  # the company is in the chosen state already


def test_faults_rate_limit_and_visma_down_then_clear(app_env):
    at = open_page(PAGE)
    at.selectbox(key="demo_company").set_value(BAKKERIJ_ID).run()
    at.toggle(key=f"demo_rl_{BAKKERIJ_ID}").set_value(True).run()
    at.number_input(key=f"demo_rlv_{BAKKERIJ_ID}").set_value(2).run()
    at.selectbox(key=f"demo_down_{BAKKERIJ_ID}").set_value(503).run()
    at.number_input(key=f"demo_drop_{BAKKERIJ_ID}").set_value(1).run()
    at.slider(key=f"demo_lat_{BAKKERIJ_ID}").set_value(500).run()
    at.button(key="demo_apply_faults").click().run()
    assert not at.exception
    faults = sandbox_company(app_env.url, BAKKERIJ_ID)["faults"]
    assert faults["rate_limit_per_minute"] == 2 and faults["http_error"] == 503 and faults["commit_then_drop"] == 1
    assert faults["latency_ms"] == 500
    row = at.dataframe[0].value.set_index("company").loc["Bakkerij De Gouden Korst B.V."]
    assert "rate limit 2/min" in row["faults"] and "Visma down (HTTP 503)" in row["faults"]
    at.button(key="demo_clear_faults").click().run()
    faults = sandbox_company(app_env.url, BAKKERIJ_ID)["faults"]
    assert not faults["rate_limit_per_minute"] and faults["http_error"] is None and faults["commit_then_drop"] == 0


def test_load_then_reset_demo_data_after_confirming(rt, app_env):
    from core import services

    at = open_page(PAGE)
    at.button(key="demo_seed").click().run()
    assert not at.exception
    assert "Demo data loaded" in all_text(at)
    assert services.list_accounts(rt)
    # break a company, then reset everything through the confirmation dialog
    services.set_company_state(rt, KAPSALON_ID, "ledger_empty", actor="test")
    at.button(key="demo_reset").click().run()
    at.button(key="demo_cancel_reset").click().run()
    assert services.list_accounts(rt), "cancel keeps the data"
    at.button(key="demo_reset").click().run()
    at.button(key="demo_confirm_reset").click().run()
    assert not at.exception
    assert "Demo data reset" in all_text(at)
    assert services.list_accounts(rt) == []
    assert sandbox_company(app_env.url, KAPSALON_ID)["state"] == "no_fiscal_year"  # back to its seed


def test_sandbox_refusal_is_explained(app_env, monkeypatch):
    from core import services
    from core.errors import ServiceError

    def refuse(*args, **kwargs):
        raise ServiceError("The sandbox refused: unknown state")

    monkeypatch.setattr(services, "set_company_state", refuse)
    at = open_page(PAGE)
    at.selectbox(key="demo_company").set_value(BAKKERIJ_ID).run()
    at.radio(key=f"demo_state_{BAKKERIJ_ID}").set_value("read_only").run()
    at.button(key="demo_apply_state").click().run()
    assert not at.exception
    assert "The sandbox refused" in all_text(at)


def test_not_registered_outside_demo_mode(app_env, monkeypatch):
    """With a Visma client configured (production), app.py leaves the Demo page out of the navigation."""
    import pytest

    from tests.support.apptest import new_app

    monkeypatch.setenv("VISMA_CLIENT_ID", "prod-client")
    monkeypatch.setenv("VISMA_CLIENT_SECRET", "prod-secret-value")
    at = new_app()
    at.run()
    with pytest.raises(ValueError):
        at.switch_page(PAGE)

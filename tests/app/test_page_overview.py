"""AppTest: the Overview page (accounts by status and needing action, failures by entry, re-authorization due, runs per
period, the company × period grid with search, attention filter and paging)."""

from __future__ import annotations

from tests.support.apptest import all_text, open_page
from tests.support.pages import BAKKERIJ_CODE

PAGE = "pages/overview.py"


def grid(at):
    return next(df.value for df in at.dataframe if "company_code" in df.value.columns)


def test_empty_state_points_to_accounts(app_env):
    at = open_page(PAGE)
    assert not at.exception
    assert at.title[0].value == "Overview"
    assert "Nothing to show yet" in all_text(at)


def test_full_state(rt, with_failure):
    from core import services

    services.create_account(rt, "Nog niet gekoppeld", actor="test")
    at = open_page(PAGE)
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Accounts OK"] == "1"
    assert metrics["Accounts to fix"] == "1"
    # every headline figure is part of a partition that sums: accounts 1 + 1 = 2; runs 1 sent + 1 waiting + 1 failed
    assert (metrics["Runs sent"], metrics["Runs waiting"], metrics["Runs needing attention"]) == ("1", "1", "1")
    helps = {m.label: m.help for m in at.metric}
    assert "Of 2 accounts" in helps["Accounts OK"] and "Of 3 runs" in helps["Runs sent"]
    text = all_text(at)
    assert "1 company mapped to Visma" in text and "(s)" not in text and "compan(y" not in text
    assert "Fiscal year missing in Visma" in text  # failures by entry, with the entry's title
    needing = next(df.value for df in at.dataframe if "why" in df.value.columns)
    assert list(needing["account"]) == ["Nog niet gekoppeld"]
    table = grid(at)
    row = table[table["company_code"] == BAKKERIJ_CODE].iloc[0]
    assert row["2026-01"] == "Sent" and row["2026-02"] == "Failed" and row["2026-03"] == "Not sent"
    assert row["failed"] == 1 and row["not sent"] == 1
    legend = ":green-badge[Sent] :red-badge[Failed] :orange-badge[Unconfirmed] :gray-badge[Not sent]"
    assert legend in text  # the grid's colour legend


def test_grid_search_and_attention_filter(rt, with_failure):
    from tests.support.export import store_demo_runs

    store_demo_runs(rt, "HOVENIER-GROEN", periods=(1,))
    at = open_page(PAGE)
    assert set(grid(at)["company_code"]) == {BAKKERIJ_CODE, "HOVENIER-GROEN"}
    # companies needing attention first
    assert grid(at).iloc[0]["company_code"] == BAKKERIJ_CODE
    at.text_input(key="ov_search").set_value("hovenier").run()
    assert list(grid(at)["company_code"]) == ["HOVENIER-GROEN"]
    at.text_input(key="ov_search").set_value("").run()
    at.toggle(key="ov_attention").set_value(True).run()
    assert set(grid(at)["company_code"]) == {BAKKERIJ_CODE, "HOVENIER-GROEN"}  # both have runs not sent


def test_reauthorization_due_lists_accounts_with_their_dependent_companies(rt, mapped):
    from datetime import timedelta

    import sqlalchemy as sa
    import streamlit as st

    from core.db.models import Account, utcnow

    at = open_page(PAGE)
    assert not at.exception
    assert "Re-authorization due" in [s.value for s in at.subheader]
    assert any("No authorization runs out within a week" in s.value for s in at.success)  # 30 days from now
    assert not any("reauthorize_by" in df.value.columns for df in at.dataframe)
    # hourly access tokens about to expire say nothing
    st.cache_data.clear()  # the page caches the overview for a while
    with rt.engine.begin() as conn:
        conn.execute(sa.update(Account).values(token_expires_at=utcnow() + timedelta(minutes=30),
                                               reauthorize_by=utcnow() + timedelta(days=2)))
    at = open_page(PAGE)
    assert not at.exception
    table = next(df.value for df in at.dataframe if "reauthorize_by" in df.value.columns)
    assert len(table) == 1
    assert "Bakkerij De Gouden Korst B.V." in table.iloc[0]["companies"]
    assert table.iloc[0]["reauthorize_by"].endswith("UTC")
    assert not at.warning
    with rt.engine.begin() as conn:
        conn.execute(sa.update(Account).values(reauthorize_by=utcnow() - timedelta(hours=1)))
    st.cache_data.clear()
    at = open_page(PAGE)
    assert any("past their re-authorization date" in w.value for w in at.warning)


def test_grid_comes_from_the_grouped_service_not_from_every_run(rt, with_failure, monkeypatch):
    from core import services

    def every_run(*args, **kwargs):
        raise AssertionError("the Overview must not read every run")

    monkeypatch.setattr(services, "list_runs", every_run)
    at = open_page(PAGE)
    assert not at.exception
    row = grid(at).set_index("company_code").loc[BAKKERIJ_CODE]
    assert row["2026-02"] == "Failed" and row["failed"] == 1


def test_service_failure_is_explained(app_env, monkeypatch):
    from core import services
    from core.errors import ServiceError

    def broken(rt):
        raise ServiceError("The database does not answer. Check DATABASE_URL, then reload.")

    monkeypatch.setattr(services, "overview", broken)
    at = open_page(PAGE)
    assert not at.exception
    assert "The database does not answer" in all_text(at)


def test_pivot_takes_the_worst_status_of_a_period():
    import pandas as pd

    from ui.charts import status_pivot

    table = status_pivot(pd.DataFrame([
        {"company_code": "B", "company": "B", "year": 2026, "period": 1, "status": "sent"},
        {"company_code": "A", "company": "A", "year": 2026, "period": 1, "status": "sent"},
        {"company_code": "A", "company": "A", "year": 2026, "period": 1, "status": "failed"},
        {"company_code": "A", "company": "A", "year": 2026, "period": 2, "status": "not_sent"},
    ]))
    assert list(table["company_code"]) == ["A", "B"]
    first = table.iloc[0]
    assert first["2026-01"] == "failed" and first["2026-02"] == "not_sent"
    assert first["failed"] == 1 and first["not sent"] == 1


def test_payroll_data_without_accounts_says_to_create_one(rt):
    """Demo mode opens with payroll companies and no account yet: the page must not claim every account is fine."""
    from core import services

    services.seed_demo_payroll(rt)
    at = open_page(PAGE)
    text = all_text(at)
    assert not at.exception
    assert "No Visma account yet" in text and "Every account is authorized" not in text

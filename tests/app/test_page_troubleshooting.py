"""AppTest: the Troubleshooting page (catalogue search, paste-an-error matcher, recent failures, live diagnosis,
support bundle, ``?entry=`` deep link)."""

from __future__ import annotations

import json

from tests.support.apptest import all_text, downloaded, new_app, open_page
from tests.support.pages import BAKKERIJ_CODE

PAGE = "pages/troubleshooting.py"
ARTICLE_FISCAL = "Visma Integration Error Message: One or more errors occurred. Resource not found: fiscalYearId"


def open_tab(at, tab: str):
    at.session_state["ts_tab"] = tab
    return at.run()


def test_empty_state_shows_catalogue_and_nothing_failed(app_env):
    at = open_page(PAGE)
    assert not at.exception
    assert at.title[0].value == "Troubleshooting"
    open_tab(at, "Catalogue")
    assert not at.exception
    table = at.dataframe[0].value
    assert len(table) >= 30
    assert "fiscal-year-missing" in set(table["id"])
    open_tab(at, "Recent failures")
    assert "No failed exports recently." in all_text(at)
    open_tab(at, "Diagnose a mapping")
    assert "No payroll company is mapped" in all_text(at)
    open_tab(at, "Support bundle")
    assert "No failed export" in all_text(at)


def test_search_and_filters_narrow_the_table(app_env):
    at = open_page(PAGE)
    open_tab(at, "Catalogue")
    at.text_input(key="ts_search").set_value("boekjaar").run()
    ids = set(at.dataframe[0].value["id"])
    assert "fiscal-year-missing" in ids
    assert "rate-limited" not in ids
    # one hit opens the entry below the table, with the article's own cause
    at.text_input(key="ts_search").set_value("default company").run()
    at.selectbox(key="ts_fix_in").set_value("visma_portal").run()
    assert "api-module-inactive" in set(at.dataframe[0].value["id"])
    at.selectbox(key="ts_severity").set_value("info").run()
    at.text_input(key="ts_search").set_value("no such words anywhere xyz").run()
    assert "No entry matches" in all_text(at)
    at.text_input(key="ts_search").set_value("").run()
    at.selectbox(key="ts_severity").set_value(None).run()
    at.selectbox(key="ts_fix_in").set_value(None).run()
    at.selectbox(key="ts_language").set_value("nl").run()
    table = at.dataframe[0].value
    assert "api-module-inactive" in set(table["id"])
    assert all("Dutch" in languages for languages in table["language"])


def test_paste_an_error_shows_match_and_alternatives(app_env):
    at = open_page(PAGE)
    at.text_area(key="ts_paste").set_value(ARTICLE_FISCAL)
    at.button[0].click().run()
    assert not at.exception
    text = all_text(at)
    assert "Fiscal year missing in Visma" in text
    assert "The fiscal year has not ben created yet in the portal of Visma." in text  # the article's words


def test_paste_an_ambiguous_error_offers_alternatives(app_env):
    at = open_page(PAGE)
    at.text_area(key="ts_paste").set_value("ForbiddenRequestException")
    at.button[0].click().run()
    assert not at.exception
    assert "Best match" in all_text(at)
    assert "Other possible explanations" in all_text(at)
    alternatives = [e.label for e in at.expander if "score" in e.label]
    assert len(alternatives) >= 2
    assert any("access" in label.lower() for label in alternatives)


def test_paste_unknown_text_says_so(app_env):
    at = open_page(PAGE)
    at.text_area(key="ts_paste").set_value("the coffee machine is empty")
    at.button[0].click().run()
    assert "No known error matches this text" in all_text(at)


def test_entry_deep_link_opens_the_entry(app_env):
    at = new_app()
    at.run()
    at.query_params["entry"] = "ledger-empty"
    at.switch_page(PAGE).run()
    assert not at.exception
    text = all_text(at)
    assert "Linked entry" in text
    assert "Within Visma, one ore more fields General Ledger for Organisation are not added." in text


def test_unknown_entry_link_warns(app_env):
    at = new_app()
    at.run()
    at.query_params["entry"] = "no-such-entry"
    at.switch_page(PAGE).run()
    assert "There is no troubleshooting entry" in all_text(at)


def test_recent_failures_and_support_bundle(with_failure):
    at = open_page(PAGE)
    open_tab(at, "Recent failures")
    assert not at.exception
    labels = [e.label for e in at.expander]
    assert any("Fiscal year missing in Visma" in label and "1 failed run" in label for label in labels)
    assert BAKKERIJ_CODE in all_text(at)

    open_tab(at, "Support bundle")
    assert not at.download_button, "nothing to download before the bundle is prepared"
    at.button(key="ts_bundle_make").click().run()
    assert not at.exception
    # the bytes the browser saves: the voucher, Visma's answer and ErrorId, the mapping and the entry; no secret
    raw = downloaded(at, "ts_bundle_download")
    data = json.loads(raw)
    assert data["entry"]["id"] == "fiscal-year-missing"
    assert data["visma_error_id"]
    text = raw.decode()
    assert "fiscalYearId" in text  # Visma's own response
    for secret in ("access_token", "refresh_token", "sandbox-demo-secret", "Bearer ", "code_verifier", "Welkom2026"):
        assert secret not in text


def test_live_diagnosis_lists_findings_with_entries(rt, mapped):
    from tests.support.pages import set_state

    set_state(rt, "Bakkerij De Gouden Korst B.V.", "no_fiscal_year")
    at = open_page(PAGE)
    open_tab(at, "Diagnose a mapping")
    at.button(key="ts_preflight_run").click().run()
    assert not at.exception
    text = all_text(at)
    assert "No problems found" not in text
    assert "The fiscal year has not ben created yet in the portal of Visma." in text  # the finding's entry


def test_live_diagnosis_healthy_mapping(rt, mapped):
    at = open_page(PAGE)
    open_tab(at, "Diagnose a mapping")
    at.button(key="ts_preflight_run").click().run()
    assert not at.exception
    assert "No problems found" in all_text(at)


def test_live_diagnosis_shows_failures_the_check_cannot_see(rt, mapped):
    """The article's 'Ledger' cannot be empty appears only when a voucher is posted: a passing check next to runs that
    keep failing must say so, with the entry that explains them."""
    from core import services
    from tests.support.pages import ACTOR, set_state

    set_state(rt, "Bakkerij De Gouden Korst B.V.", "ledger_empty")
    assert services.send_run(rt, mapped.run_ids[0], actor=ACTOR).status == "failed"
    at = open_page(PAGE)
    open_tab(at, "Diagnose a mapping")
    at.button(key="ts_preflight_run").click().run()
    assert not at.exception
    assert any("refused by Visma when sent" in w.value for w in at.warning)
    assert "Within Visma, one ore more fields General Ledger for Organisation are not added." in all_text(at)


def test_numbered_solution_steps_stay_a_list():
    from ui.entries import solution_markdown

    assert solution_markdown("1. Ask.\n2. Unlock.") == "**Solution:**\n\n1. Ask.\n2. Unlock."
    assert solution_markdown("Deselect the setting 'default company'.") == (
        "**Solution:** Deselect the setting 'default company'.")

"""Accounts page (AppTest): empty and full states; create, authorize, refresh, disconnect, delete (success, failure)."""

from __future__ import annotations

import json

import httpx

from tests.support.apptest import KAPSALON, all_text, authorize, open_page

PAGE = "pages/accounts.py"


def _accounts(app_rt) -> dict:
    from core import services

    return {a.name: a for a in services.list_accounts(app_rt)}


def _table(at):
    return at.dataframe[0].value


def test_empty_state_invites_to_create_an_account(app_env):
    at = open_page(PAGE)
    assert not at.exception
    assert [t.value for t in at.title] == ["Accounts"]
    assert any("No accounts yet" in i.value for i in at.info)
    assert not at.dataframe


def test_create_account_success(app_rt):
    at = open_page(PAGE)
    at.text_input[0].input("Visma Bakkerij")
    at.button(key="FormSubmitter:create_account-Create account").click().run()
    assert not at.exception
    assert not at.error
    assert "Visma Bakkerij" in _accounts(app_rt)
    assert any("created" in t.value for t in at.toast)
    table = _table(at)
    assert list(table["name"]) == ["Visma Bakkerij"]
    assert list(table["status"]) == ["○ Not authorized"]
    assert table["logo"][0].startswith("data:image/svg+xml")  # the grey Visma logo


def test_create_account_failures_are_explained(app_rt):
    from core import services

    services.create_account(app_rt, "Taken", actor="test")
    at = open_page(PAGE)
    at.text_input[0].input("Taken")
    at.button(key="FormSubmitter:create_account-Create account").click().run()
    assert not at.exception
    assert at.error, "a duplicate name is refused with a message"
    assert len(_accounts(app_rt)) == 1
    at.text_input[0].input("   ")
    at.button(key="FormSubmitter:create_account-Create account").click().run()
    assert any("Enter a name" in e.value for e in at.error)


def test_authorize_shows_a_fresh_link_to_visma_login(app_rt, app_env):
    from core import services

    services.create_account(app_rt, "Nieuw", actor="test")
    at = open_page(PAGE)
    assert any("Not authorized yet" in i.value for i in at.info)
    assert not any("Continue to Visma login" in m.value for m in at.markdown)
    at.button(key="authorize").click().run()
    assert not at.exception and not at.error
    link = next(m.value for m in at.markdown if "Continue to Visma login" in m.value)
    assert f'href="{app_env.url}/connect/authorize?' in link
    assert 'target="_self"' in link


def test_full_state_shows_status_company_expiry_and_reason(app_rt, app_env):
    from core import services

    authorize(app_rt, "Bakkerij")
    services.create_account(app_rt, "Wacht", actor="test")
    at = open_page(PAGE)
    assert not at.exception
    table = _table(at).set_index("name")
    assert table.loc["Bakkerij", "status"] == "● Authorized"
    assert table.loc["Bakkerij", "company"] == "Bakkerij De Gouden Korst B.V."
    assert table.loc["Bakkerij", "expires"] is not None and str(table.loc["Bakkerij", "expires"]) != "NaT"
    assert table.loc["Wacht", "status"] == "○ Not authorized"
    assert table.loc["Bakkerij", "logo"] != table.loc["Wacht", "logo"]  # red logo vs grey logo
    # the refresh token's end (authorized_at + 30 days), not the hourly access token's, under "Re-authorize by"
    deadline = _accounts(app_rt)["Bakkerij"].reauthorize_by
    assert table.loc["Bakkerij", "reauthorize_by"] == deadline
    assert str(table.loc["Wacht", "reauthorize_by"]) == "NaT"
    columns = json.loads(at.dataframe[0].proto.columns)
    assert columns["reauthorize_by"]["label"] == "Re-authorize by"
    # the account waiting for authorization is selected first
    assert at.selectbox(key="accounts_selected").value == "Wacht"
    at.selectbox(key="accounts_selected").select("Bakkerij").run()
    assert f"re-authorize by {deadline:%Y-%m-%d %H:%M}" in all_text(at)


def test_refresh_success_and_failure_marks_needs_reauthorization(app_rt, app_env):
    authorize(app_rt, "Bakkerij")
    at = open_page(PAGE)
    at.selectbox(key="accounts_selected").select("Bakkerij").run()
    at.button(key="refresh").click().run()
    assert not at.exception and not at.error
    assert any("refreshed" in t.value for t in at.toast)

    # Visma forgets every token (sandbox reset): the next refresh fails and the account needs re-authorization.
    httpx.post(f"{app_env.url}/_sandbox/reset", timeout=10).raise_for_status()
    at.button(key="refresh").click().run()
    assert not at.exception
    assert at.error
    assert "Cause:" in all_text(at)
    at.run()
    assert _accounts(app_rt)["Bakkerij"].status == "needs_reauthorization"
    assert _table(at).set_index("name").loc["Bakkerij", "status"] == "⚠ Needs re-authorization"
    assert any("needs to be authorized again" in w.value for w in at.warning)
    assert at.button(key="authorize").label == "Re-authorize"


def test_disconnect_confirms_in_a_dialog(app_rt):
    authorize(app_rt, "Bakkerij")
    at = open_page(PAGE)
    at.button(key="disconnect").click().run()
    assert not at.exception
    assert _accounts(app_rt)["Bakkerij"].status == "authorized"  # nothing happens before confirming
    at.button(key="cancel_disconnect").click().run()
    assert _accounts(app_rt)["Bakkerij"].status == "authorized"
    assert not [b for b in at.button if b.key == "confirm_disconnect"]
    at.button(key="disconnect").click().run()
    at.button(key="confirm_disconnect").click().run()
    assert not at.exception and not at.error
    assert _accounts(app_rt)["Bakkerij"].status == "not_authorized"
    assert any("disconnected" in t.value for t in at.toast)
    assert _table(at)["status"][0] == "○ Not authorized"


def test_delete_refused_while_mapped_then_allowed(app_rt):
    from core import services

    authorize(app_rt, "Kapsalon", company=KAPSALON)
    services.seed_demo_payroll(app_rt)
    code = services.list_payroll_companies(app_rt)[0].code
    services.map_company(app_rt, code, "Kapsalon", actor="test", check_chart=False)
    at = open_page(PAGE)
    at.button(key="delete").click().run()
    at.button(key="confirm_delete").click().run()
    assert not at.exception
    assert at.error, "deleting a mapped account is refused with a message"
    assert "Kapsalon" in _accounts(app_rt)
    services.unmap_company(app_rt, code, actor="test")
    at.run()
    at.button(key="confirm_delete").click().run()
    assert not at.error
    assert "Kapsalon" not in _accounts(app_rt)

"""Administrations page (AppTest): empty states, mapping (create, change, warn, remove), the ledger and cost-centre
mapping checked against the live Visma chart, automatic sending and the *Check now* preflight."""

from __future__ import annotations

import pytest

from tests.support.apptest import BAKKERIJ, KAPSALON, all_text, authorize, open_page

PAGE = "pages/administrations.py"
BAKKERIJ_CODE = "BAKKERIJ-DGK"
KAPSALON_CODE = "KAPSALON-KNIPPERLICHT"


def _companies(app_rt) -> dict:
    from core import services

    return {c.code: c for c in services.list_payroll_companies(app_rt)}


@pytest.fixture
def seeded(app_rt):
    from core import services

    services.seed_demo_payroll(app_rt)
    return app_rt


@pytest.fixture
def mapped(seeded):
    """Bakkerij's payroll company mapped to the authorized Bakkerij account."""
    from core import services

    authorize(seeded, "Bakkerij", company=BAKKERIJ)
    services.map_company(seeded, BAKKERIJ_CODE, "Bakkerij", actor="test")
    return seeded


def test_empty_state_without_payroll_companies(app_env):
    at = open_page(PAGE)
    assert not at.exception
    assert [t.value for t in at.title] == ["Administrations"]
    assert any("No payroll companies yet" in i.value for i in at.info)


def test_companies_but_no_authorized_account(seeded):
    at = open_page(PAGE)
    assert not at.exception
    assert len(at.dataframe[0].value) == len(_companies(seeded))
    assert any("No authorized account yet" in i.value for i in at.info)
    assert any("No payroll company is mapped yet" in i.value for i in at.info)


def test_map_a_company_success(seeded):
    authorize(seeded, "Bakkerij", company=BAKKERIJ)
    at = open_page(PAGE)
    at.selectbox(key="map_company").select(BAKKERIJ_CODE)
    at.selectbox(key="map_account").select("Bakkerij")
    at.button(key="save_mapping").click().run()
    assert not at.exception and not at.error
    assert _companies(seeded)[BAKKERIJ_CODE].account_name == "Bakkerij"
    assert any(t.value.startswith("Mapped ") for t in at.toast)
    table = at.dataframe[0].value.set_index("code")
    assert table.loc[BAKKERIJ_CODE, "visma"] == BAKKERIJ
    # the new mapping is selected, with its ledger mapping checked against the live chart
    assert at.selectbox(key="administrations_selected_company").value == BAKKERIJ_CODE
    ledger = at.data_editor(key=f"ledger_editor_{BAKKERIJ_CODE}").value
    assert "4000" in set(ledger["payroll_account"])
    assert set(ledger["check"]) == {"✓ OK"}


def test_map_failure_is_explained(seeded):
    from core import services

    authorize(seeded, "Bakkerij", company=BAKKERIJ)
    services.create_account(seeded, "Nog niet", actor="test")
    at = open_page(PAGE)
    assert at.selectbox(key="map_account").options[-1] == "Nog niet — not authorized"
    at.selectbox(key="map_company").select(BAKKERIJ_CODE)
    at.selectbox(key="map_account").select("Nog niet")
    at.button(key="save_mapping").click().run()
    assert not at.exception
    assert at.error and "not authorized" in at.error[0].value
    assert "Cause:" in all_text(at)
    assert not _companies(seeded)[BAKKERIJ_CODE].account_name
    # An account disconnected by someone else meanwhile: the click is refused with the reason.
    at.selectbox(key="map_account").select("Bakkerij").run()
    services.disconnect_account(seeded, "Bakkerij", actor="test")
    at.button(key="save_mapping").click().run()
    assert at.error and "not authorized" in at.error[0].value
    assert not _companies(seeded)[BAKKERIJ_CODE].account_name


def test_second_mapping_to_the_same_visma_company_warns(mapped):
    authorize(mapped, "Bakkerij 2", company=BAKKERIJ)
    at = open_page(PAGE)
    at.selectbox(key="map_company").select(KAPSALON_CODE)
    at.selectbox(key="map_account").select("Bakkerij 2").run()
    assert any("already receives the journals" in w.value for w in at.warning)
    at.button(key="save_mapping").click().run()
    assert not at.exception and not at.error
    assert any("already the target" in w.value for w in at.warning)  # the service's warning, kept across the rerun
    assert _companies(mapped)[KAPSALON_CODE].account_name == "Bakkerij 2"


def test_change_mapping_to_another_account(mapped):
    authorize(mapped, "Kapsalon", company=KAPSALON)
    at = open_page(PAGE)
    at.selectbox(key="map_company").select(BAKKERIJ_CODE)
    at.selectbox(key="map_account").select("Kapsalon").run()
    assert at.button(key="save_mapping").label == "Change mapping"
    at.button(key="save_mapping").click().run()
    assert not at.error
    assert _companies(mapped)[BAKKERIJ_CODE].visma_company_name == KAPSALON


def test_inactive_account_in_the_ledger_mapping_is_flagged(mapped):
    from core import services

    services.save_ledger_mapping(mapped, BAKKERIJ_CODE, [{"payroll_account": "4000", "visma_account_number": 4990},
                                                        {"payroll_account": "4010", "visma_account_number": 4011}],
                                 actor="test")
    at = open_page(PAGE)
    ledger = at.data_editor(key=f"ledger_editor_{BAKKERIJ_CODE}").value.set_index("payroll_account")
    assert ledger.loc["4000", "check"] == "✗ Inactive in Visma"
    assert ledger.loc["4010", "check"] == "⚠ Unknown in Visma"
    assert any("unknown, inactive or not mapped" in w.value for w in at.warning)
    # Saving keeps the rows (the editor sends them back as they are)
    at.button(key=f"save_ledger_{BAKKERIJ_CODE}").click().run()
    assert not at.error
    rows = {r.payroll_account: r for r in services.ledger_mapping(mapped, BAKKERIJ_CODE, live=False)}
    assert rows["4000"].visma_account_number == 4990


def test_cost_centre_mapping_is_shown_and_checked(mapped):
    at = open_page(PAGE)
    assert not [e for e in at.data_editor if e.key == f"cc_editor_{BAKKERIJ_CODE}"]  # closed tab: not read
    at.session_state["admin_mapping_tab"] = "Cost centres"
    at.run()
    cc = at.data_editor(key=f"cc_editor_{BAKKERIJ_CODE}").value.set_index("payroll_cost_center")
    assert cc.loc["PROD", "visma_cost_center"] == "PROD"
    assert cc.loc["PROD", "check"] == "✓ OK"
    at.button(key=f"save_cc_{BAKKERIJ_CODE}").click().run()
    assert not at.error


def test_automatic_sending_switch(mapped):
    at = open_page(PAGE)
    at.toggle(key=f"auto_send_{BAKKERIJ_CODE}").set_value(True).run()
    assert not at.exception and not at.error
    assert _companies(mapped)[BAKKERIJ_CODE].auto_send is True
    assert any("Automatic sending is on" in t.value for t in at.toast)
    at.toggle(key=f"auto_send_{BAKKERIJ_CODE}").set_value(False).run()
    assert _companies(mapped)[BAKKERIJ_CODE].auto_send is False


def test_check_now_passes_for_a_healthy_company(mapped):
    at = open_page(PAGE)
    at.button(key="check_now").click().run()
    assert not at.exception and not at.error
    assert any("Everything checks out" in s.value for s in at.success)


def test_check_now_links_findings_to_troubleshooting(seeded):
    from core import services

    authorize(seeded, "Kapsalon", company=KAPSALON)
    services.map_company(seeded, KAPSALON_CODE, "Kapsalon", actor="test")
    at = open_page(PAGE)
    at.button(key="check_now").click().run()
    assert not at.exception
    assert at.error, "a company without a fiscal year fails the check"
    links = [p for p in at.get("page_link")]
    assert any("fiscal-year-missing" in str(p.proto) for p in links)


def test_remove_mapping_confirms_in_a_dialog(mapped):
    at = open_page(PAGE)
    at.button(key="unmap").click().run()
    assert _companies(mapped)[BAKKERIJ_CODE].account_name  # not before confirming
    at.button(key="cancel_unmap").click().run()
    assert _companies(mapped)[BAKKERIJ_CODE].account_name
    at.button(key="unmap").click().run()
    at.button(key="confirm_unmap").click().run()
    assert not at.exception and not at.error
    assert not _companies(mapped)[BAKKERIJ_CODE].account_name
    assert any("is removed" in t.value for t in at.toast)
    assert any("No payroll company is mapped yet" in i.value for i in at.info)

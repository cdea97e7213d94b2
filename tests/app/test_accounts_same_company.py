"""Accounts page (AppTest): two accounts authorized for one Visma company get a warning, as two payroll companies
mapped onto one Visma company do on Administrations (issue 12)."""

from __future__ import annotations

from tests.support.apptest import BAKKERIJ, KAPSALON, all_text, authorize, open_page

PAGE = "pages/accounts.py"


def _shared_warnings(at) -> list[str]:
    return [w.value for w in at.warning if "is authorized through" in w.value]


def test_two_accounts_for_one_visma_company_are_warned_about(app_rt):
    from core import services

    authorize(app_rt, "Bakkerij")
    authorize(app_rt, "Bakkerij again")  # the same Visma company under a second name
    authorize(app_rt, "Kapsalon", company=KAPSALON)
    at = open_page(PAGE)
    assert not at.exception
    warnings = _shared_warnings(at)
    assert len(warnings) == 1, warnings
    assert "Bakkerij De Gouden Korst B.V." in warnings[0].replace("\\", "")
    assert "2 accounts: Bakkerij, Bakkerij again" in warnings[0].replace("\\", "")
    assert "Kapsalon" not in warnings[0]
    # the account's own panel names the other account
    at.selectbox(key="accounts_selected").select("Bakkerij again").run()
    assert "is also authorized through account Bakkerij." in all_text(at).replace("\\", "")
    at.selectbox(key="accounts_selected").select("Kapsalon").run()
    assert "is also authorized through" not in all_text(at)

    # the service says the same for the CLI and other callers
    shared = services.shared_company_warnings(services.list_accounts(app_rt))
    assert [(w.visma_company, w.accounts) for w in shared] == [(BAKKERIJ, ("Bakkerij", "Bakkerij again"))]


def test_no_warning_once_the_second_account_is_disconnected(app_rt):
    from core import services

    authorize(app_rt, "Bakkerij")
    authorize(app_rt, "Bakkerij again")
    services.disconnect_account(app_rt, "Bakkerij again", actor="test")
    at = open_page(PAGE)
    assert not at.exception
    assert _shared_warnings(at) == []
    assert services.shared_company_warnings(services.list_accounts(app_rt)) == []

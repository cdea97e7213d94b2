"""Mappings against the live sandbox chart: warnings for a shared Visma company, identity defaults, checks."""

from __future__ import annotations

import pytest

from core.accounts.records import create_account
from core.errors import ServiceError
from core.mappings.companies import map_company, set_auto_send
from core.mappings.ledger import (
    cost_center_mapping,
    ledger_mapping,
    save_cost_center_mapping,
    save_ledger_mapping,
)
from core.payroll.store import list_payroll_companies
from tests.support.export import ACTOR, authorize_for, setup_company, store_demo_runs


def test_mapping_checks_accounts_and_cost_centres_against_visma(rt, sandbox):
    s = setup_company(rt, periods=(1,))
    rows = {r.payroll_account: r for r in ledger_mapping(rt, s.code)}
    assert rows["4000"].visma_account_number == 4000 and rows["4000"].check == "ok"
    assert rows["4000"].visma_account_name == "Brutolonen" and not rows["4000"].explicit
    save_ledger_mapping(rt, s.code, [{"payroll_account": "4200", "visma_account_number": "4990"},
                                     {"payroll_account": "4150", "visma_account_number": 7777},
                                     {"payroll_account": "4000", "visma_account_number": 4000}], actor=ACTOR)
    rows = {r.payroll_account: r for r in ledger_mapping(rt, s.code)}
    assert rows["4200"].check == "inactive" and rows["4150"].check == "unknown"
    assert rows["4000"].explicit is False  # identity rows are the default, not stored
    with pytest.raises(ServiceError):
        save_ledger_mapping(rt, s.code, [{"payroll_account": "4200", "visma_account_number": "vier"}], actor=ACTOR)
    cc = {r.payroll_cost_center: r for r in cost_center_mapping(rt, s.code)}
    assert cc["PROD"].check == "ok" and cc["PROD"].visma_cost_center_short_name == "PROD"
    save_cost_center_mapping(rt, s.code, [{"payroll_cost_center": "VERK", "visma_cost_center": "LOG"}], actor=ACTOR)
    cc = {r.payroll_cost_center: r for r in cost_center_mapping(rt, s.code)}
    assert cc["VERK"].check == "inactive" and cc["VERK"].explicit
    assert set_auto_send(rt, s.code, True, actor=ACTOR).auto_send is True
    assert list_payroll_companies(rt)[0].auto_send is True


def test_second_company_on_the_same_visma_company_is_warned_and_unauthorized_refused(rt, sandbox):
    setup_company(rt, "BAKKERIJ-DGK", periods=(1,), account_name="bakkerij")
    store_demo_runs(rt, "HOVENIER-GROEN", (1,))
    result = map_company(rt, "HOVENIER-GROEN", "bakkerij", actor=ACTOR)
    assert result.warnings and "BAKKERIJ-DGK" in result.warnings[0]
    create_account(rt, "not-yet", actor=ACTOR)
    with pytest.raises(ServiceError) as err:
        map_company(rt, "HOVENIER-GROEN", "not-yet", actor=ACTOR)
    assert err.value.entry_id == "account-not-authorized"
    authorize_for(rt, "Drukkerij Smit & Co B.V.", "drukkerij")
    store_demo_runs(rt, "DRUKKERIJ-SMIT", (1,))
    warned = map_company(rt, "DRUKKERIJ-SMIT", "drukkerij", actor=ACTOR)  # API module off: the chart can't be read
    assert any("could not be read" in w for w in warned.warnings)


def test_cost_centre_mapping_flags_a_cost_centre_visma_does_not_have(rt, sandbox):
    s = setup_company(rt, periods=(1,))
    save_cost_center_mapping(rt, s.code, [{"payroll_cost_center": "VERK", "visma_cost_center": "MARKETING"}],
                             actor=ACTOR)
    cc = {r.payroll_cost_center: r for r in cost_center_mapping(rt, s.code)}
    assert cc["VERK"].check == "unknown" and cc["PROD"].check == "ok"

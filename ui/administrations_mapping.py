"""Administrations page, one mapping's tabs: the ledger-account and cost-centre mappings, editable and checked
against the live Visma chart."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core import services
from ui.feedback import try_service
from ui.frame import actor

CHECK_LABELS = {
    "ok": "✓ OK",
    "unknown": "⚠ Unknown in Visma",
    "inactive": "✗ Inactive in Visma",
    "unmapped": "✎ Not mapped",
    "unchecked": "? Not checked (Visma unreachable)",
}


# Live Visma look-ups (chart of accounts, cost centres) are cached briefly so reruns stay cheap.
@st.cache_data(ttl=60, show_spinner="Checking against Visma…")
def ledger_rows(_rt, company_code: str) -> list[services.LedgerMappingRow]:
    return services.ledger_mapping(_rt, company_code)


@st.cache_data(ttl=60, show_spinner="Checking against Visma…")
def cost_center_rows(_rt, company_code: str) -> list[services.CostCenterMappingRow]:
    return services.cost_center_mapping(_rt, company_code)


def _check_column(rows: list[services.LedgerMappingRow] | list[services.CostCenterMappingRow]) -> list[str]:
    return [CHECK_LABELS.get(r.check, r.check or "") for r in rows]


def _ledger_frame(rows: list[services.LedgerMappingRow]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "payroll_account": [r.payroll_account for r in rows],
            "components": [r.components or "" for r in rows],
            "visma_account_number": pd.array([r.visma_account_number for r in rows], dtype="Int64"),
            "visma_account_name": [r.visma_account_name or "" for r in rows],
            "check": _check_column(rows),
        }
    )


@st.fragment
def ledger_editor(rt, company_code: str) -> None:
    """The payroll → Visma account mapping, editable; reruns alone so editing does not reload the page."""
    ok, rows = try_service(ledger_rows, rt, company_code)
    if not ok:
        return
    if not rows:
        st.info("No journal lines yet: the ledger mapping lists the accounts of this company's runs.")
        return
    bad = [r for r in rows if r.check in ("unknown", "inactive", "unmapped")]
    if bad:
        st.warning(
            f"{services.count(len(bad), 'payroll account')} {'is' if len(bad) == 1 else 'are'} unknown, inactive or "
            "not mapped in Visma; a run using them will be refused. Map them to an active Visma account below.",
            icon=":material/warning:",
        )
    edited = st.data_editor(
        _ledger_frame(rows),
        hide_index=True,
        width="stretch",
        key=f"ledger_editor_{company_code}",
        disabled=["payroll_account", "components", "visma_account_name", "check"],
        column_config={
            "payroll_account": st.column_config.TextColumn("Payroll account"),
            "components": st.column_config.TextColumn("Components", width="large"),
            "visma_account_number": st.column_config.NumberColumn("Visma account", min_value=1, max_value=99999,
                                                                  step=1, format="%d"),
            "visma_account_name": st.column_config.TextColumn("Visma name"),
            "check": st.column_config.TextColumn("Check"),
        },
    )
    if st.button("Save ledger mapping", type="primary", key=f"save_ledger_{company_code}"):
        new_rows = [
            {"payroll_account": r["payroll_account"],
             "visma_account_number": None if pd.isna(r["visma_account_number"]) else int(r["visma_account_number"])}
            for r in edited.to_dict("records")
        ]
        new_rows = [r for r in new_rows if r["visma_account_number"] is not None]  # left empty: stays unmapped
        ok, _ = try_service(services.save_ledger_mapping, rt, company_code, new_rows, actor=actor())
        if ok:
            ledger_rows.clear()
            st.toast("Ledger mapping saved.", icon=":material/check_circle:")
            st.rerun(scope="fragment")


@st.fragment
def cost_center_editor(rt, company_code: str) -> None:
    """Payroll cost centres → Visma cost-centre items (by short name), checked against the live list."""
    ok, rows = try_service(cost_center_rows, rt, company_code)
    if not ok:
        return
    if not rows:
        st.info("This company's runs use no cost centres.")
        return
    frame = pd.DataFrame(
        {
            "payroll_cost_center": [r.payroll_cost_center for r in rows],
            "visma_cost_center": [r.visma_cost_center_short_name or r.visma_cost_center_item_id or "" for r in rows],
            "visma_cost_center_name": [r.visma_cost_center_name or "" for r in rows],
            "check": _check_column(rows),
        }
    )
    edited = st.data_editor(
        frame,
        hide_index=True,
        width="stretch",
        key=f"cc_editor_{company_code}",
        disabled=["payroll_cost_center", "visma_cost_center_name", "check"],
        column_config={
            "payroll_cost_center": st.column_config.TextColumn("Payroll cost centre"),
            "visma_cost_center": st.column_config.TextColumn(
                "Visma cost centre", help="The short name of the Visma cost-centre item, e.g. PROD."),
            "visma_cost_center_name": st.column_config.TextColumn("Visma name"),
            "check": st.column_config.TextColumn("Check"),
        },
    )
    if st.button("Save cost-centre mapping", type="primary", key=f"save_cc_{company_code}"):
        new_rows = [{"payroll_cost_center": r["payroll_cost_center"], "visma_cost_center": r["visma_cost_center"]}
                    for r in edited.to_dict("records") if str(r["visma_cost_center"] or "").strip()]
        ok, _ = try_service(services.save_cost_center_mapping, rt, company_code, new_rows, actor=actor())
        if ok:
            cost_center_rows.clear()
            st.toast("Cost-centre mapping saved.", icon=":material/check_circle:")
            st.rerun(scope="fragment")


def mapping_tabs(rt, company_code: str) -> None:
    """The ledger and cost-centre tabs; only the open tab runs, as each one reads the live Visma chart."""
    ledger_tab, cc_tab = st.tabs(["Ledger accounts", "Cost centres"], key="admin_mapping_tab", on_change="rerun")
    if ledger_tab.open is None or ledger_tab.open:
        with ledger_tab:
            ledger_editor(rt, company_code)
    if cc_tab.open:
        with cc_tab:
            cost_center_editor(rt, company_code)

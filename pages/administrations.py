"""Administrations: which payroll company posts into which Visma company, and how its ledger maps there.

One payroll company per authorized account (the article: "It's only possible to map one company at a time"); a Visma
company that already receives another payroll company's journals is mapped only after a warning. Per mapping: the
ledger and cost-centre mapping checked against the live Visma chart, automatic sending, and a *Check now* preflight.
The page's parts live in `ui/administrations_companies.py` (table, map form, one mapped company) and
`ui/administrations_mapping.py` (the ledger and cost-centre tabs).
"""

from __future__ import annotations

import streamlit as st

from ui.administrations_companies import companies_table, confirm_unmap, map_form, mapped_company_panel
from ui.administrations_mapping import mapping_tabs
from ui.feedback import service_call
from ui.frame import DEMO_PAGE, JOURNAL_EXPORT_PAGE, StateKeys, get_runtime, pending_dialog
from ui.reads import cached_accounts, cached_companies

rt = get_runtime()

st.title("Administrations")
st.caption(
    "Map each payroll company to the Visma company of an authorized account. One company per authorization: to map "
    "several companies with the same Visma login, authorize that login once per company on Accounts."
)

# Cached plain reads (cleared by data_changed() after every action), so a rerun of this page at a bureau's size does
# not list 2,000 companies and accounts again.
companies = service_call(cached_companies, rt, rt.settings.database_url)
accounts = service_call(cached_accounts, rt, rt.settings.database_url)
if companies is None or accounts is None:
    st.stop()

if not companies:
    st.info(
        "No payroll companies yet. They appear here when payroll runs are imported on Journal Export"
        + (" or when the demo data is loaded on the Demo page." if rt.settings.demo_mode else "."),
        icon=":material/domain_add:",
    )
    if rt.settings.demo_mode:
        st.page_link(DEMO_PAGE, label="Load the demo data on the Demo page", icon=":material/science:")
    st.page_link(JOURNAL_EXPORT_PAGE, label="Import a journal file on Journal Export", icon=":material/arrow_forward:")
    st.stop()

companies_table(companies)
map_form(rt, companies, accounts)

# ------------------------------------------------------------------------------------------------ one mapping

st.subheader("Mapped companies")
mapped_by_code = {c.code: c for c in companies if c.account_name}
if not mapped_by_code:
    st.info("No payroll company is mapped yet.", icon=":material/link_off:")
    st.stop()

if st.session_state.get(StateKeys.SELECTED_COMPANY) not in mapped_by_code:
    st.session_state[StateKeys.SELECTED_COMPANY] = next(iter(mapped_by_code))
code = st.selectbox("Mapped company", list(mapped_by_code), key=StateKeys.SELECTED_COMPANY,
                    format_func=lambda c: f"{mapped_by_code[c].name} ({c})")
company = mapped_by_code[code]
mapped_company_panel(rt, company, next((a for a in accounts if a.name == company.account_name), None))
mapping_tabs(rt, code)

if pending := pending_dialog("unmap_company"):
    confirm_unmap(rt, next(c for c in companies if c.code == pending[1]["code"]))

"""Administrations: which payroll company posts into which Visma company, and how its ledger maps there.

One payroll company per authorized account (the article: "It's only possible to map one company at a time"); a Visma
company that already receives another payroll company's journals is mapped only after a warning. Per mapping: the
ledger and cost-centre mapping checked against the live Visma chart, automatic sending, and a *Check now* preflight.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core import services
from ui.entries import show_failed_sends, troubleshooting_link
from ui.feedback import flash, service_call, try_service
from ui.frame import (
    ACCOUNTS_PAGE,
    DEMO_PAGE,
    JOURNAL_EXPORT_PAGE,
    StateKeys,
    actor,
    close_dialog,
    data_changed,
    get_runtime,
    open_dialog,
    pending_dialog,
)
from ui.reads import cached_accounts, cached_companies
from ui.status import account_badge

CHECK_LABELS = {
    "ok": "✓ OK",
    "unknown": "⚠ Unknown in Visma",
    "inactive": "✗ Inactive in Visma",
    "unmapped": "✎ Not mapped",
    "unchecked": "? Not checked (Visma unreachable)",
}
SEVERITY_BOX = {"error": st.error, "warning": st.warning, "info": st.info}

rt = get_runtime()

st.title("Administrations")
st.caption(
    "Map each payroll company to the Visma company of an authorized account. One company per authorization: to map "
    "several companies with the same Visma login, authorize that login once per company on Accounts."
)


# Live Visma look-ups (chart of accounts, cost centres) are cached briefly so reruns stay cheap.
@st.cache_data(ttl=60, show_spinner="Checking against Visma…")
def ledger_rows(_rt, company_code: str) -> list[dict]:
    return services.ledger_mapping(_rt, company_code)


@st.cache_data(ttl=60, show_spinner="Checking against Visma…")
def cost_center_rows(_rt, company_code: str) -> list[dict]:
    return services.cost_center_mapping(_rt, company_code)


def forget_live_lookups() -> None:
    """After a mapping change: every cached read (these look-ups and other pages' lists) is out of date."""
    data_changed()


# ------------------------------------------------------------------------------------------------------- dialogs


@st.dialog("Remove mapping", on_dismiss=close_dialog)
def confirm_unmap(code: str) -> None:
    company = next(c for c in companies if c["code"] == code)
    st.markdown(
        f"Remove the mapping of **{company['name']}** to **{company['visma_company_name']}** "
        f"(account {company['account_name']})? Its ledger and cost-centre mapping are removed too; runs already "
        "sent stay sent."
    )
    left, right = st.columns(2)
    if left.button("Remove mapping", type="primary", key="confirm_unmap", width="stretch"):
        ok, _ = try_service(services.unmap_company, rt, company["code"], actor=actor())
        if ok:
            close_dialog()
            forget_live_lookups()
            st.session_state.get(StateKeys.PREFLIGHT, {}).pop(company["code"], None)
            flash(f"The mapping of {company['name']} is removed.", "toast")
            st.rerun()
    if right.button("Cancel", key="cancel_unmap", width="stretch"):
        close_dialog()
        st.rerun()


def show_findings(findings: list[dict]) -> None:
    """The preflight result: problems first, each linked to its troubleshooting entry; then what passed."""
    problems = [f for f in findings if f.get("severity") in ("error", "warning")]
    passed = [f for f in findings if f not in problems]
    if not problems:
        st.success("Everything checks out: the connection, fiscal years, accounts and cost centres are ready for "
                   "this company's runs.", icon=":material/check:")
    for finding in problems:
        detail = f"\n\n{finding['detail']}" if finding.get("detail") else ""
        SEVERITY_BOX[finding["severity"]](f"{finding.get('message', '')}{detail}")
        if finding.get("entry_id"):
            troubleshooting_link(finding["entry_id"], label="How to fix it")
    if passed:
        with st.expander(f"{len(passed)} check(s) passed", icon=":material/check_circle:"):
            st.markdown("\n".join(f"- {f.get('message', '')}" for f in passed))


# ------------------------------------------------------------------------------------------------------- data

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

authorized = [a for a in accounts if a["status"] == "authorized"]
accounts_by_name = {a["name"]: a for a in accounts}
mapped = [c for c in companies if c.get("account_name")]

table = pd.DataFrame(
    {
        "code": [c["code"] for c in companies],
        "name": [c["name"] for c in companies],
        "account": [c.get("account_name") or "—" for c in companies],
        "visma": [c.get("visma_company_name") or ("(not mapped)" if not c.get("account_name") else "—")
                  for c in companies],
        "auto": [bool(c.get("auto_send")) for c in companies],
        "not_sent": [c.get("runs_not_sent", 0) for c in companies],
        "failed": [c.get("runs_failed", 0) for c in companies],
    }
)
st.dataframe(
    table,
    hide_index=True,
    width="stretch",
    key="companies_table",
    column_order=("name", "code", "visma", "account", "failed", "not_sent", "auto"),
    column_config={
        "code": st.column_config.TextColumn("Code", width="small"),
        "name": st.column_config.TextColumn("Payroll company", pinned=True),
        "account": st.column_config.TextColumn("Account"),
        "visma": st.column_config.TextColumn("Visma company"),
        "auto": st.column_config.CheckboxColumn("Auto-send", width="small",
                                                help="Runs are sent automatically as soon as they are processed."),
        "not_sent": st.column_config.NumberColumn("Not sent", width="small"),
        "failed": st.column_config.NumberColumn("Failed", width="small"),
    },
)

# ---------------------------------------------------------------------------------------------- map or change

st.subheader("Map a payroll company")
if not authorized:
    st.info("No authorized account yet. Authorize one on Accounts first.", icon=":material/key:")
    st.page_link(ACCOUNTS_PAGE, label="Go to Accounts", icon=":material/arrow_forward:")
if accounts:
    # Option labels stay the same when a mapping changes (a selectbox keeps showing the label it was given).
    company_labels = {c["code"]: f"{c['name']} ({c['code']})" for c in companies}
    # Authorized accounts first; the others are listed so nobody wonders where their account went.
    account_names = [a["name"] for a in authorized] + [a["name"] for a in accounts if a not in authorized]

    def account_label(name: str) -> str:
        a = accounts_by_name[name]
        if a["status"] != "authorized":
            return f"{name} — not authorized"
        return f"{name} → {a.get('visma_company_name') or '?'}"

    with st.container(border=True):
        left, right = st.columns(2)
        code = left.selectbox("Payroll company", [c["code"] for c in companies],
                              format_func=company_labels.get, key="map_company")
        account_name = right.selectbox("Visma account", account_names, format_func=account_label,
                                       key="map_account")
        company = next(c for c in companies if c["code"] == code)
        target = accounts_by_name[account_name]
        others = [c for c in mapped if c["code"] != code and c.get("visma_company_id")
                  and c.get("visma_company_id") == target.get("visma_company_id")]
        if others:
            st.warning(
                f"{target.get('visma_company_name')} already receives the journals of "
                f"{', '.join(c['name'] for c in others)}. Map it only if both payroll companies really post into "
                "the same Visma administration.",
                icon=":material/warning:",
            )
        if company.get("account_name") == account_name:
            st.caption(f"{company['name']} is mapped to this account.")
        elif company.get("account_name"):
            st.caption(f"{company['name']} is now mapped to account {company['account_name']} "
                       f"({company.get('visma_company_name') or '?'}).")
        else:
            st.caption(f"{company['name']} is not mapped yet.")
        elsewhere = [m for m in target.get("mapped_companies") or [] if m not in (code, company["name"])]
        if elsewhere and target["status"] == "authorized":
            st.caption(f"Account {account_name} already maps: {', '.join(elsewhere)}")
        action = "Change mapping" if company.get("account_name") else "Save mapping"
        if st.button(action, type="primary", icon=":material/link:", key="save_mapping",
                     disabled=company.get("account_name") == account_name):
            ok, result = try_service(services.map_company, rt, code, account_name, actor=actor())
            if ok:
                forget_live_lookups()
                flash(f"Mapped {company['name']} → {target.get('visma_company_name') or account_name}", "toast")
                for warning in (result or {}).get("warnings") or []:
                    flash(warning, "warning")
                st.session_state[StateKeys.SELECTED_COMPANY] = code
                st.rerun()

# ------------------------------------------------------------------------------------------------ one mapping

st.subheader("Mapped companies")
if not mapped:
    st.info("No payroll company is mapped yet.", icon=":material/link_off:")
    st.stop()

mapped_codes = [c["code"] for c in mapped]
if st.session_state.get(StateKeys.SELECTED_COMPANY) not in mapped_codes:
    st.session_state[StateKeys.SELECTED_COMPANY] = mapped_codes[0]
mapped_by_code = {c["code"]: c for c in mapped}
code = st.selectbox("Mapped company", mapped_codes, key=StateKeys.SELECTED_COMPANY,
                    format_func=lambda c: f"{mapped_by_code[c]['name']} ({c})")
company = mapped_by_code[code]
account = accounts_by_name.get(company["account_name"], {})

with st.container(border=True):
    st.markdown(
        f"**{company['name']}** → **{company.get('visma_company_name') or '?'}** "
        f"(account {company['account_name']}) &nbsp; {account_badge(account.get('status', 'not_authorized'))}"
    )
    cols = st.columns([2, 1, 1], vertical_alignment="center")
    auto = cols[0].toggle(
        "Automatic sending", value=bool(company.get("auto_send")), key=f"auto_send_{code}",
        help="Send each processed run to Visma as soon as it arrives (the worker does this).",
    )
    if auto != bool(company.get("auto_send")):
        ok, _ = try_service(services.set_auto_send, rt, code, auto, actor=actor())
        if ok:
            data_changed()
            flash(f"Automatic sending is {'on' if auto else 'off'} for {company['name']}.", "toast")
            st.rerun()
    if cols[1].button("Check now", icon=":material/fact_check:", key="check_now", width="stretch"):
        findings = service_call(services.preflight_company, rt, code)
        if findings is not None:
            st.session_state.setdefault(StateKeys.PREFLIGHT, {})[code] = findings
    if cols[2].button("Remove mapping", icon=":material/link_off:", key="unmap", width="stretch"):
        open_dialog("unmap_company", code=code)

    findings = st.session_state.get(StateKeys.PREFLIGHT, {}).get(code)
    if findings is not None:
        show_findings(findings)
        show_failed_sends(rt, code, findings)


def _check_column(rows: list[dict]) -> list[str]:
    return [CHECK_LABELS.get(r.get("check"), r.get("check") or "") for r in rows]


@st.fragment
def ledger_editor(company_code: str) -> None:
    """The payroll → Visma account mapping, editable; reruns alone so editing does not reload the page."""
    ok, rows = try_service(ledger_rows, rt, company_code)
    if not ok:
        return
    if not rows:
        st.info("No journal lines yet: the ledger mapping lists the accounts of this company's runs.")
        return
    frame = pd.DataFrame(
        {
            "payroll_account": [r["payroll_account"] for r in rows],
            "components": [r.get("components") or "" for r in rows],
            "visma_account_number": pd.array([r.get("visma_account_number") for r in rows], dtype="Int64"),
            "visma_account_name": [r.get("visma_account_name") or "" for r in rows],
            "check": _check_column(rows),
        }
    )
    bad = [r for r in rows if r.get("check") in ("unknown", "inactive", "unmapped")]
    if bad:
        st.warning(
            f"{len(bad)} payroll account(s) are unknown, inactive or not mapped in Visma; a run using them will be "
            "refused. Map them to an active Visma account below.",
            icon=":material/warning:",
        )
    edited = st.data_editor(
        frame,
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
def cost_center_editor(company_code: str) -> None:
    """Payroll cost centres → Visma cost-centre items (by short name), checked against the live list."""
    ok, rows = try_service(cost_center_rows, rt, company_code)
    if not ok:
        return
    if not rows:
        st.info("This company's runs use no cost centres.")
        return
    frame = pd.DataFrame(
        {
            "payroll_cost_center": [r["payroll_cost_center"] for r in rows],
            "visma_cost_center": [r.get("visma_cost_center_short_name") or r.get("visma_cost_center_item_id") or ""
                                  for r in rows],
            "visma_cost_center_name": [r.get("visma_cost_center_name") or "" for r in rows],
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


# Only the open tab runs: each one reads the live Visma chart.
ledger_tab, cc_tab = st.tabs(["Ledger accounts", "Cost centres"], key="admin_mapping_tab", on_change="rerun")
if ledger_tab.open is None or ledger_tab.open:
    with ledger_tab:
        ledger_editor(code)
if cc_tab.open:
    with cc_tab:
        cost_center_editor(code)

if pending_dialog("unmap_company"):
    confirm_unmap(**pending_dialog("unmap_company")[1])

"""Administrations page, the company side: the table of payroll companies, the *Map a payroll company* form, and the
panel of one mapped company (automatic sending, *Check now*, removing the mapping)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core import services
from ui.entries import show_failed_sends, troubleshooting_link
from ui.feedback import flash, service_call, try_service
from ui.frame import ACCOUNTS_PAGE, StateKeys, actor, close_dialog, data_changed, open_dialog
from ui.status import account_badge
from ui.text import plain

SEVERITY_BOX = {"error": st.error, "warning": st.warning, "info": st.info}


def companies_table(companies: list[services.CompanyView]) -> None:
    table = pd.DataFrame(
        {
            "code": [c.code for c in companies],
            "name": [c.name for c in companies],
            "account": [c.account_name or "—" for c in companies],
            "visma": [c.visma_company_name or ("(not mapped)" if not c.account_name else "—") for c in companies],
            "auto": [c.auto_send for c in companies],
            "not_sent": [c.runs_not_sent for c in companies],
            "failed": [c.runs_failed for c in companies],
        }
    )
    st.dataframe(
        table,
        hide_index=True,
        width="stretch",
        key="companies_table",
        column_order=("name", "code", "visma", "account", "failed", "not_sent", "auto"),
        column_config={
            # pixel widths: the whole table fits the main area of a 1400-pixel window
            "code": st.column_config.TextColumn("Code", width=135),
            "name": st.column_config.TextColumn("Payroll company", pinned=True, width=195),
            "account": st.column_config.TextColumn("Account", width=180),
            "visma": st.column_config.TextColumn("Visma company", width=180),
            "auto": st.column_config.CheckboxColumn("Auto-send", width=80,
                                                    help="Runs are sent automatically as soon as they are processed."),
            "not_sent": st.column_config.NumberColumn("Not sent", width=70),
            "failed": st.column_config.NumberColumn("Failed", width=60),
        },
    )


def _account_names(accounts: list[services.AccountView]) -> list[str]:
    """Authorized accounts first; the others are listed so nobody wonders where their account went."""
    # two passes over the list (a membership test in a list of views was quadratic: 1 s at 10,000 accounts)
    return ([a.name for a in accounts if a.status == "authorized"]
            + [a.name for a in accounts if a.status != "authorized"])


def _mapping_notes(company: services.CompanyView, target: services.AccountView, account_name: str,
                   mapped: list[services.CompanyView]) -> None:
    """What mapping this company to that account would mean: a shared target, its current mapping."""
    others = [c for c in mapped if c.code != company.code and c.visma_company_id
              and c.visma_company_id == target.visma_company_id]
    if others:
        st.warning(
            f"{plain(target.visma_company_name)} already receives the journals of "
            f"{plain(', '.join(c.name for c in others))}. Map it only if both payroll companies really post into "
            "the same Visma administration.",
            icon=":material/warning:",
        )
    if company.account_name == account_name:
        st.caption(f"{plain(company.name)} is mapped to this account.")
    elif company.account_name:
        st.caption(f"{plain(company.name)} is now mapped to account {plain(company.account_name)} "
                   f"({plain(company.visma_company_name or '?')}).")
    else:
        st.caption(f"{plain(company.name)} is not mapped yet.")
    elsewhere = [m for m in target.mapped_companies if m not in (company.code, company.name)]
    if elsewhere and target.status == "authorized":
        st.caption(f"Account {plain(account_name)} already maps: {plain(', '.join(elsewhere))}")


def map_form(rt, companies: list[services.CompanyView], accounts: list[services.AccountView]) -> None:
    """Pick a payroll company and an account; save (or change) the mapping."""
    st.subheader("Map a payroll company")
    if not any(a.status == "authorized" for a in accounts):
        st.info("No authorized account yet. Authorize one on Accounts first.", icon=":material/key:")
        st.page_link(ACCOUNTS_PAGE, label="Go to Accounts", icon=":material/arrow_forward:")
    if not accounts:
        return
    accounts_by_name = {a.name: a for a in accounts}
    # Option labels stay the same when a mapping changes (a selectbox keeps showing the label it was given).
    company_labels = {c.code: f"{c.name} ({c.code})" for c in companies}

    def account_label(name: str) -> str:
        a = accounts_by_name[name]
        if a.status != "authorized":
            return f"{name} — not authorized"
        return f"{name} → {a.visma_company_name or '?'}"

    with st.container(border=True):
        left, right = st.columns(2)
        code = left.selectbox("Payroll company", [c.code for c in companies],
                              format_func=company_labels.get, key="map_company")
        account_name = right.selectbox("Visma account", _account_names(accounts), format_func=account_label,
                                       key="map_account")
        company = next(c for c in companies if c.code == code)
        target = accounts_by_name[account_name]
        _mapping_notes(company, target, account_name, [c for c in companies if c.account_name])
        action = "Change mapping" if company.account_name else "Save mapping"
        if st.button(action, type="primary", icon=":material/link:", key="save_mapping",
                     disabled=company.account_name == account_name):
            ok, result = try_service(services.map_company, rt, code, account_name, actor=actor())
            if ok:
                data_changed()
                flash(f"Mapped {plain(company.name)} → {plain(target.visma_company_name or account_name)}", "toast")
                for warning in result.warnings:
                    flash(warning, "warning")
                st.session_state[StateKeys.SELECTED_COMPANY] = code
                st.session_state["last_company"] = code  # Journal Export opens on the company just mapped
                st.session_state.pop("je_company", None)
                st.rerun()


@st.dialog("Remove mapping", on_dismiss=close_dialog)
def confirm_unmap(rt, company: services.CompanyView) -> None:
    st.markdown(
        f"Remove the mapping of **{plain(company.name)}** to **{plain(company.visma_company_name)}** "
        f"(account {plain(company.account_name)})? Its ledger and cost-centre mapping are removed too; runs already "
        "sent stay sent."
    )
    left, right = st.columns(2)
    if left.button("Remove mapping", type="primary", key="confirm_unmap", width="stretch"):
        ok, _ = try_service(services.unmap_company, rt, company.code, actor=actor())
        if ok:
            close_dialog()
            data_changed()
            st.session_state.get(StateKeys.PREFLIGHT, {}).pop(company.code, None)
            flash(f"The mapping of {plain(company.name)} is removed.", "toast")
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
        detail = f"\n\n{plain(finding['detail'])}" if finding.get("detail") else ""
        SEVERITY_BOX[finding["severity"]](f"{plain(finding.get('message', ''))}{detail}")
        if finding.get("entry_id"):
            sure = services.entry_confidence(finding["entry_id"], " ".join(
                str(finding.get(k) or "") for k in ("message", "detail")))
            if sure:  # how sure the catalogue is, in the words the Troubleshooting page uses
                st.caption(f"{sure.level.capitalize()} confidence" + (f": {plain(sure.note)}" if sure.note else ""),
                           help=sure.meaning)
            troubleshooting_link(finding["entry_id"], label="How to fix it")
    if passed:
        with st.expander(f"{services.count(len(passed), 'check')} passed", icon=":material/check_circle:"):
            st.markdown("\n".join(f"- {plain(f.get('message', ''))}" for f in passed))


def mapped_company_panel(rt, company: services.CompanyView, account: services.AccountView | None) -> None:
    """One mapped company: where it posts, automatic sending, *Check now* and *Remove mapping*."""
    code = company.code
    with st.container(border=True):
        status = account.status if account else "not_authorized"
        st.markdown(
            f"**{plain(company.name)}** → **{plain(company.visma_company_name or '?')}** "
            f"(account {plain(company.account_name)}) &nbsp; {account_badge(status)}"
        )
        cols = st.columns([2, 1, 1], vertical_alignment="center")
        auto = cols[0].toggle(
            "Automatic sending", value=company.auto_send, key=f"auto_send_{code}",
            help="Send each processed run to Visma as soon as it arrives (the worker does this).",
        )
        if auto != company.auto_send:
            ok, _ = try_service(services.set_auto_send, rt, code, auto, actor=actor())
            if ok:
                data_changed()
                flash(f"Automatic sending is {'on' if auto else 'off'} for {plain(company.name)}.", "toast")
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

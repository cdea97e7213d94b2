"""The Journal Export's Import tab: a journal file in, and the report of what was imported or what to fix."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core import services
from ui.feedback import service_call
from ui.frame import actor, data_changed
from ui.reads import cached_companies, db_key
from ui.text import plain

IMPORT_REPORT_KEY = "je_import_report"


def _known_codes(companies: list[services.CompanyView]) -> str:
    shown = ", ".join(f"{plain(c.code)} ({plain(c.name)})" for c in companies[:8])
    return shown + (f" and {len(companies) - 8} more" if len(companies) > 8 else "")


def _company_label(rt, code: str) -> str:
    """The company the file went into as users know it: its name with its code (the code alone when unknown)."""
    companies = service_call(cached_companies, rt, db_key(rt)) or []
    name = next((c.name for c in companies if c.code == code), None)
    return f"{name} ({code})" if name and name != code else code


def import_tab(rt, company: services.CompanyView | None) -> None:
    """The import form. The company code starts empty on purpose: the file does not name its company, and the
    company picked above the tabs (``company``, which the user may have moved since) must never be taken silently."""
    st.caption("The payroll system's journal report as CSV or Excel, one line per ledger account (and cost "
               "centre). Required columns: **Period, Year, Run, GeneralLedgerAccount, ComponentName, Debit, "
               "Credit**; optional: EmployeeName, Department, CostCenter, CostUnit, Percentage. Every row is "
               "checked; a file with any bad row imports nothing, and the report below lists each row to fix.")
    with st.form("je_import_form"):
        upload = st.file_uploader("Journal file", type=["csv", "xlsx"], key="je_import_file")
        c1, c2 = st.columns(2)
        example = company.code if company else "BAKKERIJ-VDM"
        known = (service_call(cached_companies, rt, db_key(rt)) or []) if company else []
        target = c1.text_input(
            "Company code", value="", key="je_import_code",
            placeholder=f"The code of the company this file belongs to, e.g. {example}",
            help="The payroll system's company code; a new code creates the company. The file itself does not say "
                 "which company it is for, so type it each time."
                 + (f" Known companies: {_known_codes(known)}." if known else ""),
        )
        new_name = c2.text_input("Company name (for a new company)", key="je_import_name")
        submitted = st.form_submit_button("Import", type="primary", icon=":material/upload:")
    if submitted:
        if upload is None or not target.strip():
            st.error("Choose a file and give the company code.")
        else:
            report = service_call(services.import_journal_file, rt, target.strip(), upload.name,
                                  upload.getvalue(), actor=actor(), company_name=new_name.strip() or None)
            if report is not None:
                data_changed()
                st.session_state[IMPORT_REPORT_KEY] = (upload.name, report, _company_label(rt, report.company))
    stored = st.session_state.get(IMPORT_REPORT_KEY)
    if stored:
        _report(*stored)


def _report(name: str, report: services.ImportView, company: str | None = None) -> None:
    imported, errors = report.imported, report.errors
    into = plain(company or report.company)
    if imported:
        st.success(f"{plain(name)}: imported {services.count(len(imported), 'run')} into **{into}**: "
                   + ", ".join(map(str, imported)), icon=":material/task_alt:")
        for note in report.notes:
            st.caption(f"Note: {plain(note)}")
    if errors:
        st.error(f"{plain(name)}: nothing was imported into **{into}** — "
                 f"{services.count(len(errors), 'problem')} to fix in the file. Correct them and import the file "
                 "again.", icon=":material/error:")
        report_rows = pd.DataFrame(
            {
                # a spreadsheet's own row numbers (header included); 0 or none: the file or a whole run
                "row": [f"Row {e.row}" if e.row else "Whole file" for e in errors],
                "column": [e.column or "—" for e in errors],
                "message": [e.message for e in errors],
            }
        )
        st.dataframe(report_rows, hide_index=True, width="stretch",
                     column_config={"row": st.column_config.TextColumn("Where", width="small"),
                                    "column": st.column_config.TextColumn("Column", width="small"),
                                    "message": st.column_config.TextColumn("What is wrong", width="large")})
    if not imported and not errors:
        st.info(f"{plain(name)}: nothing new to import into **{into}** (every run in it exists already).")

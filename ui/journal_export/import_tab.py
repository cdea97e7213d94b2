"""The Journal Export's Import tab: a journal file in, and the report of what was imported or what to fix."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core import services
from ui.feedback import service_call
from ui.frame import actor, data_changed
from ui.text import plain

IMPORT_REPORT_KEY = "je_import_report"


def import_tab(rt, company: services.CompanyView | None) -> None:
    st.caption("The payroll system's journal report as CSV or Excel, one line per ledger account (and cost "
               "centre). Required columns: **Period, Year, Run, GeneralLedgerAccount, ComponentName, Debit, "
               "Credit**; optional: EmployeeName, Department, CostCenter, CostUnit, Percentage. Every row is "
               "checked; a file with any bad row imports nothing, and the report below lists each row to fix.")
    with st.form("je_import_form"):
        upload = st.file_uploader("Journal file", type=["csv", "xlsx"], key="je_import_file")
        c1, c2 = st.columns(2)
        target = c1.text_input("Company code", value=company.code if company else "", key="je_import_code",
                               help="The payroll system's company code; a new code creates the company.")
        new_name = c2.text_input("Company name (for a new company)", key="je_import_name")
        submitted = st.form_submit_button("Import", type="primary", icon=":material/upload:")
    if submitted:
        if upload is None or not target.strip():
            st.error("Choose a file and give the company code.")
        else:
            report = service_call(services.import_journal_file, rt, target.strip(), upload.name,
                                  upload.getvalue(), actor=actor(), company_name=new_name.strip() or None)
            if report is not None:
                st.session_state[IMPORT_REPORT_KEY] = (upload.name, report)
                data_changed()
    stored = st.session_state.get(IMPORT_REPORT_KEY)
    if stored:
        _report(*stored)


def _report(name: str, report: services.ImportView) -> None:
    imported, errors = report.imported, report.errors
    if imported:
        st.success(f"{plain(name)}: imported {len(imported)} run(s): " + ", ".join(map(str, imported)),
                   icon=":material/task_alt:")
        for note in report.notes:
            st.caption(f"Note: {plain(note)}")
    if errors:
        st.error(f"{plain(name)}: nothing was imported — {len(errors)} problem(s) to fix in the file. Correct them "
                 "and import the file again.", icon=":material/error:")
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
        st.info(f"{plain(name)}: nothing new to import (every run in it exists already).")

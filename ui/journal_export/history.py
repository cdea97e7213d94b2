"""The Journal Export's History tab: exports per period as a chart, and the export log (one row per run, filterable,
with each run's attempts and CSV/XLSX downloads of the filtered rows)."""

from __future__ import annotations

import streamlit as st

from core import services
from ui.charts import exports_chart
from ui.export_log import export_log_panel
from ui.feedback import service_call
from ui.reads import cached_counts, db_key
from ui.text import plain


def history_tab(rt, company: services.CompanyView | None) -> None:
    scope_all = st.toggle("All companies", value=company is None, key="je_hist_all", disabled=company is None)
    scope = None if scope_all or company is None else company.code
    counts = service_call(cached_counts, rt, db_key(rt), scope) or []
    chart = exports_chart(counts)
    st.markdown("**Exports per period**" + ("" if scope is None else f" — {plain(company.name)}"))
    if chart is None:
        st.info("No runs yet.")
    else:
        st.altair_chart(chart, width="stretch")
    st.markdown("**Export log**")
    export_log_panel(rt, key="je_history", company_code=scope)

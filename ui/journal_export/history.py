"""The Journal Export's History tab: exports per period as a chart, and the export history as CSV."""

from __future__ import annotations

import streamlit as st

from core import services
from ui.charts import exports_chart
from ui.downloads import history_csv
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
    st.download_button(
        "Download export history (CSV)",
        data=lambda: history_csv(services.export_history(rt, company_code=scope, limit=None)),
        file_name=f"export-history-{scope or 'all'}.csv",
        mime="text/csv",
        icon=":material/download:",
        key="je_history_csv",
        on_click="ignore",
    )

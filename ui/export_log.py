"""The export log panel (Journal Export › History and chart, Overview): one row per run with its voucher number and
date, total debit, status, when it was sent and by whom; filters by company, period and status and a search box; the
selected run's attempts below; CSV and XLSX downloads of exactly the filtered rows (text a spreadsheet could run as a
formula is made inert by the service's files). Also the attempts table of one run, which the Runs tab shows too.
"""

from __future__ import annotations

import zlib
from dataclasses import asdict

import pandas as pd
import streamlit as st

from core import services
from ui.feedback import service_call
from ui.reads import CACHE_TTL, cached_companies, cached_counts, db_key
from ui.status import EXPORT_STATUS_LOOKS, STATUS_LABELS, period_label, status_text, style_for
from ui.text import plain

PAGE_SIZE = 200  # rows drawn at once: colouring a status cell costs, so a page is what a person scrolls through
# (the downloads hold every filtered row)
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_COLUMNS = ("company_name", "period", "run", "status", "voucher_number", "voucher_date", "total_debit", "sent_at",
            "sent_by", "attempts")
"""On screen the company is its name (its code is in the company filter, the search and the downloads); on one
company's page not even that. Widths in pixels so that every column fits the main area of a 1400-pixel window."""


@st.cache_data(ttl=CACHE_TTL, show_spinner=False, max_entries=32)
def cached_export_log_page(_rt, db: str, company_codes: tuple[str, ...], periods: tuple[str, ...],
                           statuses: tuple[str, ...], search: str, page: int) -> tuple[int, list]:
    """One page of the filtered export log and the number of matching rows; ``db`` (see ``ui.reads.db_key``)
    keeps two databases apart. Only the page is cached and drawn: the bureau's whole log is read for a download."""
    return services.export_log_page(_rt, company_code=company_codes or None, period=periods or None,
                                    status=statuses or None, search=search or None,
                                    offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE)


def attempts_table(rt, run_id: int) -> None:
    """Every attempt of one run, oldest first: when, what, who, and Visma's answer (codes and ErrorId for support)."""
    history = service_call(services.run_history, rt, run_id) or []
    if not history:
        st.caption("No attempt yet.")
        return
    frame = pd.DataFrame([asdict(h) for h in history])
    # empty cells stay empty (not "None"); the kind in the words of the page's buttons
    for column in ("actor", "http_status", "visma_error_code", "visma_error_id", "entry_id", "error_message"):
        if column in frame:
            frame[column] = [("" if v is None or v != v else str(int(v)) if isinstance(v, float) else str(v))
                             for v in frame[column]]
    frame["kind"] = [_KINDS.get(k, k) for k in frame["kind"]]
    frame["outcome"] = [str(o).replace("_", " ").capitalize() for o in frame["outcome"]]  # "Failed", as the log
    st.dataframe(
        frame, hide_index=True, width="stretch",
        column_order=[c for c in ("started_at", "kind", "outcome", "actor", "http_status", "visma_error_code",
                                  "entry_id", "error_message", "visma_error_id", "duration_ms", "reason")
                      if c in frame],
        column_config={
            "started_at": st.column_config.DatetimeColumn("When (UTC)", format="YYYY-MM-DD HH:mm:ss", width=145),
            "kind": st.column_config.TextColumn("Kind", width=110), "outcome": st.column_config.TextColumn(
                "Outcome", width=85), "actor": st.column_config.TextColumn("Who", width=130),
            "http_status": st.column_config.TextColumn("HTTP", width=50),
            "visma_error_code": st.column_config.TextColumn("Visma code", width=80),
            "visma_error_id": st.column_config.TextColumn("ErrorId", width=120),
            "entry_id": st.column_config.TextColumn("Entry", width=140),
            "error_message": st.column_config.TextColumn("Message", width="large"),
            "duration_ms": st.column_config.NumberColumn("ms", width=60), "reason": "Reason",
        },
    )


_KINDS = {"post": "Send", "reconcile": "Check in Visma", "preflight": "Preflight"}


def export_log_panel(rt, *, key: str, company_code: str | None = None) -> None:
    """The export log of one company (``company_code``) or of every company (with a company filter)."""
    scope = f"{key}_{company_code or 'all'}"
    codes, periods, statuses, search = _filters(rt, scope, company_code)
    page_key = f"{scope}_page"
    page = max(1, int(st.session_state.get(page_key) or 1))
    found = service_call(cached_export_log_page, rt, db_key(rt), codes, periods, statuses, search, page)
    if found is None:
        return
    total, rows = found
    pages = max(1, -(-total // PAGE_SIZE))
    if page > pages:  # the filters shrank the log under the page shown: back to the first page
        page = 1
        st.session_state.pop(page_key, None)
        found = service_call(cached_export_log_page, rt, db_key(rt), codes, periods, statuses, search, 1)
        if found is None:
            return
        total, rows = found
    if not total:
        st.info("No run matches these filters." if (periods or statuses or search or (codes and not company_code))
                else "No processed runs yet.", icon=":material/info:")
        return
    if pages > 1:
        page = st.number_input(f"Page (of {pages})", min_value=1, max_value=pages, key=page_key)
    shown = _frame(rows)
    st.caption(f"{services.count(total, 'run')}"
               + (f" · rows {(page - 1) * PAGE_SIZE + 1}–{(page - 1) * PAGE_SIZE + len(shown)} shown" if pages > 1
                  else "")
               + " · select a row to see its attempts")
    # a new table (and no stale selection) whenever the filters or the page change
    table_key = f"{scope}_table_{zlib.crc32(repr((codes, periods, statuses, search, page)).encode())}"
    event = st.dataframe(
        shown.style.map(style_for, subset=["status"]), key=table_key, hide_index=True, width="stretch",
        height=min(38 + 35 * len(shown), 460), on_select="rerun", selection_mode="single-row", lazy=False,
        column_order=_COLUMNS if company_code is None else _COLUMNS[1:],
        column_config=_column_config(company_code is None),
    )
    _downloads(rt, key, company_code, (codes, periods, statuses, search))
    chosen = event.selection.rows if event is not None else []
    if chosen:
        _attempts_of(rt, shown.iloc[chosen[0]])


def _filters(rt, scope: str, company_code: str | None) -> tuple[tuple[str, ...], tuple[str, ...],
                                                                 tuple[str, ...], str]:
    """The filter widgets: company (unless one is given), period, status and the search box."""
    db = db_key(rt)
    if company_code is None:
        c_company, c_period, c_status, c_search = st.columns([2.2, 1.4, 1.6, 2])
        companies = service_call(cached_companies, rt, db) or []
        names = {c.code: c.name for c in companies}
        codes = tuple(c_company.multiselect(
            "Company", sorted(names), format_func=lambda c: f"{names.get(c, c)} ({c})", key=f"{scope}_company",
            placeholder="All companies"))
    else:
        c_period, c_status, c_search = st.columns([1.4, 1.6, 2])
        codes = (company_code,)
    counts = service_call(cached_counts, rt, db, company_code) or []
    options = sorted({period_label(c["year"], c["period"]) for c in counts}, reverse=True)
    periods = tuple(c_period.multiselect("Period", options, key=f"{scope}_period", placeholder="All periods"))
    statuses = tuple(c_status.multiselect("Status", list(EXPORT_STATUS_LOOKS), format_func=_status_label,
                                          key=f"{scope}_status", placeholder="All statuses"))
    search = c_search.text_input("Search", key=f"{scope}_search", placeholder="Company, voucher number or run",
                                 help="Rows whose company code or name, voucher number or run (e.g. 2026-03 run 1) "
                                      "contain every word.").strip()
    return codes, periods, statuses, search


def _status_label(status: str) -> str:
    return STATUS_LABELS.get(status) or services.unknown_status(status).label


def _frame(rows: list[services.ExportLogRow]) -> pd.DataFrame:
    """The rows as drawn: status words, amounts as numbers, dates as dates and times in UTC without a zone."""
    sent = pd.to_datetime([r.sent_at for r in rows], utc=True)
    return pd.DataFrame({
        "run_id": [r.run_id for r in rows],
        "company": [r.company for r in rows],
        "company_name": [r.company_name for r in rows],
        "period": [r.period for r in rows],
        "run": [r.run for r in rows],
        "status": [status_text(r.status) for r in rows],
        "voucher_number": [r.voucher_number or "" for r in rows],
        "voucher_date": pd.to_datetime([r.voucher_date for r in rows]),
        "total_debit": [float(r.total_debit) for r in rows],
        "sent_at": [t.strftime("%Y-%m-%d %H:%M") if not pd.isna(t) else "" for t in sent],  # no "None" when unsent
        "sent_by": [r.sent_by or "" for r in rows],
        "attempts": [r.attempts for r in rows],
    })


def _column_config(all_companies: bool) -> dict:
    return {
        "company_name": st.column_config.TextColumn("Company", width=170, pinned=True),
        "period": st.column_config.TextColumn("Period", width=65),
        "run": st.column_config.NumberColumn("Run", width=40, format="%d"),
        "status": st.column_config.TextColumn("Status", width=95),
        "voucher_number": st.column_config.TextColumn("Voucher", width=70),
        "voucher_date": st.column_config.DateColumn("Voucher date", format="YYYY-MM-DD", width=95),
        "total_debit": st.column_config.NumberColumn("Total debit", format="euro", width=100),
        "sent_at": st.column_config.TextColumn("Sent (UTC)", width=125),
        "sent_by": st.column_config.TextColumn("Sent by", width=100 if all_companies else 200),
        "attempts": st.column_config.NumberColumn("Attempts", width=70, format="%d"),
    }


def _downloads(rt, key: str, company_code: str | None, filters: tuple) -> None:
    """CSV and XLSX of exactly the filtered rows, every page of them (read and made when clicked)."""
    codes, periods, statuses, search = filters

    def rows() -> list[services.ExportLogRow]:
        return services.export_log(rt, company_code=codes or None, period=periods or None, status=statuses or None,
                                   search=search or None)

    name = f"export-log-{company_code or 'all'}"
    csv_col, xlsx_col, _ = st.columns([1, 1, 3])
    csv_col.download_button("Download CSV", data=lambda: services.export_log_csv(rows()), file_name=f"{name}.csv",
                            mime="text/csv", icon=":material/download:", key=f"{key}_csv", on_click="ignore",
                            help="The filtered rows, for a spreadsheet (UTF-8; times in UTC).")
    xlsx_col.download_button("Download XLSX", data=lambda: services.export_log_xlsx(rows()), file_name=f"{name}.xlsx",
                             mime=XLSX_MIME, icon=":material/download:", key=f"{key}_xlsx", on_click="ignore",
                             help="The filtered rows as an Excel workbook.")


def _attempts_of(rt, row: pd.Series) -> None:
    with st.container(border=True):
        st.markdown(f"**Attempts** · {plain(row['company_name'])} ({plain(row['company'])}) · "
                    f"{row['period']} run {int(row['run'])}")
        attempts_table(rt, int(row["run_id"]))

"""Overview: the health of the integration at a glance.

Accounts by status and those needing action, failures this period by troubleshooting entry, the accounts whose
authorization will need renewing soon (their refresh token's assumed end of life, ``reauthorize_by``) with the companies
depending on them, and a company × period grid of export status (not sent / sent / failed) that shows the companies
needing attention first and pages through thousands of them. Two service calls, both aggregated in the database
(``overview`` and ``company_status_grid``), feed the page; they are cached for a short time.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd
import streamlit as st

from core import services
from ui.charts import STATUS_ORDER, exports_chart, status_pivot
from ui.entries import find_entry
from ui.feedback import service_call
from ui.frame import ACCOUNTS_PAGE, JOURNAL_EXPORT_PAGE, TROUBLESHOOTING_PAGE, get_runtime
from ui.reads import CACHE_TTL, cached_overview, db_key
from ui.status import STATUS_LABELS, account_status_label, export_badge, format_time, status_cell_style

count = services.count  # counted nouns, said as on every page

PAGE_SIZE = 50
rt = get_runtime()
st.title("Overview")

data = service_call(cached_overview, rt, db_key(rt))
if data is None:
    st.stop()


def records(value: Any, key: str = "status", count: str = "count") -> list[dict]:
    """A list of dicts from a list or a ``{key: count}`` mapping."""
    if value is None:
        return []
    if isinstance(value, Mapping):
        return [{key: k, count: v} for k, v in value.items()]
    return [dict(v) for v in value]


accounts_by_status = {r["status"]: int(r["count"]) for r in records(data.get("accounts_by_status"))}
needing_action = records(data.get("accounts_needing_action"))
failures = records(data.get("failures_by_entry"))
reauthorization_due = records(data.get("reauthorization_due"))


def depending(account: Mapping) -> str:
    """The payroll companies mapped to an account (the overview lists them with each account)."""
    return ", ".join(account.get("companies") or []) or "—"


def why(account: Mapping) -> str:
    """Why an account needs action: its troubleshooting entry's title, else the reason stored with its status."""
    entry = find_entry(account.get("status_entry_id"))
    return entry.title if entry else account.get("status_reason") or ""


# ----------------------------------------------------------------------------------------------------- metrics

runs_by_status = {k: int(v) for k, v in (data.get("runs_by_status") or {}).items()}
accounts = data.get("accounts") or {}
runs = data.get("runs") or {}
mapped = data.get("companies") or {}


m = st.columns(5)
m[0].metric("Accounts OK", accounts.get("ok", 0),
            help=f"Of {count(accounts.get('total', 0), 'account', 'accounts')}: authorized (Visma logo red) and "
                 "Visma accepts their company's data. OK + to fix = all accounts.")
m[1].metric("Accounts to fix", accounts.get("to_fix", 0),
            help="Not authorized yet, refused at refresh (someone must authorize again), or Visma refuses the "
                 "company's data (for example the API module is off).")
m[2].metric("Runs sent", runs.get("sent", 0),
            help=f"Of {count(runs.get('total', 0), 'run', 'runs')}: booked in Visma. Sent + waiting + needing "
                 "attention = all runs.")
m[3].metric("Runs waiting", runs.get("waiting", 0),
            help="Not sent yet (or being sent right now). Failed and unconfirmed runs are not counted here.")
m[4].metric("Runs needing attention", runs.get("attention", 0),
            help="Failed (Visma refused them: see the cause below) or unconfirmed (Visma did not answer; checked "
                 "by itself as soon as it does).")
st.caption(f"{count(mapped.get('mapped', 0), 'company', 'companies')} mapped to Visma, "
           f"{count(mapped.get('unmapped', 0), 'company', 'companies')} not mapped (their runs cannot be sent).")

if not accounts_by_status and not runs_by_status and not mapped.get("total"):
    st.info(
        "Nothing to show yet. Create and authorize a Visma account on **Accounts**, map payroll companies on "
        "**Administrations**, then send runs on **Journal Export**.",
        icon=":material/info:",
    )
    st.page_link(ACCOUNTS_PAGE, label="Go to Accounts", icon=":material/key:")
    st.stop()

unconfirmed = runs_by_status.get("unconfirmed", 0) + int(data.get("runs_stuck_sending") or 0)
if unconfirmed:
    st.warning(f"{count(unconfirmed, 'run is', 'runs are')} unconfirmed: Visma did not answer, so the voucher may or "
               "may not be booked. Each is checked in Visma by its marker as soon as Visma answers, never posted "
               "twice; *Check in Visma now* on Journal Export checks one at once.", icon=":material/help:")

# ------------------------------------------------------------------------------------------- accounts needing action

st.subheader("Accounts needing action")
if not accounts_by_status:
    st.info("No Visma account yet: create one and authorize it on **Accounts**.", icon=":material/key:")
    st.page_link(ACCOUNTS_PAGE, label="Go to Accounts", icon=":material/arrow_forward:")
elif not needing_action:
    st.success("Every account is authorized.", icon=":material/task_alt:")
else:
    frame = pd.DataFrame(
        [
            {
                "account": a.get("name"),
                "status": account_status_label(a.get("status", "")),
                "why": why(a),
                "companies": depending(a),
            }
            for a in needing_action
        ]
    )
    st.dataframe(frame, hide_index=True, width="stretch", height=min(400, 38 + 35 * len(frame)),
                 column_order=("account", "why", "status", "companies"),
                 column_config={"account": st.column_config.TextColumn("Account", width="medium"),
                                "why": st.column_config.TextColumn("Why", width="large"),
                                "status": st.column_config.TextColumn("Status", width="small"),
                                "companies": st.column_config.TextColumn("Companies depending on it")})
    st.page_link(ACCOUNTS_PAGE, label="Authorize on Accounts", icon=":material/key:")

# ------------------------------------------------------------------------------------------ failures by entry

st.subheader("Failed exports by cause")
if not failures:
    st.success("No failed export.", icon=":material/task_alt:")
for f in failures[:6]:
    entry = find_entry(f.get("entry_id"))
    title = entry.title if entry else (f.get("title") or "Unrecognised error")
    affected = f.get("companies_affected") or len(f.get("companies") or [])
    with st.container(border=True):
        st.markdown(f"**{title}** — {count(int(f.get('count', 0)), 'run', 'runs')}, "
                    f"{count(int(affected), 'company', 'companies')}")
        if entry:
            st.caption(entry.solution)
            st.page_link(TROUBLESHOOTING_PAGE, label="Explain", icon=":material/help:",
                         query_params={"entry": entry.id})
if len(failures) > 6:
    st.caption(f"and {len(failures) - 6} more causes — see Troubleshooting › Recent failures.")

# ------------------------------------------------------------------------------------------ re-authorization due

lifetime_days = rt.settings.refresh_token_lifetime_days
st.subheader("Re-authorization due")
st.caption(
    "Access tokens last an hour and are refreshed automatically; what makes someone log in at Visma again is the end "
    "of the refresh token's life. Visma does not document it: "
    + (f"it is assumed to end **{lifetime_days} days after the authorization**, however often it is refreshed "
       "(VISMA_REFRESH_TOKEN_LIFETIME_DAYS). " if lifetime_days else
       "it is configured as unknown (VISMA_REFRESH_TOKEN_LIFETIME_DAYS = 0), so no deadline is shown. ")
    + "A changed password at Visma ends it at once: such an account moves to *Accounts needing action*."
)
if not reauthorization_due:
    st.success("No authorization runs out within a week.", icon=":material/task_alt:")
else:
    overdue = sum(1 for t in reauthorization_due if t.get("overdue"))
    if overdue:
        st.warning(f"{count(overdue, 'account is', 'accounts are')} past their re-authorization date: their next "
                   "refresh will probably be refused. Re-authorize them on Accounts now.",
                   icon=":material/sync_problem:")
    frame = pd.DataFrame(
        [
            {
                "account": t.get("name"),
                "reauthorize_by": format_time(t.get("reauthorize_by")),
                "companies": depending(t),
            }
            for t in reauthorization_due
        ]
    )
    st.dataframe(frame, hide_index=True, width="stretch", height=min(400, 38 + 35 * len(frame)),
                 column_config={"account": "Account", "reauthorize_by": "Re-authorize by",
                                "companies": st.column_config.TextColumn("Companies depending on it", width="large")})
    st.page_link(ACCOUNTS_PAGE, label="Re-authorize on Accounts", icon=":material/key:")

# ------------------------------------------------------------------------------------------ runs per period

cells = records(data.get("status_grid"))
counts = [{"year": c["year"], "period": c["period"], "status": s, "count": int(c.get(s, 0))}
          for c in cells for s in STATUS_ORDER if c.get(s)]
chart = exports_chart(counts)
if chart is not None:
    st.subheader("Runs per period")
    st.altair_chart(chart, width="stretch")

# ------------------------------------------------------------------------------------------ status grid


@st.cache_data(ttl=CACHE_TTL, show_spinner=False, max_entries=8)
def company_grid(_rt, db: str) -> pd.DataFrame:
    """Company × period pivot from the service's grid (run counts per company, period and status, grouped in the
    database: fast at a bureau's size)."""
    rows = services.company_status_grid(_rt)
    frame = pd.DataFrame(rows, columns=["company_code", "company", "year", "period", "status"])
    return status_pivot(frame) if not frame.empty else frame


def status_grid() -> None:
    """The company × period grid: a page of companies, those with failed runs first."""
    table = company_grid(rt, db_key(rt))
    if table.empty:
        st.info("No processed runs yet.")
        return
    c1, c2, c3 = st.columns([3, 1.2, 1])
    query = c1.text_input("Find a company", key="ov_search", placeholder="Name or code")
    attention = c2.toggle("Needing attention only", help="Companies with failed or not-sent runs.",
                          value=len(table) > PAGE_SIZE, key="ov_attention")
    if query:
        needle = query.strip().lower()
        table = table[table["company"].str.lower().str.contains(needle, regex=False)
                      | table["company_code"].str.lower().str.contains(needle, regex=False)]
    if attention:
        table = table[(table["failed"] > 0) | (table["not sent"] > 0)]
    pages = max(1, -(-len(table) // PAGE_SIZE))
    page = (c3.number_input(f"Page (of {pages})", min_value=1, max_value=pages, value=1, key="ov_page")
            if pages > 1 else 1)
    shown = table.iloc[(page - 1) * PAGE_SIZE: page * PAGE_SIZE]
    st.markdown(f"{count(len(table), 'company', 'companies')}, those with failed runs first · "
                + " ".join(export_badge(s) for s in ("sent", "failed", "unconfirmed", "not_sent")))

    periods = [c for c in shown.columns if c not in ("company_code", "company", "failed", "not sent")]
    labels = shown[periods].map(lambda s: STATUS_LABELS.get(s, "") if isinstance(s, str) else "")
    styled = pd.concat([shown[["company", "company_code", "failed", "not sent"]], labels], axis=1).style.apply(
        lambda col: [status_cell_style(s) for s in shown[col.name]],
        subset=periods,
    )
    st.dataframe(
        styled,
        hide_index=True,
        width="stretch",
        column_config={
            # the company and its counts pinned on the left, the periods scroll beside them
            "company": st.column_config.TextColumn("Company", pinned=True, width=200),
            "company_code": st.column_config.TextColumn("Code", width=130),
            "failed": st.column_config.NumberColumn("Failed", width=60),
            "not sent": st.column_config.NumberColumn("Not sent", width=70),
            **{p: st.column_config.TextColumn(p, width=85) for p in periods},
        },
    )
    st.page_link(JOURNAL_EXPORT_PAGE, label="Send or fix runs on Journal Export", icon=":material/upload_file:")


# ------------------------------------------------------------------------------------------ export log

from ui.export_log import export_log_panel  # noqa: E402 - this section is appended after the page's own blocks

# Two views of every run, one at a time: only the open tab runs, so the page costs what it shows.
grid_tab, log_tab = st.tabs(["Status per company and period", "Export log"], key="ov_tab", on_change="rerun")
with grid_tab:
    if grid_tab.open is None or grid_tab.open:
        status_grid()
with log_tab:
    if log_tab.open:
        export_log_panel(rt, key="ov_log")

"""Demo: switch a company of the bundled Visma sandbox into a known error and reset the demo data.

For sales people showing the integration offline: pick a company, pick what should go wrong (the help article's three
errors, a locked period, a rate limit, Visma down, a connection dropped after Visma stored the voucher), send a run on
Journal Export, and show the failure with its explanation. Only in demo mode: app.py does not register this page in
production, and the page refuses to draw anything when it is reached there anyway.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core import services
from ui.demo_words import FAULT_EXPLANATIONS, STATE_EXPLANATIONS, STATE_ORDER, STATE_TITLES
from ui.feedback import flash, service_call, try_service
from ui.frame import (
    JOURNAL_EXPORT_PAGE,
    actor,
    close_dialog,
    data_changed,
    get_runtime,
    open_dialog,
    pending_dialog,
)
from ui.reads import cached_companies, cached_demo_status, db_key
from ui.text import plain

# The keys of the per-company state and fault controls below (each followed by the company id).
CONTROL_PREFIXES = ("demo_state_", "demo_rl_", "demo_rlv_", "demo_down_", "demo_lat_", "demo_drop_")

rt = get_runtime()
st.title("Demo")

if not rt.settings.demo_mode:
    st.error("The demo controls exist only in demo mode (no Visma client configured). Nothing here can touch a real "
             "Visma company.", icon=":material/block:")
    st.stop()

st.caption(
    "Make the bundled Visma sandbox misbehave on purpose, then send a run on Journal Export and show the customer the "
    "failure and its explanation. Everything here changes only the local sandbox."
)


def _forget_controls() -> None:
    """Drop the state and fault controls' values, so that they show the sandbox as it is after a change made
    elsewhere (a reset, *Clear faults*) instead of what was chosen before."""
    for key in [k for k in st.session_state if str(k).startswith(CONTROL_PREFIXES)]:
        del st.session_state[key]


@st.dialog("Reset the demo data?", on_dismiss=close_dialog)
def confirm_reset(companies: list[dict]) -> None:
    starting = [c for c in companies if c.get("start_state", "ok") != "ok"]
    st.markdown(
        "This **clears every fault** in every sandbox company (rate limit, Visma down, latency, dropped "
        "connections), undoes every state set here, removes the vouchers, and **empties this dashboard's "
        "database**: accounts, mappings, runs and history. Afterwards *Load demo data* sets it all up again."
    )
    all_healthy = False
    if starting:
        st.markdown(
            "Every company is healthy afterwards, except those that start with the help article's errors: "
            + "; ".join(f"{plain(c['name'])} ({STATE_TITLES.get(c['start_state'], c['start_state'])})"
                        for c in starting) + "."
        )
        all_healthy = st.checkbox("Make these healthy too", key="demo_reset_all_healthy",
                                  help="Without it they keep their article error, ready to show it.")
    left, right = st.columns(2)
    if left.button("Reset", type="primary", icon=":material/restart_alt:", key="demo_confirm_reset", width="stretch"):
        ok, result = try_service(services.reset_demo, rt, actor=actor(), all_healthy=all_healthy)
        data_changed()
        if ok:
            close_dialog()
            _forget_controls()
            after = result.get("companies") or []
            unhealthy = sum(1 for c in after if c.get("state") != "ok")
            flash(f"Demo data reset: no fault left in the sandbox's {len(after)} companies, "
                  + (f"{unhealthy} showing its article error, " if unhealthy else "all healthy, ")
                  + f"{len(result.get('tables_emptied', []))} tables emptied.", "success")
            flash("Demo data reset", "toast")
            st.rerun()
    if right.button("Cancel", key="demo_cancel_reset", width="stretch", on_click=close_dialog):
        st.rerun()


status = service_call(cached_demo_status, rt, db_key(rt))
if status is None:
    st.stop()
if not status.get("running", True):
    st.error(f"The sandbox does not answer: {plain(status.get('error', ''))}", icon=":material/cloud_off:")
    st.stop()

sandbox_companies = status.get("companies") or []
accounts = status.get("accounts") or []

top = st.columns([2, 1, 1])
top[0].markdown(f"Sandbox at `{status.get('sandbox_url')}` · {len(sandbox_companies)} companies · "
                f"{len(accounts)} accounts in this dashboard")
if top[1].button("Load demo data", icon=":material/playlist_add:", key="demo_seed", width="stretch",
                 help="Authorizes one account per sandbox company, loads the demo payroll runs and maps them."):
    with st.spinner("Authorizing the demo accounts at the sandbox and loading payroll runs…"):
        ok, result = try_service(services.seed_demo, rt, actor=actor())
    data_changed()
    if ok:
        failed = result.get("accounts_failed") or []
        authorized = len(result.get("accounts_authorized") or [])
        flash(f"Demo data loaded: {services.count(authorized, 'account')} authorized, "
              f"{services.count(len(result.get('mapped') or []), 'company')} mapped."
              + (f" {services.count(len(failed), 'account')} could not be authorized." if failed else ""),
              "warning" if failed else "success")
        st.rerun()
if top[2].button("Reset demo data…", icon=":material/restart_alt:", key="demo_reset", width="stretch"):
    open_dialog("demo_reset")
if pending_dialog("demo_reset"):
    confirm_reset(status.get("companies") or [])

# ------------------------------------------------------------------------------------------------ company table

accounts_by_company = {}
for a in accounts:
    if a.get("visma_company_name"):
        accounts_by_company.setdefault(a["visma_company_name"], []).append(a["name"])


def _faults_text(faults: dict) -> str:
    parts = []
    if faults.get("rate_limit_per_minute"):
        parts.append(f"rate limit {faults['rate_limit_per_minute']}/min")
    if faults.get("http_error"):
        parts.append(f"Visma down (HTTP {faults['http_error']})")
    if faults.get("latency_ms"):
        parts.append(f"+{faults['latency_ms']} ms")
    if faults.get("commit_then_drop"):
        parts.append(f"drop after store ×{faults['commit_then_drop']}")
    return ", ".join(parts) or "none"


st.subheader("Sandbox companies")
frame = pd.DataFrame(
    [
        {
            "company": c["name"],
            "state": STATE_TITLES.get(c["state"], c["state"]),
            "customer_sees": STATE_EXPLANATIONS.get(c["state"], ""),
            "faults": _faults_text(c.get("faults") or {}),
            "accounts": ", ".join(accounts_by_company.get(c["name"], [])) or "—",
        }
        for c in sandbox_companies
    ]
)
if frame.empty:
    st.info("The sandbox has no companies.")
else:
    st.dataframe(
        frame, hide_index=True, width="stretch", lazy=False,
        # pixel widths: it fits a 1400-pixel window; the long explanation comes last and takes what is left
        column_order=("company", "state", "faults", "accounts", "customer_sees"),
        column_config={
            "company": st.column_config.TextColumn("Company", pinned=True, width=190),
            "state": st.column_config.TextColumn("State", width=190),
            "customer_sees": st.column_config.TextColumn("What the customer sees"),
            "faults": st.column_config.TextColumn("Faults", width=80),
            "accounts": st.column_config.TextColumn("Accounts here", width=150),
        },
    )

if not sandbox_companies:
    st.stop()

# --------------------------------------------------------------------------------------------- switch a company

st.subheader("Make something go wrong")
by_id = {c["id"]: c for c in sandbox_companies}
company_id = st.selectbox("Company", list(by_id), format_func=lambda i: by_id[i]["name"], key="demo_company")
company = by_id[company_id]
payroll = [p for p in (service_call(cached_companies, rt, db_key(rt)) or [])
           if p.visma_company_name == company["name"]]

state_col, fault_col = st.columns(2)
with state_col, st.container(border=True):
    st.markdown("**State of the company in Visma**")
    state = st.radio(
        "State", STATE_ORDER, index=STATE_ORDER.index(company["state"]) if company["state"] in STATE_ORDER else 0,
        format_func=lambda s: STATE_TITLES[s], key=f"demo_state_{company_id}", label_visibility="collapsed",
    )
    st.caption(STATE_EXPLANATIONS[state])
    if st.button("Apply state", type="primary", key="demo_apply_state", icon=":material/bolt:",
                 disabled=state == company["state"]) and (
        service_call(services.set_company_state, rt, company_id, state, actor=actor()) is not None
    ):
        data_changed()
        flash(f"{plain(company['name'])} is now: {STATE_TITLES[state]}.", "success")
        flash("Sandbox state changed", "toast")
        st.rerun()

with fault_col, st.container(border=True):
    st.markdown("**Faults of the connection**")
    faults = company.get("faults") or {}
    limited = st.toggle("Rate limit", value=bool(faults.get("rate_limit_per_minute")), key=f"demo_rl_{company_id}",
                        help=FAULT_EXPLANATIONS["rate_limit_per_minute"])
    per_minute = st.number_input("Calls per minute", min_value=1, max_value=600,
                                 value=int(faults.get("rate_limit_per_minute") or 2), key=f"demo_rlv_{company_id}",
                                 disabled=not limited)
    down = st.selectbox("Visma down", [None, 503, 500], key=f"demo_down_{company_id}",
                        index=[None, 503, 500].index(faults.get("http_error")) if faults.get("http_error") in
                        (None, 503, 500) else 0,
                        format_func=lambda v: "No — Visma answers" if v is None else f"Yes — HTTP {v}",
                        help=FAULT_EXPLANATIONS["http_error"])
    latency = st.slider("Extra latency (ms)", 0, 5000, int(faults.get("latency_ms") or 0), step=250,
                        key=f"demo_lat_{company_id}", help=FAULT_EXPLANATIONS["latency_ms"])
    drops = st.number_input("Store, then drop the connection (next N vouchers)", min_value=0, max_value=20,
                            value=int(faults.get("commit_then_drop") or 0), key=f"demo_drop_{company_id}",
                            help=FAULT_EXPLANATIONS["commit_then_drop"])
    wanted = {"rate_limit_per_minute": int(per_minute) if limited else None, "http_error": down,
              "latency_ms": int(latency), "commit_then_drop": int(drops)}
    b1, b2 = st.columns(2)
    if b1.button("Apply faults", type="primary", key="demo_apply_faults", icon=":material/bolt:",
                 width="stretch") and (
        service_call(services.set_company_faults, rt, company_id, actor=actor(), **wanted) is not None
    ):
        data_changed()
        flash(f"Faults of {plain(company['name'])}: {_faults_text(wanted)}.", "success")
        st.rerun()
    if b2.button("Clear faults", key="demo_clear_faults", icon=":material/healing:", width="stretch"):
        cleared = {"rate_limit_per_minute": None, "http_error": None, "latency_ms": 0, "commit_then_drop": 0}
        if service_call(services.set_company_faults, rt, company_id, actor=actor(), **cleared) is not None:
            data_changed()
            _forget_controls()
            flash(f"{plain(company['name'])} answers normally again.", "success")
            st.rerun()

# ------------------------------------------------------------------------------------------------- what next

with st.container(border=True):
    st.markdown("**Now show it**")
    if payroll:
        st.markdown(
            f"Send a run of **{payroll[0].name}** on Journal Export: the failure appears with its cause and "
            "solution from the troubleshooting catalogue."
        )
        st.page_link(JOURNAL_EXPORT_PAGE, label=f"Open Journal Export for {plain(payroll[0].name)}",
                     icon=":material/upload_file:", query_params={"company": payroll[0].code})
    else:
        st.markdown(f"No payroll company is mapped to **{plain(company['name'])}** yet. Load the demo data (above), "
                    "or map one on the Administrations page.")

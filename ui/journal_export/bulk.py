"""The Journal Export's Send pending tab: send every pending run of one or many companies, with progress and a
summary of the runs not sent."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core import services
from ui.entries import find_entry
from ui.feedback import try_service
from ui.frame import actor, data_changed
from ui.progress import run_with_progress

SUMMARY_KEY = "je_bulk_summary"


def bulk_tab(rt, companies: list[dict], company: services.CompanyView | None) -> None:
    st.caption("Send every run that is not sent yet, for one or many companies. Each run is sent at most once; "
               "failures get their explanation in the summary.")
    bulk_panel(rt, companies, company)


def _summary(summary: services.ExportSummaryView) -> None:
    kind = st.success if not summary.failed else st.warning
    kind(f"Done: **{summary.sent}** sent, **{summary.failed}** failed, **{summary.skipped}** skipped.",
         icon=":material/summarize:")
    results = [r for r in summary.results if r.outcome in ("failed", "unknown", "skipped")]
    if not results:
        return
    rows = []
    for r in results:
        entry = find_entry(r.entry_id)
        rows.append({
            "run": f"{r.company or ''} · {r.label or ''}".strip(" ·"),
            "outcome": r.outcome.capitalize(),
            "problem": entry.title if entry else (r.message or ""),
            "solution": entry.solution if entry else "",
        })
    st.markdown("**Runs not sent**")
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch",
                 column_config={"run": "Run", "outcome": "Outcome", "problem": "Problem",
                                "solution": st.column_config.TextColumn("What to do", width="large")})


@st.fragment
def bulk_panel(rt, companies: list[dict], company: services.CompanyView | None) -> None:
    pending = [c for c in companies if c.runs_not_sent and c.account_name]
    unmapped = sum(1 for c in companies if c.runs_not_sent and not c.account_name)
    summary = st.session_state.get(SUMMARY_KEY)
    if summary:
        _summary(summary)
        if st.button("Clear summary", key="je_bulk_clear"):
            st.session_state.pop(SUMMARY_KEY, None)
            st.rerun(scope="fragment")
    if not pending:
        st.info("No mapped company has runs waiting to be sent.", icon=":material/task_alt:")
        return
    names = {c.code: c for c in pending}
    preset = [company.code] if company and company.code in names else []
    everything = st.checkbox(f"All {len(pending)} companies with pending runs", key="je_bulk_all")
    chosen = list(names) if everything else st.multiselect(
        "Companies", list(names), default=preset, key="je_bulk_companies",
        format_func=lambda c: f"{names[c].name} ({c}) · {names[c].runs_not_sent} not sent",
    )
    total = sum(names[c].runs_not_sent for c in chosen)
    if unmapped:
        st.caption(f"{unmapped} compan{'y' if unmapped == 1 else 'ies'} with pending runs are not mapped and are "
                   "left out.")
    if not st.button(f"Send {total} pending run{'s' if total != 1 else ''}", type="primary", icon=":material/send:",
                     key="je_bulk_send", disabled=not chosen):
        return
    result = _send(rt, chosen, total)
    if result is not None:
        st.session_state[SUMMARY_KEY] = result
        st.rerun()  # the whole page, so the run tables and counts show the new states


def _send(rt, chosen: list[str], total: int) -> services.ExportSummaryView | None:
    """Send the pending runs of ``chosen`` with a progress bar; the summary, or None when sending stopped."""
    with st.status(f"Sending {total} runs to Visma…", expanded=True) as status:
        bar = st.progress(0.0, text="Starting…")

        def draw(relay) -> None:
            of = relay.total or total or 1
            last = relay.last.get("result")
            label = f"{relay.done} of {of}"
            if isinstance(last, services.SendResultView) and last.label:
                label += f" · {last.company or ''} {last.label}: {last.outcome}"
            bar.progress(min(1.0, relay.done / of), text=label)

        ok, result = try_service(
            run_with_progress,
            lambda progress: services.send_pending(rt, company_codes=chosen, actor=actor(), progress=progress),
            draw,
        )
        data_changed()
        if not ok:
            status.update(label="Sending stopped", state="error", expanded=True)
            return None
        bar.progress(1.0, text="Done")
        status.update(label=f"Sent {result.sent}, failed {result.failed}, skipped {result.skipped}",
                      state="error" if result.failed else "complete", expanded=False)
    return result

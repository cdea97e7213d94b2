"""The Journal Export's Send pending tab: send every pending run of one or many companies, with progress and a
summary of the runs not sent."""

from __future__ import annotations

import streamlit as st

from core import services
from ui.entries import find_entry
from ui.feedback import try_service
from ui.frame import actor, data_changed
from ui.progress import run_with_progress
from ui.text import plain

SUMMARY_KEY = "je_bulk_summary"


def bulk_tab(rt, companies: list[dict], company: services.CompanyView | None) -> None:
    st.caption("Send every run that is not sent yet, for one or many companies. Each run is sent at most once; "
               "failures get their explanation in the summary.")
    bulk_panel(rt, companies, company)


def _summary(summary: services.ExportSummaryView) -> None:
    # green only when everything went through; skipped runs (cause still there) are news, failures need action
    kind = (st.warning if summary.failed or summary.unknown else st.info if summary.skipped else st.success)
    kind(f"Done: **{summary.sent}** sent, **{summary.failed}** failed, **{summary.unknown}** unconfirmed, "
         f"**{summary.skipped}** skipped.", icon=":material/summarize:")
    results = [r for r in summary.results if r.outcome in ("failed", "unknown", "skipped")]
    if not results:
        return
    groups: dict[str | None, list[services.SendResultView]] = {}
    for r in results:
        groups.setdefault(r.entry_id, []).append(r)
    st.markdown("**Runs not sent, by cause**")
    for entry_id, group in sorted(groups.items(), key=lambda g: -len(g[1])):  # cards: a cause and its fix wrap
        entry = find_entry(entry_id)
        companies = sorted({r.company or "" for r in group})
        shown = ", ".join(companies[:6]) + (f" and {len(companies) - 6} more" if len(companies) > 6 else "")
        with st.container(border=True):
            title = entry.title if entry else plain(group[0].message or "Unrecognised error")
            st.markdown(f"**{title}** — {services.count(len(group), 'run')} · {plain(shown)}")
            if entry:
                st.caption(entry.solution)


@st.fragment
def bulk_panel(rt, companies: list[dict], company: services.CompanyView | None) -> None:
    summary = st.session_state.get(SUMMARY_KEY)
    if summary:
        _summary(summary)
        if st.button("Clear summary", key="je_bulk_clear"):
            st.session_state.pop(SUMMARY_KEY, None)
            st.rerun(scope="fragment")
    counts = try_service(services.pending_counts, rt)[1] or {}
    _send_pending(rt, companies, company, counts)
    st.divider()
    _retry_by_cause(rt)


def _send_pending(rt, companies, company, counts: dict[str, int]) -> None:
    names = {c.code: c for c in companies if counts.get(c.code)}
    unmapped = sum(1 for c in companies if c.runs_not_sent and not c.account_name)
    if unmapped:
        st.caption(f"{unmapped} compan{'y' if unmapped == 1 else 'ies'} with runs waiting "
                   f"{'is' if unmapped == 1 else 'are'} not mapped and left out.")
    if not names:
        st.info("No mapped company has runs waiting to be sent. Failed runs are retried below, by cause.",
                icon=":material/task_alt:")
        return
    preset = [company.code] if company and company.code in names else []
    everything = st.checkbox(f"All {len(names)} companies with runs waiting", key="je_bulk_all")
    chosen = list(names) if everything else st.multiselect(
        "Companies", list(names), default=preset, key="je_bulk_companies",
        format_func=lambda c: f"{names[c].name} ({c}) · {counts[c]} waiting", placeholder="Choose companies",
    )
    total = sum(counts[c] for c in chosen)
    if not st.button(f"Send {services.count(total, 'run')} waiting", type="primary", icon=":material/send:",
                     key="je_bulk_send", disabled=not chosen):
        return
    _finish(_send(rt, total, lambda progress: services.send_pending(
        rt, company_codes=chosen, actor=actor(), progress=progress)))


def _retry_by_cause(rt) -> None:
    """Failed runs of mapped companies, grouped by cause; each group retried at once after a fresh preflight."""
    st.markdown("**Retry failed runs, by cause**")
    by_cause = try_service(services.failed_counts_by_cause, rt)[1] or {}
    for cause, n in by_cause.items():
        entry = find_entry(None if cause == services.NO_ENTRY else cause)
        with st.container(border=True):
            left, right = st.columns([4, 1.4], vertical_alignment="center")
            left.markdown(f"**{entry.title if entry else 'Unrecognised error'}** — {services.count(n, 'run')}")
            if entry:
                left.caption(entry.solution)
            if right.button(f"Retry all {n}", key=f"je_retry_{cause}", icon=":material/replay:",
                            help="Fixed the cause? Each company's runs are checked against Visma first; those "
                                 "still failing the check are not sent."):
                _finish(_send(rt, n, lambda progress, c=cause: services.send_pending(
                    rt, actor=actor(), progress=progress, causes=[c], preflight=True)))
    if not by_cause:
        st.caption("No failed run of a mapped company.")


def _finish(result: services.ExportSummaryView | None) -> None:
    if result is not None:
        st.session_state[SUMMARY_KEY] = result
        st.rerun()  # the whole page, so the run tables and counts show the new states


def _send(rt, total: int, call) -> services.ExportSummaryView | None:
    """Run ``call(progress)`` (a bulk send) with a progress bar; the summary, or None when sending stopped."""
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
            call,
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

"""The Journal Export's Runs tab: a company's runs with their export badges, and the selected run's detail (what
went wrong and what to do, send / re-send / support bundle, the voucher preview and the attempts)."""

from __future__ import annotations

from dataclasses import asdict

import pandas as pd
import streamlit as st

from core import services
from ui.downloads import bundle_bytes
from ui.entries import find_entry, show_entry
from ui.export_log import attempts_table as _show_history
from ui.feedback import service_call
from ui.frame import actor, close_dialog, data_changed, open_dialog, pending_dialog
from ui.journal_export.dialogs import confirm_resend, confirm_send
from ui.reads import cached_runs, db_key
from ui.status import export_badge, format_time, status_text, style_for

RUN_KEY = "je_run"


def runs_tab(rt, company: services.CompanyView) -> None:
    """The runs table of ``company``; selecting a row shows its detail below."""
    runs = service_call(cached_runs, rt, db_key(rt), company.code) or []
    if not runs:
        st.info("This company has no processed runs yet.", icon=":material/info:")
        return
    counts = pd.Series([r.status for r in runs]).value_counts()
    st.markdown(
        " ".join(export_badge(s) + f" **{int(counts.get(s, 0))}**"
                 for s in ("not_sent", "unconfirmed", "sent", "failed") if counts.get(s))
    )
    frame = _runs_frame(runs)
    focus = st.session_state.get(RUN_KEY)
    default = [int(i) for i in frame.index[frame["id"] == focus]] if focus is not None else []
    event = st.dataframe(
        frame.style.map(style_for, subset=["status"]), key=f"je_runs_{company.code}", hide_index=True,
        width="stretch", height=min(36 + 35 * len(frame), 640),
        on_select="rerun", selection_mode="single-row",
        selection_default={"selection": {"rows": default}} if default else None,
        # what a payroll user scans first (run, status, amount) stays visible; the long texts come last
        column_order=("run", "processed", "status", "total", "attempts", "problem", "solution"),
        column_config={
            # pixel widths: the whole table fits the main area of a 1400-pixel window; "What to do" takes the rest
            "run": st.column_config.TextColumn("Run", pinned=True, width=100),
            "processed": st.column_config.DatetimeColumn("Processed", format="YYYY-MM-DD", width=90),
            "status": st.column_config.TextColumn("Export", width=100),
            "total": st.column_config.NumberColumn("Total", format="euro", width=95),
            "attempts": st.column_config.NumberColumn(
                "Sends", width=70, help="How often sending was tried; every attempt, checks included, is in the "
                                        "run's Attempts tab and the export log."),
            "problem": st.column_config.TextColumn("Problem", width=290),
            "solution": st.column_config.TextColumn("What to do"),
        },
    )
    rows = event.selection.rows if event is not None else []
    chosen_id = int(frame.iloc[rows[0]]["id"]) if rows else None
    chosen = next((r for r in runs if r.id == chosen_id), None)
    if chosen is None:
        st.caption("Select a run to preview its voucher, send it, or see its attempts.")
    else:
        with st.container(border=True):
            _run_detail(rt, chosen, company)


def _runs_frame(runs: list[services.RunView]) -> pd.DataFrame:
    rows = []
    for r in runs:
        failed = r.status == "failed"
        entry = find_entry(r.error_entry_id) if failed else None
        rows.append(
            {
                "id": r.id,
                "run": r.label,
                "processed": r.processed_at,
                "status": status_text(r.status, r.voucher_number),
                "problem": entry.title if entry else (r.error_message or "") if failed else "",
                "solution": entry.solution if entry else "",
                "attempts": r.attempt_count or 0,
                "total": float(r.total_debit),
            }
        )
    return pd.DataFrame(rows)


def _show_preview(rt, run_id: int) -> None:
    preview = service_call(services.preview_run, rt, run_id)
    if preview is None:
        return
    rows = pd.DataFrame([asdict(r) for r in preview.rows])
    st.markdown(
        f"Voucher date **{preview.voucher_date}** · text *{preview.voucher_text}* · "
        + (":green-badge[Balanced]" if preview.balanced else ":red-badge[Not balanced]")
    )
    m1, m2, m3 = st.columns([2, 2, 1])  # amounts get the room: a cut "€ 18,088.…" tells nobody anything
    m1.metric("Total debit", services.format_amount(preview.total_debit))
    m2.metric("Total credit", services.format_amount(preview.total_credit))
    m3.metric("Lines", len(rows))
    if rows.empty:
        return
    for col in ("debit", "credit"):
        rows[col] = rows[col].map(lambda v: float(v) if v not in (None, "") else None)
    st.dataframe(
        rows, hide_index=True, width="stretch",
        column_config={
            "account_number": st.column_config.TextColumn("Account"),
            "account_name": st.column_config.TextColumn("Account name"),
            "debit": st.column_config.NumberColumn("Debit", format="euro"),
            "credit": st.column_config.NumberColumn("Credit", format="euro"),
            "transaction_text": st.column_config.TextColumn("Text", width="large"),
            "cost_center": st.column_config.TextColumn("Cost centre"),
        },
    )
    hits = rows.groupby(["account_number", "account_name"], dropna=False, sort=True)[["debit", "credit"]].sum()
    accounts = ", ".join(f"{a} {n}" for a, n in hits.index)
    st.caption(f"Accounts it will hit in Visma: {accounts}")


def _run_detail(rt, run: services.RunView, company: services.CompanyView) -> None:
    st.markdown(f"### {run.label}  {export_badge(run.status, run.voucher_number)}")
    facts = [f"Processed {format_time(run.processed_at)}"]
    if run.sent_at:
        facts.append(f"sent {format_time(run.sent_at)}")
    facts.append(services.count(run.attempt_count or 0, "send"))  # posts tried; the Attempts tab adds the checks
    st.caption(" · ".join(facts))
    checked = st.session_state.get("je_check_result")
    if checked and checked[0] == run.id and not (checked[2] == run.error_message == services.NOT_BOOKED):
        said = checked[2] if checked[2].startswith("Checked in Visma") else f"Checked in Visma: {checked[2]}"
        st.info(said, icon=":material/travel_explore:")
    if run.status == "failed":
        _show_failure(run)
    if run.status == "sending":
        st.info("This run is being sent right now.", icon=":material/sync:")
    if run.status == "unconfirmed":
        _show_unconfirmed(rt, run)
    _actions(rt, run, company)
    preview_tab, history_tab = st.tabs(["Voucher preview", "Attempts"])
    with preview_tab:
        _show_preview(rt, run.id)
    with history_tab:
        _show_history(rt, run.id)


def _show_unconfirmed(rt, run: services.RunView) -> None:
    """What happened, that it is checked by itself, and the button that checks it now (a look-up, never a post)."""
    st.warning("**Unconfirmed: Visma did not answer; the voucher may or may not be booked.** Do not book it by hand. "
               "It is checked in Visma by its marker as soon as Visma answers, and never posted twice.",
               icon=":material/help:")
    if run.error_message:
        st.caption(run.error_message)
    if st.button("Check in Visma now", icon=":material/travel_explore:", key=f"je_check_{run.id}", type="primary"):
        summary = service_call(services.reconcile_runs, rt, [run.id], actor=actor())
        if summary is not None:
            data_changed()
            result = summary.results[0] if summary.results else None
            st.session_state["je_check_result"] = (run.id, result.outcome if result else "", result.message
                                                   if result else "")
            st.rerun()


def _show_failure(run: services.RunView) -> None:
    """What it means and what to do first; Visma's own words (codes, ErrorId) for support underneath."""
    if run.error_message == services.NOT_BOOKED:  # an unconfirmed run that a check found not booked
        st.warning("**Not booked: Visma did not answer when this run was sent, and a check found no voucher for "
                   "it in Visma.** Nothing was booked, so it is safe to send it again (automatic sending does so "
                   "by itself).", icon=":material/replay:")
        return
    entry = find_entry(run.error_entry_id)
    if entry is not None:
        st.error(f"Visma did not accept this journal entry: **{entry.title}**. Nothing was booked; fix the "
                 "cause below, then send it again.", icon=":material/error:")
        show_entry(run.error_entry_id, message=run.error_message)
    else:
        st.error("Visma did not accept this journal entry, for a reason the troubleshooting catalogue does not "
                 "know yet. Nothing was booked. Prepare a support bundle and attach it to a ticket.",
                 icon=":material/error:")
    if run.error_message:
        with st.expander("Visma's exact answer (for support)", icon=":material/code:", expanded=entry is None):
            st.code(run.error_message, language=None, wrap_lines=True)


def _actions(rt, run: services.RunView, company: services.CompanyView) -> None:
    """Send / send again / re-send (each through its dialog) and, for a failed run, the support bundle."""
    mapped = bool(company.account_name)
    b1, b2, b3 = st.columns(3)
    if run.status == "not_sent":
        b1.button("Send to Visma…", type="primary", icon=":material/send:", key=f"je_send_{run.id}",
                  disabled=not mapped, help=None if mapped else "Map the company first (Administrations).",
                  on_click=open_dialog, args=("je_send",), kwargs={"run_id": run.id})
    elif run.status == "failed":
        b1.button("Send again…", type="primary", icon=":material/replay:", key=f"je_send_{run.id}",
                  disabled=not mapped, help="After fixing the cause (see the solution above).",
                  on_click=open_dialog, args=("je_send",), kwargs={"run_id": run.id})
    elif run.status == "sent":
        b1.button("Re-send…", icon=":material/replay:", key=f"je_resend_{run.id}", disabled=not mapped,
                  help="Creates a second voucher in Visma; only with a reason.",
                  on_click=open_dialog, args=("je_resend",), kwargs={"run_id": run.id})
    if run.status == "failed":
        _support_bundle(rt, run, b2, b3)
    dialog = pending_dialog("je_send", "je_resend")
    if dialog and dialog[1]["run_id"] == run.id:
        if dialog[0] == "je_send" and run.status in ("not_sent", "failed"):
            confirm_send(rt, run, company)
        elif dialog[0] == "je_resend" and run.status == "sent":
            confirm_resend(rt, run)
        else:
            close_dialog()


def _support_bundle(rt, run: services.RunView, make, download) -> None:
    if make.button("Support bundle", icon=":material/inventory_2:", key=f"je_bundle_{run.id}",
                   help="Everything support needs about this failure (no token or secret), as a file for a ticket."):
        bundle = service_call(services.support_bundle, rt, run.id)
        if bundle is not None:
            st.session_state["je_bundle"] = (run.id, bundle_bytes(bundle))
    stored = st.session_state.get("je_bundle")
    if stored and stored[0] == run.id:
        download.download_button("Download bundle (JSON)", stored[1], file_name=f"support-bundle-run-{run.id}.json",
                                 mime="application/json", icon=":material/download:", key=f"je_bundle_dl_{run.id}")

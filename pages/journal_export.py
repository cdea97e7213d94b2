"""Journal Export: a company's processed payroll runs and their export to Visma eAccounting.

Per run: a status badge (grey *not sent*, *sending*, red *sent* with Visma's voucher number, orange *failed* with the
troubleshooting entry inline), the voucher preview, send (after a confirmation), re-send (only with a reason) and the
history of attempts. Across companies: send every pending run with progress and a summary. Also: import a journal
file, the export history as CSV and a chart of exports per period. ``?run=<id>`` focuses one run (other pages link
here). Every number comes from ``core.services``.
"""

from __future__ import annotations

from decimal import Decimal

import pandas as pd
import streamlit as st

from core import services
from ui.charts import exports_chart
from ui.downloads import bundle_bytes, history_csv
from ui.entries import find_entry, show_entry
from ui.feedback import flash, service_call, try_service
from ui.frame import actor, close_dialog, data_changed, get_runtime, open_dialog, pending_dialog
from ui.progress import run_with_progress
from ui.reads import cached_companies, cached_counts, cached_runs, db_key
from ui.status import export_badge, status_text, style_for
from ui.status import format_time as when

COMPANY_KEY = "je_company"
RUN_KEY = "je_run"
SUMMARY_KEY = "je_bulk_summary"
IMPORT_REPORT_KEY = "je_import_report"
TAB_KEY = "je_tab"
TABS = ("Runs", "Send pending", "Import a journal file", "History and chart")

rt = get_runtime()

st.title("Journal Export")
st.caption(
    "Processed payroll runs become journal entries (vouchers) in Visma eAccounting. A grey badge means not sent yet, "
    "a red one sent (with Visma's voucher number), orange failed — with the reason and what to do."
)

companies = service_call(cached_companies, rt, db_key(rt))
if companies is None:
    st.stop()
by_code = {c.code: c for c in companies}

# ------------------------------------------------------------------------------------------- ?run=<id> deep link

linked = st.query_params.get("run")
if linked and str(linked).isdigit() and st.session_state.get("je_linked") != linked:
    st.session_state["je_linked"] = linked
    try:
        run = services.get_run(rt, int(linked))
    except services.ServiceError as exc:
        run = None
        st.warning(exc.message, icon=":material/search_off:")
    if run is not None:
        st.session_state[COMPANY_KEY] = run["company_code"]
        st.session_state[RUN_KEY] = run["id"]
elif (linked_company := st.query_params.get("company")) in by_code and (
    st.session_state.get("je_linked") != f"c:{linked_company}"
):
    st.session_state["je_linked"] = f"c:{linked_company}"
    st.session_state[COMPANY_KEY] = linked_company

if not companies:
    st.info(
        "No payroll company yet. Import a journal file below, or (demo mode) seed the demo payroll on the Demo page.",
        icon=":material/info:",
    )


# ---------------------------------------------------------------------------------------------------- dialogs
# A dialog stays open across reruns while ui.frame's dialog state names it (the button only opens it), so its own
# buttons work on the next run; the X, Cancel or a finished action closes it.


@st.dialog("Send this run to Visma?", width="medium", on_dismiss=close_dialog)
def confirm_send(run: dict, company: services.CompanyView) -> None:
    st.markdown(
        f"**{company.name}** · {run['label']}  \n"
        f"to Visma company **{company.visma_company_name or '—'}** (account *{company.account_name}*)."
    )
    if run.get("total_debit") is not None:
        st.markdown(f"Total debit = total credit = **€ {Decimal(str(run['total_debit'])):,.2f}**")
    st.caption("A run is sent at most once: if the answer gets lost, the dashboard checks Visma before any retry.")
    left, right = st.columns(2)
    if left.button("Send", type="primary", icon=":material/send:", key="je_confirm_send", width="stretch"):
        ok, result = try_service(services.send_run, rt, run["id"], actor=actor())
        data_changed()
        if ok:
            close_dialog()
            _flash_send_result(run, result)
            st.rerun()
    if right.button("Cancel", key="je_cancel_send", width="stretch", on_click=close_dialog):
        st.rerun()


@st.dialog("Send this run again?", width="medium", on_dismiss=close_dialog)
def confirm_resend(run: dict) -> None:
    st.markdown(f"**{run['company']}** · {run['label']} was sent as Visma voucher **{run.get('voucher_number')}**.")
    st.warning(
        "Re-sending creates a **second voucher** in Visma; the first one stays there. Do this only when the first "
        "one was deleted or reversed in Visma.",
        icon=":material/warning:",
    )
    reason = st.text_area(
        "Reason (kept in the audit log)", key="je_resend_reason",
        placeholder="e.g. voucher 2026-0042 was reversed in Visma after the cost-centre correction",
    )
    left, right = st.columns(2)
    if left.button("Send again", type="primary", icon=":material/replay:", key="je_confirm_resend", width="stretch"):
        if len(reason.strip()) < 5:
            st.error("Say why the run is sent again (at least a few words): the reason is kept with the run.")
        else:
            ok, result = try_service(services.resend_run, rt, run["id"], reason=reason.strip(), actor=actor())
            data_changed()
            if ok:
                close_dialog()
                _flash_send_result(run, result)
                st.rerun()
    if right.button("Cancel", key="je_cancel_resend", width="stretch", on_click=close_dialog):
        st.rerun()


def _flash_send_result(run: dict, result: dict | None) -> None:
    result = result or {}
    status = result.get("status", "sent")
    if status == "sent":
        flash(f"{run['company']} · {run['label']} was sent: Visma voucher **{result.get('voucher_number') or '—'}**.",
              "success")
        flash("Journal entry sent", "toast")
    elif status == "failed":
        flash(f"{run['company']} · {run['label']} was not accepted by Visma: {result.get('message') or ''}",
              "error", entry_id=result.get("entry_id"))
    else:
        flash(f"{run['company']} · {run['label']}: {status.replace('_', ' ')}.", "info")


# ------------------------------------------------------------------------------------------------ company picker


def _company_label(code: str) -> str:
    c = by_code[code]
    parts = [f"{c.name} ({code})"]
    if c.runs_failed:
        parts.append(f"{c.runs_failed} failed")
    if c.runs_not_sent:
        parts.append(f"{c.runs_not_sent} not sent")
    return " · ".join(parts)


company: services.CompanyView | None = None
if companies:
    codes = sorted(by_code, key=lambda k: (-(by_code[k].runs_failed or 0), by_code[k].name.lower()))
    if st.session_state.get(COMPANY_KEY) not in by_code:
        st.session_state[COMPANY_KEY] = codes[0]
    code = st.selectbox("Company", codes, key=COMPANY_KEY, format_func=_company_label,
                        help="Companies with failed runs come first. Type to search.")
    company = by_code[code]
    head = st.columns([3, 2])
    if company.account_name:
        head[0].markdown(
            f"Sends to Visma company **{company.visma_company_name or '—'}** with account "
            f"*{company.account_name}*."
        )
        auto = head[1].toggle(
            "Auto-send new runs", value=bool(company.auto_send), key=f"je_auto_{code}",
            help="The worker sends each newly processed run of this company without anyone clicking Send.",
        )
        if auto != bool(company.auto_send) and (
            service_call(services.set_auto_send, rt, code, auto, actor=actor()) is not None
        ):
            data_changed()
            st.toast(f"Automatic sending {'on' if auto else 'off'} for {company.name}.",
                     icon=":material/check_circle:")
    else:
        head[0].warning("Not mapped to a Visma company yet: runs can't be sent. Map it on the Administrations page.",
                        icon=":material/link_off:")

# Fixed for the session: a default that changes (the first import creates a company) would make the tabs a new
# widget and throw the user off the import report they are reading.
default_tab = st.session_state.setdefault("je_default_tab", TABS[0] if companies else TABS[2])
tabs = dict(zip(TABS, st.tabs(TABS, key=TAB_KEY, default=default_tab, on_change="rerun"), strict=True))


def _open(name: str) -> bool:
    state = tabs[name].open
    return state is None or bool(state)


# ---------------------------------------------------------------------------------------------------- runs tab


def _runs_frame(runs: list[dict]) -> pd.DataFrame:
    rows = []
    for r in runs:
        entry = find_entry(r.get("error_entry_id")) if r.get("status") == "failed" else None
        rows.append(
            {
                "id": r["id"],
                "run": r["label"],
                "processed": r.get("processed_at"),
                "status": status_text(r.get("status"), r.get("voucher_number")),
                "problem": entry.title if entry else (r.get("error_message") or "") if r.get("status") == "failed"
                else "",
                "solution": entry.solution if entry else "",
                "attempts": r.get("attempt_count") or 0,
                "total": float(r["total_debit"]) if r.get("total_debit") is not None else None,
            }
        )
    return pd.DataFrame(rows)


def _show_preview(run_id: int) -> None:
    preview = service_call(services.preview_run, rt, run_id)
    if preview is None:
        return
    rows = pd.DataFrame(preview.get("rows") or [])
    balanced = preview.get("balanced")
    st.markdown(
        f"Voucher date **{preview.get('voucher_date')}** · text *{preview.get('voucher_text')}* · "
        + (":green-badge[Balanced]" if balanced else ":red-badge[Not balanced]")
    )
    m1, m2, m3 = st.columns([2, 2, 1])  # amounts get the room: a cut "€ 18,088.…" tells nobody anything
    m1.metric("Total debit (€)", f"{Decimal(str(preview.get('total_debit', 0))):,.2f}")
    m2.metric("Total credit (€)", f"{Decimal(str(preview.get('total_credit', 0))):,.2f}")
    m3.metric("Lines", len(rows))
    if not rows.empty:
        for col in ("debit", "credit"):
            if col in rows:
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
        if "account_number" in rows:
            hits = rows.groupby(["account_number", "account_name"], dropna=False, sort=True)[["debit", "credit"]].sum()
            accounts = ", ".join(f"{a} {n}" for a, n in hits.index)
            st.caption(f"Accounts it will hit in Visma: {accounts}")


def _show_history(run_id: int) -> None:
    history = service_call(services.run_history, rt, run_id) or []
    if not history:
        st.caption("No attempt yet.")
        return
    frame = pd.DataFrame(history)
    st.dataframe(
        frame, hide_index=True, width="stretch",
        column_order=[c for c in ("started_at", "kind", "outcome", "actor", "http_status", "visma_error_code",
                                  "visma_error_id", "entry_id", "error_message", "duration_ms", "reason")
                      if c in frame],
        column_config={
            "started_at": st.column_config.DatetimeColumn("When", format="YYYY-MM-DD HH:mm:ss"),
            "kind": "Kind", "outcome": "Outcome", "actor": "Who", "http_status": "HTTP",
            "visma_error_code": "Visma code", "visma_error_id": "ErrorId", "entry_id": "Entry",
            "error_message": st.column_config.TextColumn("Message", width="large"),
            "duration_ms": st.column_config.NumberColumn("ms"), "reason": "Reason",
        },
    )


def _run_detail(run: dict, company: services.CompanyView) -> None:
    st.markdown(f"### {run['label']}  {export_badge(run['status'], run.get('voucher_number'))}")
    facts = [f"Processed {when(run.get('processed_at'))}"]
    if run.get("sent_at"):
        facts.append(f"sent {when(run.get('sent_at'))}")
    facts.append(f"{run.get('attempt_count') or 0} attempt(s)")
    st.caption(" · ".join(facts))
    if run["status"] == "failed":
        # What it means and what to do first; Visma's own words (codes, ErrorId) for support underneath.
        entry = find_entry(run.get("error_entry_id"))
        if entry is not None:
            st.error(f"Visma did not accept this journal entry: **{entry.title}**. Nothing was booked; fix the "
                     "cause below, then send it again.", icon=":material/error:")
            show_entry(run["error_entry_id"])
        else:
            st.error("Visma did not accept this journal entry, for a reason the troubleshooting catalogue does not "
                     "know yet. Nothing was booked. Prepare a support bundle and attach it to a ticket.",
                     icon=":material/error:")
        if run.get("error_message"):
            with st.expander("Visma's exact answer (for support)", icon=":material/code:",
                             expanded=entry is None):
                st.code(run["error_message"], language=None, wrap_lines=True)
    if run["status"] == "sending":
        st.info("This run is being sent right now (or its answer is being checked with Visma).",
                icon=":material/sync:")
    mapped = bool(company.account_name)
    b1, b2, b3 = st.columns(3)
    if run["status"] == "not_sent":
        b1.button("Send to Visma…", type="primary", icon=":material/send:", key=f"je_send_{run['id']}",
                  disabled=not mapped, help=None if mapped else "Map the company first (Administrations).",
                  on_click=open_dialog, args=("je_send",), kwargs={"run_id": run["id"]})
    elif run["status"] == "failed":
        b1.button("Send again…", type="primary", icon=":material/replay:", key=f"je_send_{run['id']}",
                  disabled=not mapped, help="After fixing the cause (see the solution above).",
                  on_click=open_dialog, args=("je_send",), kwargs={"run_id": run["id"]})
    elif run["status"] == "sent":
        b1.button("Re-send…", icon=":material/replay:", key=f"je_resend_{run['id']}", disabled=not mapped,
                  help="Creates a second voucher in Visma; only with a reason.",
                  on_click=open_dialog, args=("je_resend",), kwargs={"run_id": run["id"]})
    if run["status"] == "failed":
        if b2.button("Support bundle", icon=":material/inventory_2:", key=f"je_bundle_{run['id']}",
                     help="Everything support needs about this failure (no token or secret), as a file for a ticket."):
            bundle = service_call(services.support_bundle, rt, run["id"])
            if bundle is not None:
                st.session_state["je_bundle"] = (run["id"], bundle_bytes(bundle))
        stored = st.session_state.get("je_bundle")
        if stored and stored[0] == run["id"]:
            b3.download_button("Download bundle (JSON)", stored[1], file_name=f"support-bundle-run-{run['id']}.json",
                               mime="application/json", icon=":material/download:", key=f"je_bundle_dl_{run['id']}")
    dialog = pending_dialog("je_send", "je_resend")
    if dialog and dialog[1]["run_id"] == run["id"]:
        if dialog[0] == "je_send" and run["status"] in ("not_sent", "failed"):
            confirm_send(run, company)
        elif dialog[0] == "je_resend" and run["status"] == "sent":
            confirm_resend(run)
        else:
            close_dialog()
    preview_tab, history_tab = st.tabs(["Voucher preview", "Attempts"])
    with preview_tab:
        _show_preview(run["id"])
    with history_tab:
        _show_history(run["id"])


with tabs["Runs"]:
    if _open("Runs") and company is not None:
        runs = service_call(cached_runs, rt, db_key(rt), company.code) or []
        if not runs:
            st.info("This company has no processed runs yet.", icon=":material/info:")
        else:
            counts = pd.Series([r["status"] for r in runs]).value_counts()
            st.markdown(
                " ".join(export_badge(s) + f" **{int(counts.get(s, 0))}**" for s in ("not_sent", "sent", "failed")
                         if counts.get(s))
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
                    "run": st.column_config.TextColumn("Run", pinned=True),
                    "processed": st.column_config.DatetimeColumn("Processed", format="YYYY-MM-DD", width="small"),
                    "status": st.column_config.TextColumn("Export", width="small"),
                    "problem": st.column_config.TextColumn("Problem", width="medium"),
                    "solution": st.column_config.TextColumn("What to do", width="large"),
                    "attempts": st.column_config.NumberColumn("Attempts", width="small"),
                    "total": st.column_config.NumberColumn("Total", format="euro", width="small"),
                },
            )
            rows = event.selection.rows if event is not None else []
            chosen_id = int(frame.iloc[rows[0]]["id"]) if rows else None
            chosen = next((r for r in runs if r["id"] == chosen_id), None)
            if chosen is None:
                st.caption("Select a run to preview its voucher, send it, or see its attempts.")
            else:
                with st.container(border=True):
                    _run_detail(chosen, company)

# ---------------------------------------------------------------------------------------------- bulk sending


def _summary(summary: dict) -> None:
    sent, failed, skipped = (summary.get(k, 0) for k in ("sent", "failed", "skipped"))
    kind = st.success if not failed else st.warning
    kind(f"Done: **{sent}** sent, **{failed}** failed, **{skipped}** skipped.", icon=":material/summarize:")
    results = [r for r in summary.get("results") or [] if r.get("outcome") in ("failed", "unknown", "skipped")]
    if results:
        rows = []
        for r in results:
            entry = find_entry(r.get("entry_id"))
            rows.append({
                "run": f"{r.get('company') or ''} · {r.get('label') or ''}".strip(" ·"),
                "outcome": str(r.get("outcome", "")).capitalize(),
                "problem": entry.title if entry else (r.get("message") or ""),
                "solution": entry.solution if entry else "",
            })
        frame = pd.DataFrame(rows)
        st.markdown("**Runs not sent**")
        st.dataframe(frame, hide_index=True, width="stretch",
                     column_config={"run": "Run", "outcome": "Outcome", "problem": "Problem",
                                    "solution": st.column_config.TextColumn("What to do", width="large")})


@st.fragment
def bulk_panel() -> None:
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
    with st.status(f"Sending {total} runs to Visma…", expanded=True) as status:
        bar = st.progress(0.0, text="Starting…")

        def draw(relay) -> None:
            of = relay.total or total or 1
            last = relay.last.get("result") if isinstance(relay.last.get("result"), dict) else relay.last
            label = f"{relay.done} of {of}"
            if isinstance(last, dict) and last.get("label"):
                label += f" · {last.get('company', '')} {last['label']}: {last.get('outcome', '')}"
            bar.progress(min(1.0, relay.done / of), text=label)

        ok, result = try_service(
            run_with_progress,
            lambda progress: services.send_pending(rt, company_codes=chosen, actor=actor(), progress=progress),
            draw,
        )
        data_changed()
        if not ok:
            status.update(label="Sending stopped", state="error", expanded=True)
            return
        bar.progress(1.0, text="Done")
        failed = result.get("failed", 0)
        status.update(label=f"Sent {result.get('sent', 0)}, failed {failed}, skipped {result.get('skipped', 0)}",
                      state="error" if failed else "complete", expanded=False)
    st.session_state[SUMMARY_KEY] = result
    st.rerun()  # the whole page, so the run tables and counts show the new states


with tabs["Send pending"]:
    if _open("Send pending"):
        st.caption("Send every run that is not sent yet, for one or many companies. Each run is sent at most once; "
                   "failures get their explanation in the summary.")
        bulk_panel()

# ----------------------------------------------------------------------------------------------------- import

with tabs["Import a journal file"]:
    if _open("Import a journal file"):
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
            name, report = stored
            imported, errors = report.imported, report.errors
            if imported:
                st.success(f"{name}: imported {len(imported)} run(s): " + ", ".join(map(str, imported)),
                           icon=":material/task_alt:")
            if errors:
                st.error(f"{name}: nothing was imported — {len(errors)} problem(s) to fix in the file. Correct them "
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
                st.info(f"{name}: nothing new to import (every run in it exists already).")

# ------------------------------------------------------------------------------------------- history and chart

with tabs["History and chart"]:
    if _open("History and chart"):
        scope_all = st.toggle("All companies", value=company is None, key="je_hist_all",
                              disabled=company is None)
        scope = None if scope_all or company is None else company.code
        counts = service_call(cached_counts, rt, db_key(rt), scope) or []
        chart = exports_chart(counts)
        st.markdown("**Exports per period**" + ("" if scope is None else f" — {company.name}"))
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

"""The Journal Export's confirmations: send a run, re-send a sent run (only with a reason).

A dialog stays open across reruns while ui.frame's dialog state names it (the button only opens it), so its own
buttons work on the next run; the X, Cancel or a finished action closes it.
"""

from __future__ import annotations

import streamlit as st

from core import services
from ui.feedback import flash, try_service
from ui.frame import actor, close_dialog, data_changed
from ui.text import plain


@st.dialog("Send this run to Visma?", width="medium", on_dismiss=close_dialog)
def confirm_send(rt, run: services.RunView, company: services.CompanyView) -> None:
    st.markdown(
        f"**{plain(company.name)}** · {run.label}  \n"
        f"to Visma company **{plain(company.visma_company_name or '—')}** (account *{plain(company.account_name)}*)."
    )
    st.markdown(f"Total debit = total credit = **{services.format_amount(run.total_debit)}**")
    st.caption("A run is sent at most once: if the answer gets lost, the dashboard checks Visma before any retry.")
    left, right = st.columns(2)
    if left.button("Send", type="primary", icon=":material/send:", key="je_confirm_send", width="stretch"):
        ok, result = try_service(services.send_run, rt, run.id, actor=actor())
        data_changed()
        if ok:
            close_dialog()
            _flash_send_result(run, result)
            st.rerun()
    if right.button("Cancel", key="je_cancel_send", width="stretch", on_click=close_dialog):
        st.rerun()


@st.dialog("Send this run again?", width="medium", on_dismiss=close_dialog)
def confirm_resend(rt, run: services.RunView) -> None:
    st.markdown(f"**{plain(run.company)}** · {run.label} was sent as Visma voucher **{plain(run.voucher_number)}**.")
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
            ok, result = try_service(services.resend_run, rt, run.id, reason=reason.strip(), actor=actor())
            data_changed()
            if ok:
                close_dialog()
                _flash_send_result(run, result)
                st.rerun()
    if right.button("Cancel", key="je_cancel_resend", width="stretch", on_click=close_dialog):
        st.rerun()


def _flash_send_result(run: services.RunView, result: services.SendResultView) -> None:
    status = result.status or "sent"
    if status == "sent":
        flash(f"{plain(run.company)} · {run.label} was sent: Visma voucher **{plain(result.voucher_number or '—')}**.",
              "success")
        flash("Journal entry sent", "toast")
    elif status == "failed":
        flash(f"{plain(run.company)} · {run.label} was not accepted by Visma: {plain(result.message or '')}",
              "error", entry_id=result.entry_id)
    elif status == "unconfirmed":
        flash(f"{plain(run.company)} · {run.label} is **unconfirmed**: Visma did not answer, so the voucher may or may "
              "not be booked. Do not book it by hand: it is checked in Visma by its marker as soon as Visma answers "
              "(or now, with *Check in Visma now*).", "warning")
    else:
        flash(f"{plain(run.company)} · {run.label}: {status.replace('_', ' ')}.", "info")

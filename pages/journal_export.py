"""Journal Export: a company's processed payroll runs and their export to Visma eAccounting.

Per run: a status badge (grey *not sent*, blue *sending*, orange *unconfirmed*, green *sent* with Visma's voucher
number, red *failed* with the troubleshooting entry inline), the voucher preview, send (after a confirmation), re-send
(only with a reason) and the history of attempts. Across companies: send every pending run with progress and a
summary. Also: import a journal file, the export history as CSV and a chart of exports per period. ``?run=<id>``
focuses one run (other pages link here), ``?company=<code>`` one company. Every number comes from ``core.services``;
the tabs are drawn by ``ui.journal_export``. """

from __future__ import annotations

import streamlit as st

from core import services
from ui.feedback import service_call
from ui.frame import actor, data_changed, get_runtime
from ui.journal_export.bulk import bulk_tab
from ui.journal_export.history import history_tab
from ui.journal_export.import_tab import import_tab
from ui.journal_export.runs import RUN_KEY, runs_tab
from ui.reads import cached_companies, db_key
from ui.text import plain

COMPANY_KEY = "je_company"
LAST_COMPANY_KEY = "last_company"  # kept across pages (Administrations sets it to the company just mapped)
TAB_KEY = "je_tab"
TABS = ("Runs", "Send pending", "Import a journal file", "History and chart")

rt = get_runtime()

st.title("Journal Export")
st.caption(
    "Processed payroll runs become journal entries (vouchers) in Visma eAccounting. Grey means not sent yet, green "
    "sent (with Visma's voucher number), orange unconfirmed (Visma did not answer; checked by itself), red failed — "
    "with the reason and what to do."
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
        st.warning(plain(exc.message), icon=":material/search_off:")
    if run is not None:
        st.session_state[COMPANY_KEY] = run.company_code
        st.session_state[RUN_KEY] = run.id
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


# ------------------------------------------------------------------------------------------------ company picker


def _company_label(code: str) -> str:
    """Name and code only: a label that never changes, because a selectbox keeps showing the label it had when it
    was chosen (counts in the label stayed stale after a send). The counts are drawn below it, fresh each run."""
    return f"{by_code[code].name} ({code})"


def _company_counts(c: services.CompanyView) -> str:
    """Every run counted once, in the status order of the badges under it (not sent … failed)."""
    parts = [(c.runs_not_sent, "not sent"), (c.runs_sending, "sending"), (c.runs_unconfirmed, "unconfirmed"),
             (c.runs_sent, "sent"), (c.runs_failed, "failed")]
    return " · ".join(f"{n} {label}" for n, label in parts if n) or "no runs"


company: services.CompanyView | None = None
if companies:
    # A stable order (by name, then code), and the selection kept by the company's code: a send that changes the
    # counts never moves the picker to another company. The last company used stays chosen across pages.
    codes = sorted(by_code, key=lambda k: (by_code[k].name.lower(), k))
    if st.session_state.get(COMPANY_KEY) not in by_code:
        last = st.session_state.get(LAST_COMPANY_KEY)
        st.session_state[COMPANY_KEY] = last if last in by_code else codes[0]
    code = st.selectbox("Company", codes, key=COMPANY_KEY, format_func=_company_label,
                        help="In alphabetical order. Type to search.")
    st.session_state[LAST_COMPANY_KEY] = code
    company = by_code[code]
    st.caption(f"Runs: {_company_counts(company)}")
    head = st.columns([3, 2])
    if company.account_name:
        head[0].markdown(
            f"Sends to Visma company **{plain(company.visma_company_name or '—')}** with account "
            f"*{plain(company.account_name)}*."
        )
        auto = head[1].toggle(
            "Auto-send new runs", value=bool(company.auto_send), key=f"je_auto_{code}",
            help="The worker sends each newly processed run of this company without anyone clicking Send.",
        )
        if auto != bool(company.auto_send) and (
            service_call(services.set_auto_send, rt, code, auto, actor=actor()) is not None
        ):
            data_changed()
            st.toast(f"Automatic sending {'on' if auto else 'off'} for {plain(company.name)}.",
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


with tabs["Runs"]:
    if _open("Runs") and company is not None:
        runs_tab(rt, company)

with tabs["Send pending"]:
    if _open("Send pending"):
        bulk_tab(rt, companies, company)

with tabs["Import a journal file"]:
    if _open("Import a journal file"):
        import_tab(rt, company)

with tabs["History and chart"]:
    if _open("History and chart"):
        history_tab(rt, company)

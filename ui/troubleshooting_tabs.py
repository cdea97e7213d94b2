"""The tabs of the Troubleshooting page: the matcher, the catalogue, recent failures, a live diagnosis of a
mapping and the support bundle. The page script (``pages/troubleshooting.py``) routes; these draw."""

from __future__ import annotations

import streamlit as st

from core import services
from ui.downloads import bundle_bytes
from ui.entries import find_entry, show_entry, show_failed_sends, solution_markdown
from ui.feedback import service_call
from ui.reads import cached_companies, cached_failed_runs, cached_recent_failures, catalogue_frame, db_key
from ui.status import FIX_IN_LABELS, LANGUAGE_LABELS, SEVERITY_COLORS, SEVERITY_LABELS, period_label
from ui.text import plain

MATCH_KEY = "ts_match_result"
PREFLIGHT_KEY = "ts_preflight"
BUNDLE_KEY = "ts_bundle"


def entry_details(entry) -> None:
    """Title, badges, cause, solution, steps and the messages it recognises."""
    st.markdown(f"#### {entry.title}")
    st.markdown(
        f":{SEVERITY_COLORS.get(entry.severity, 'gray')}-badge[{SEVERITY_LABELS.get(entry.severity, entry.severity)}]"
        f" :gray-badge[Fix in: {FIX_IN_LABELS.get(entry.fix_in, entry.fix_in)}] :gray-badge[id: {entry.id}]"
    )
    st.markdown(f"**Cause:** {entry.cause}")
    st.markdown(solution_markdown(entry.solution))
    if entry.steps:
        st.markdown("**Steps**\n" + "\n".join(f"{i}. {step}" for i, step in enumerate(entry.steps, start=1)))
    with st.expander("Messages this entry recognises"):
        for example in entry.examples:
            st.code(example, language=None, wrap_lines=True)


@st.fragment
def matcher() -> None:
    """Paste any error text (Visma's JSON, an e-mail, Dutch or English) and get the entry that explains it."""
    st.markdown("Paste the error exactly as the customer or the log shows it — JSON, an e-mail, Dutch or English.")
    with st.form("ts_match_form", border=False):
        text = st.text_area(
            "Error text",
            key="ts_paste",
            height=120,
            placeholder="e.g. Resource not found: fiscalYearId",
        )
        submitted = st.form_submit_button("Find the explanation", type="primary", icon=":material/search:")
    if submitted:
        st.session_state[MATCH_KEY] = services.match(text) if text.strip() else None
        if not text.strip():
            st.warning("Paste an error text first.")
    result = st.session_state.get(MATCH_KEY)
    if result is None:
        return
    runner = result.runner_up
    if result.id:
        headline = f"**Best match:** {result.title}  ·  score {result.score:.0f}/100  ·  {result.confidence} confidence"
        if result.confidence == "low":
            st.warning(headline, icon=":material/help:")
            st.markdown(f"**Not sure:** {plain(result.note or services.MATCH_CONFIDENCE['low'])}")
        else:
            st.success(headline, icon=":material/check:")
        st.caption(f"Confidence {result.confidence}: {services.MATCH_CONFIDENCE[result.confidence]}.")
        with st.container(border=True):
            entry_details(find_entry(result.id))
    else:
        st.info(
            "No known error matches this text. Check that the whole message was pasted; if it is new, attach a "
            "support bundle to a ticket so the catalogue can learn it.",
            icon=":material/help:",
        )
    if runner and (result.confidence == "low" or not result.id):
        label = "Runner-up" if result.id else "Closest entry, not close enough to name"
        st.markdown(f"**{label}:** {runner['title']}  ·  score {runner['score']:.0f}/100")
        with st.expander(f"{label}: {runner['title']} · score {runner['score']:.0f}", expanded=bool(result.id)):
            entry = find_entry(runner["id"])
            if entry:
                entry_details(entry)
    others = [a for a in result.alternatives if not (runner and a["id"] == runner["id"])]
    if others:
        st.markdown("**Other possible explanations**")
        for alt in others:
            with st.expander(f"{alt['title']} · score {alt['score']:.0f}"):
                entry = find_entry(alt["id"])
                if entry:
                    entry_details(entry)


def catalogue_tab(linked_entry: str | None) -> None:
    """The searchable catalogue; a deep-linked entry is the first search."""
    c1, c2, c3, c4 = st.columns([3, 1.3, 1, 1])
    query = c1.text_input(
        "Search",
        key="ts_search",
        placeholder="Words from the message, cause or solution (e.g. boekjaar, 4026, default company)",
        value=linked_entry or "",
    )
    fix_in = c2.selectbox(
        "Where to fix", [None, *FIX_IN_LABELS], format_func=lambda v: "Anywhere" if v is None else FIX_IN_LABELS[v],
        key="ts_fix_in",
    )
    severity = c3.selectbox(
        "Severity", [None, *SEVERITY_LABELS], format_func=lambda v: "Any" if v is None else SEVERITY_LABELS[v],
        key="ts_severity",
    )
    language = c4.selectbox(
        "Language", [None, *LANGUAGE_LABELS], format_func=lambda v: "Any" if v is None else LANGUAGE_LABELS[v],
        key="ts_language",
    )
    ids = [e.id for e in services.search(query, fix_in=fix_in, severity=severity, language=language)]
    frame = catalogue_frame().set_index("id").loc[ids].reset_index() if ids else catalogue_frame().iloc[0:0]
    st.caption(f"{len(frame)} of {len(catalogue_frame())} entries")
    if frame.empty:
        st.info("No entry matches. Try fewer words, or paste the whole error in *Paste an error*.")
    else:
        view = frame.assign(
            severity=frame["severity"].map(SEVERITY_LABELS),
            fix_in=frame["fix_in"].map(FIX_IN_LABELS),
        )
        event = st.dataframe(
            view,
            key="ts_table",
            hide_index=True,
            width="stretch",
            lazy=False,
            on_select="rerun",
            selection_mode="single-row",
            height=min(36 + 35 * len(view), 480),
            column_order=("title", "severity", "fix_in", "cause", "solution", "message", "language", "codes"),
            column_config={
                "title": st.column_config.TextColumn("Entry", width="large", pinned=True),
                "severity": st.column_config.TextColumn("Severity", width="small"),
                "fix_in": st.column_config.TextColumn("Fix in", width="medium"),
                "message": st.column_config.TextColumn("Message", width="large"),
                "cause": st.column_config.TextColumn("Cause", width="large"),
                "solution": st.column_config.TextColumn("Solution", width="large"),
                "language": st.column_config.TextColumn("Language", width="small"),
                "codes": st.column_config.TextColumn("Visma codes", width="small"),
            },
        )
        rows = event.selection.rows if event is not None else []
        chosen = frame.iloc[rows[0]]["id"] if rows else (ids[0] if len(ids) == 1 else None)
        if chosen:
            with st.container(border=True):
                entry_details(find_entry(chosen))
        else:
            st.caption("Select a row to see the entry's steps and the messages it recognises.")


def failures_tab(rt) -> None:
    """Failed exports grouped by the entry that explains them, most frequent first."""
    failures = service_call(cached_recent_failures, rt, db_key(rt)) or []
    if not failures:
        st.success("No failed exports recently.", icon=":material/task_alt:")
    else:
        st.caption("Failed exports grouped by troubleshooting entry, most frequent first.")
        for group in failures:
            entry_id = group.get("entry_id")
            title = group.get("title") or (entry_id or "Unrecognised error")
            companies = group.get("companies") or []
            affected = int(group.get("companies_affected") or len(companies))
            count = group.get("count", 0)
            label = f"**{title}** — {count} failed run{'s' if count != 1 else ''}, {affected} compan" + (
                "y" if affected == 1 else "ies"
            )
            with st.expander(label, icon=":material/error:"):
                if companies:
                    more = affected - len(companies)
                    st.markdown("Companies affected: " + ", ".join(f"`{c}`" for c in companies)
                                + (f" and {more} more" if more > 0 else ""))
                last = group["last_at"]
                if last:
                    st.caption(f"Last failure: {last}")
                if entry_id:
                    show_entry(entry_id)
                else:
                    st.info("No catalogue entry explains this error yet. Paste its message in *Paste an error*.")


def _show_findings(findings: list[dict]) -> None:
    problems = [f for f in findings if f.get("severity") in ("error", "warning")]
    if not problems:
        st.success("No problems found: this mapping is ready to send.", icon=":material/task_alt:")
    worst = {"error": 0, "warning": 1, "info": 2}
    for finding in sorted(findings, key=lambda f: worst.get(f.get("severity"), 3)):
        severity = finding.get("severity", "info")
        if severity == "ok":
            st.markdown(f":green[:material/check_circle:] {plain(finding.get('message', ''))}")
            continue
        icon = {"error": ":material/error:", "warning": ":material/warning:"}.get(severity, ":material/info:")
        with st.expander(f"{SEVERITY_LABELS.get(severity, severity)}: {plain(finding.get('message', ''))}", icon=icon,
                         expanded=severity == "error"):
            if finding.get("detail"):
                st.caption(plain(finding["detail"]))
            if finding.get("entry_id"):
                show_entry(finding["entry_id"])


def diagnose_tab(rt) -> None:
    """A live preflight of one mapped company: what Visma would refuse, before anything is sent."""
    companies = service_call(cached_companies, rt, db_key(rt)) or []
    mapped = [c for c in companies if c.account_name]
    if not mapped:
        st.info("No payroll company is mapped to a Visma company yet. Map one on the Administrations page.")
    else:
        by_code = {c.code: c for c in mapped}
        code = st.selectbox(
            "Mapped company",
            list(by_code),
            format_func=lambda c: f"{by_code[c].name} ({c}) → {by_code[c].visma_company_name or '?'}",
            key="ts_preflight_company",
        )
        st.caption("Asks Visma live: the fiscal years, the accounts and cost centres the runs will use, the "
                   "API module and the account's access. Nothing is posted.")
        if st.button("Run the check", key="ts_preflight_run", type="primary", icon=":material/troubleshoot:"):
            with st.spinner("Checking the mapping with Visma…"):
                findings = service_call(services.preflight_company, rt, code)
            if findings is not None:
                st.session_state[PREFLIGHT_KEY] = (code, findings)
        stored = st.session_state.get(PREFLIGHT_KEY)
        if stored and stored[0] == code:
            _show_findings(stored[1])
            show_failed_sends(rt, code, stored[1])


def bundle_tab(rt, linked_run: str | None) -> None:
    """The support bundle of a failed run (the deep-linked run first)."""
    failed = list(service_call(cached_failed_runs, rt, db_key(rt)) or [])
    if linked_run and str(linked_run).isdigit():
        failed.sort(key=lambda r: r.id != int(linked_run))
    if not failed:
        st.success("No failed export: there is nothing to bundle.", icon=":material/task_alt:")
    else:
        runs = {r.id: r for r in failed}
        run_id = st.selectbox(
            "Failed run",
            list(runs),
            format_func=lambda i: f"{runs[i].company} · {period_label(runs[i].year, runs[i].period)} "
            f"run {runs[i].run_number} · {runs[i].error_entry_id or 'unrecognised'}",
            key="ts_bundle_run",
        )
        st.caption("The bundle holds the voucher that was sent, Visma's response and ErrorId, the mapping and the "
                   "catalogue entry — never a token or a secret. Attach it to a support ticket.")
        bundle = st.session_state.get(BUNDLE_KEY)
        if st.button("Prepare the support bundle", key="ts_bundle_make", icon=":material/inventory_2:"):
            bundle = service_call(services.support_bundle, rt, run_id)
            st.session_state[BUNDLE_KEY] = (run_id, bundle) if bundle is not None else None
            bundle = st.session_state[BUNDLE_KEY]
        if bundle and bundle[0] == run_id and bundle[1] is not None:
            data = bundle[1]
            run = runs[run_id]
            st.download_button(
                "Download support bundle (JSON)",
                data=bundle_bytes(data),
                file_name=f"support-bundle-{run.company_code}-{period_label(run.year, run.period)}"
                f"-run{run.run_number}.json",
                mime="application/json",
                key="ts_bundle_download",
                type="primary",
                icon=":material/download:",
            )
            entry_id = data.get("entry_id") or run.error_entry_id
            if entry_id:
                show_entry(entry_id)
            with st.expander("What the bundle contains"):
                st.json(data, expanded=1)

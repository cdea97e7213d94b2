"""Troubleshooting entries on any page: the look-up, the rendered entry with its cause and solution, the link to it on
the Troubleshooting page, and the causes of a company's failed sends below a preflight."""

from __future__ import annotations

import contextlib
import logging

import streamlit as st

from core import services
from ui.frame import TROUBLESHOOTING_PAGE
from ui.text import plain

log = logging.getLogger(__name__)


def find_entry(entry_id: str | None) -> services.Entry | None:
    """The catalogue entry with this id, or None (no id, an unknown id, or a catalogue that failed to load)."""
    try:
        return services.find_entry(entry_id)
    except Exception:  # the catalogue failing to load must not hide the error being explained
        log.exception("The troubleshooting catalogue could not be loaded")
        return None


def troubleshooting_link(entry_id: str, label: str | None = None) -> None:
    """A link to the entry on the Troubleshooting page (left out when that page is not registered)."""
    with contextlib.suppress(Exception):  # the page is not part of this navigation
        st.page_link(
            TROUBLESHOOTING_PAGE,
            label=label or "Open in Troubleshooting",
            icon=":material/help:",
            query_params={"entry": entry_id},
        )


def solution_markdown(solution: str) -> str:
    """'**Solution:**' and the catalogue's text; numbered steps start on their own line, so Markdown keeps the list
    (a list cannot interrupt the paragraph the label starts)."""
    solution = (solution or "").strip()
    if "\n" in solution or solution[:3] in ("1. ", "1) "):
        return f"**Solution:**\n\n{solution}"
    return f"**Solution:** {solution}"


_CONFIDENCE_LOOKS = {"high": "green", "medium": "blue", "low": "orange"}


def show_entry(entry_id: str, *, title_prefix: str = "", message: str | None = None) -> None:
    """Render a troubleshooting entry: title, cause, solution, where to fix it, and a link to the full entry. With
    the ``message`` it came with, how sure the catalogue is that this entry explains it (as on Troubleshooting)."""
    entry = find_entry(entry_id)
    with st.container(border=True):
        if entry is None:
            st.markdown(f"**Troubleshooting entry `{entry_id}`**")
        else:
            sure = services.entry_confidence(entry_id, message)
            badge = (f"  :{_CONFIDENCE_LOOKS.get(sure.level, 'gray')}-badge[{sure.level.capitalize()} confidence]"
                     if sure else "")
            st.markdown(f"**{title_prefix}{entry.title}**{badge}", help=sure.meaning if sure else None)
            if sure and sure.note:
                st.caption(f"Not sure: {plain(sure.note)}.")
            st.markdown(f"**Cause:** {entry.cause}")
            st.markdown(solution_markdown(entry.solution))
            if entry.steps:  # the article's one-line solutions get their full steps here (e.g. the API module first)
                with st.expander("Step by step", icon=":material/format_list_numbered:"):
                    st.markdown("\n".join(f"{i}. {step}" for i, step in enumerate(entry.steps, 1)))
            if entry.fix_in:
                place = services.FIX_IN_PLACES.get(entry.fix_in)
                st.caption(f"Where to fix it: {place.phrase if place else entry.fix_in}")
        troubleshooting_link(entry_id)


def show_failed_sends(rt, company_code: str, findings: list[dict]) -> None:
    """Below a preflight: the causes of this company's failed sends that the check did not report.

    Some refusals exist only when a voucher is posted (the article's *'Ledger' cannot be empty*, a period locked after
    the check, a rate limit), so "no problems found" next to runs that keep failing would mislead; say so, with the
    entries that explain those failures.
    """
    try:
        failed = services.list_runs(rt, company_code=company_code, status="failed")
    except Exception:  # the check's own result stays readable when this extra read fails
        log.exception("Reading the failed runs of %s failed", company_code)
        return
    seen = {f.get("entry_id") for f in findings if f.get("entry_id")}
    causes: dict[str | None, int] = {}
    for run in failed:
        if run.error_entry_id not in seen:
            causes[run.error_entry_id] = causes.get(run.error_entry_id, 0) + 1
    if not causes:
        return
    total = sum(causes.values())
    st.warning(
        f"{services.count(total, 'run')} of this company {'was' if total == 1 else 'were'} refused by Visma when sent, "
        "for reasons this check cannot see beforehand (Visma reports them only when a journal entry is posted). "
        "Fix these too before sending again:",
        icon=":material/history:",
    )
    for entry_id, n in sorted(causes.items(), key=lambda item: -item[1])[:3]:
        if entry_id:
            show_entry(entry_id, title_prefix=f"{services.count(n, 'run')}: ")
        else:
            st.markdown(f"- {services.count(n, 'run')} with an error the catalogue does not know yet "
                        "(see Journal Export).")

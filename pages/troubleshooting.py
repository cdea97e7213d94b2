"""Troubleshooting: the error catalogue, the "paste an error" matcher, recent failures by entry, a live diagnosis of a
mapping, and the support bundle of a failed export.

Support staff land here from a failed export (``?entry=<id>`` opens that entry) or with an error text a customer
sent. Everything shown comes from ``core.services``; the catalogue is cached (it changes only with a release).
"""

from __future__ import annotations

import streamlit as st

from ui.entries import find_entry, show_entry
from ui.frame import get_runtime
from ui.text import plain
from ui.troubleshooting_tabs import bundle_tab, catalogue_tab, diagnose_tab, failures_tab, matcher

TAB_KEY = "ts_tab"
TABS = ("Paste an error", "Catalogue", "Recent failures", "Diagnose a mapping", "Support bundle")

rt = get_runtime()

st.title("Troubleshooting")
st.caption(
    "Find what an error means and how to fix it: paste the message (the answer says how sure it is), search the "
    "catalogue, see which errors hit customers this period, check a mapping before sending, and download a support "
    "bundle for a ticket."
)

# ------------------------------------------------------------------------------------------- ?entry=<id> deep link

linked_entry = st.query_params.get("entry")
linked_run = st.query_params.get("run")
if linked_entry:
    if find_entry(linked_entry) is None:
        st.warning(f"There is no troubleshooting entry {plain(linked_entry)}. Search the catalogue below.")
    else:
        st.subheader("Linked entry")
        show_entry(linked_entry)

default_tab = "Support bundle" if linked_run else ("Catalogue" if linked_entry else TABS[0])
tabs = dict(zip(TABS, st.tabs(TABS, key=TAB_KEY, default=default_tab, on_change="rerun"), strict=True))


def _is_open(name: str) -> bool:
    # Tabs with state tracking tell which one is open; only that one's content runs (the others cost nothing).
    state = tabs[name].open
    return state is None or bool(state)


with tabs["Paste an error"]:
    if _is_open("Paste an error"):
        matcher()
with tabs["Catalogue"]:
    if _is_open("Catalogue"):
        catalogue_tab(linked_entry)
with tabs["Recent failures"]:
    if _is_open("Recent failures"):
        failures_tab(rt)
with tabs["Diagnose a mapping"]:
    if _is_open("Diagnose a mapping"):
        diagnose_tab(rt)
with tabs["Support bundle"]:
    if _is_open("Support bundle"):
        bundle_tab(rt, linked_run)

"""A link straight to a page (a bookmark, ``/journal_export?run=12`` from an e-mail) opened first after the server
starts still gets the whole dashboard: app.py's navigation and sidebar, not the page script alone with the helper
modules of ``pages/`` listed as pages (Streamlit's legacy pages-folder mode). Its own module: it needs a server that
no browser has opened yet.
"""

from __future__ import annotations

import pytest

from tests.e2e.browser import wait_for_app

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.xdist_group("e2e")]


def test_first_visit_by_a_page_link_gets_the_dashboard_frame(dashboard, web, shots):
    page = web
    page.goto(f"{dashboard.url}troubleshooting?entry=ledger-empty")
    wait_for_app(page)
    # The page reruns once through app.py; under load that rerun can start after the first run reports done, so
    # wait for app.py's navigation itself (its titles, not the legacy folder's file names) rather than a fixed count.
    nav = page.get_by_test_id("stSidebarNav")
    nav.get_by_role("link", name="Journal Export", exact=True).wait_for(timeout=60_000)  # not "journal export"
    wait_for_app(page)
    shots(page, "troubleshooting-opened-by-link")
    links = nav.get_by_role("link")
    titles = [t.strip() for t in links.all_inner_texts()]
    assert any("Journal Export" in t for t in titles), titles
    assert not any(t.strip() in ("common", "export ui", "app") for t in titles), titles
    assert page.get_by_test_id("stSidebar").get_by_text("Visma identity").count() == 1  # app.py's sidebar
    # the page asked for, with its query parameter
    assert page.get_by_test_id("stMain").get_by_text("Linked entry").count() == 1
    assert "troubleshooting" in page.url

"""The first page load after the server starts never shows Streamlit's legacy page list (the file names in
``pages/``: "app", "journal export"…) in the sidebar, not even for a moment before app.py's ``st.navigation`` runs
(issue 12). Its own module: it needs a server that no browser has opened yet.

A script in the page records every sidebar navigation link the browser ever renders, from the first paint on.
"""

from __future__ import annotations

import pytest

from tests.e2e.browser import wait_for_app

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.xdist_group("e2e")]

TITLES = {"Overview", "Accounts", "Administrations", "Journal Export", "Troubleshooting", "Demo"}

RECORD_NAV = r"""
(() => {
  window.__navSeen = [];
  const note = () => {
    document.querySelectorAll('[data-testid="stSidebarNav"] a, [data-testid="stSidebarNavLink"], '
                              + '[data-testid="stTopNavLink"]').forEach((a) => {
      // a link's text is its icon's name, then its title: keep the title
      const lines = (a.innerText || a.textContent || '').split('\n').map((l) => l.trim()).filter(Boolean);
      const text = lines.length ? lines[lines.length - 1] : '';
      if (text && !window.__navSeen.includes(text)) window.__navSeen.push(text);
    });
  };
  new MutationObserver(note).observe(document, {subtree: true, childList: true, characterData: true});
  document.addEventListener('DOMContentLoaded', note);
})();
"""


def test_first_load_shows_only_the_dashboards_page_titles(dashboard, web, shots):
    page = web
    page.add_init_script(RECORD_NAV)
    page.goto(dashboard.url)
    wait_for_app(page)
    nav = page.get_by_test_id("stSidebarNav")
    nav.get_by_role("link", name="Journal Export", exact=True).wait_for(timeout=60_000)
    wait_for_app(page)
    shots(page, "first-load")
    seen = page.evaluate("window.__navSeen")
    assert "Journal Export" in seen, seen
    assert set(seen) <= TITLES, f"file names shown in the navigation: {sorted(set(seen) - TITLES)}"
    # the page itself is drawn (not a blank page under a list of files)
    assert page.get_by_test_id("stMain").get_by_role("heading").count() >= 1


def test_a_link_to_a_page_shows_only_the_titles_too(dashboard, web):
    page = web
    page.add_init_script(RECORD_NAV)
    page.goto(f"{dashboard.url}accounts")
    wait_for_app(page)
    page.get_by_test_id("stSidebarNav").get_by_role("link", name="Accounts", exact=True).wait_for(timeout=60_000)
    seen = page.evaluate("window.__navSeen")
    assert set(seen) <= TITLES, seen

"""Text from outside stays text in a real browser: a crafted OAuth callback and hostile account and company names
produce no link and no request to an outside host (bad input and bad days). Its own module: its own server."""

from __future__ import annotations

from urllib.parse import urlencode, urlsplit

import pytest

from tests.e2e.browser import wait_for_app

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.xdist_group("e2e")]

HOSTILE = "[Click here to re-authorize](https://evil.example/phish) ![t](http://attacker.example/r.png)"


def _outside_requests(page) -> list[str]:
    seen: list[str] = []
    page.on("request", lambda request: seen.append(request.url))
    return seen


def _assert_inert(page, seen: list[str]) -> None:
    main = page.get_by_test_id("stMain")
    links = main.locator("a[href*='evil.example']")
    assert links.count() == 0, [links.nth(i).evaluate("e => e.parentElement.outerHTML") for i in range(links.count())]
    assert page.locator("img[src*='attacker.example']").count() == 0
    outside = [url for url in seen if (urlsplit(url).hostname or "").endswith(("evil.example", "attacker.example"))]
    assert not outside, outside


def test_a_crafted_callback_and_hostile_names_render_inert(dashboard, web, shots):
    from core import services

    rt = dashboard.runtime()
    try:
        services.create_account(rt, HOSTILE, actor="test")
        url = services.start_authorization(rt, HOSTILE, actor="test", redirect_uri=dashboard.url)
        state = url.split("state=")[1].split("&")[0]
        services.import_journal_file(
            rt, "HOSTILE", "journaal.csv",
            (b"EmployeeName;Period;Year;Run;Department;CostCenter;CostUnit;Percentage;GeneralLedgerAccount;"
             b"ComponentName;Debit;Credit\r\nJan;1;2026;1;;;;;4000;Salaris;100,00;\r\n"
             b"Jan;1;2026;1;;;;;1520;Netto;;100,00\r\n"),
            actor="test", company_name=HOSTILE)
    finally:
        rt.close()

    page = web
    seen = _outside_requests(page)
    page.goto(f"{dashboard.url}?" + urlencode({"error": "invalid_request", "error_description": HOSTILE,
                                               "state": state}))
    wait_for_app(page)
    error = page.get_by_test_id("stAlertContentError").first
    error.wait_for()
    assert "Click here to re-authorize" in error.inner_text()
    shots(page, "crafted-callback")
    _assert_inert(page, seen)

    for path in ("accounts", "administrations", "journal_export", "troubleshooting", "demo", ""):
        page.goto(f"{dashboard.url}{path}")
        wait_for_app(page)
        shots(page, f"hostile-names-{path or 'overview'}")
        _assert_inert(page, seen)

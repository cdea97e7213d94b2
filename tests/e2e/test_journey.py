"""The journey users know from the payroll vendor's article, in headless Chromium against the sandbox:

create an account → authorize it at Visma's login (company choice, *Allow*) → back on Accounts with a red badge, no F5
→ map a payroll company → preview and send a run → red badge with the voucher number; then the Visma company loses its
fiscal year → send → failed, with the article's cause and solution.

Screenshots of each step go to artifacts/e2e/<test name>/.
"""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.sync_api import expect

from tests.e2e.browser import wait_for_app

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.xdist_group("e2e")]

EMAIL = "anna.dekker@demo-bureau.nl"
PASSWORD = "Welkom2026!"  # the sandbox's published demo password
COMPANY = "Bakkerij De Gouden Korst B.V."
COMPANY_CODE = "BAKKERIJ-DGK"
ARTICLE_CAUSE = "The fiscal year has not ben created yet in the portal of Visma."
ARTICLE_SOLUTION = "Log in to the Visma portal and create the fiscal year for which you want to export the journal"


def main(page):
    return page.get_by_test_id("stMain")


def nav(page, title: str) -> None:
    page.get_by_test_id("stSidebarNav").get_by_role("link", name=title).click()
    wait_for_app(page)


def choose(page, label: str, option: str) -> None:
    """Pick an option of a Streamlit selectbox by its label."""
    page.get_by_test_id("stSelectbox").filter(has_text=label).first.click()
    page.get_by_role("option", name=re.compile(re.escape(option))).first.click()
    wait_for_app(page)


def bakkerij_runs(dashboard) -> list:
    from core import services

    rt = dashboard.runtime()
    try:
        runs = services.list_runs(rt, company_code=COMPANY_CODE)
    finally:
        rt.close()
    return sorted(runs, key=lambda r: (r.year, r.period, r.run_number))


def test_authorize_map_send_and_fail_like_the_article(dashboard, web, shots):
    page = web
    # Processed payroll runs exist (the demo payroll), as they would after payroll processing.
    from core import services

    rt = dashboard.runtime()
    services.seed_demo_payroll(rt)
    rt.close()

    page.goto(dashboard.url)
    wait_for_app(page)
    expect(page.get_by_test_id("stSidebar")).to_contain_text("Demo")
    shots(page, "start")

    # 1. Create an account (a name of our choosing): grey logo, not authorized.
    nav(page, "Accounts")
    expect(page.get_by_text("No accounts yet")).to_be_visible()
    page.get_by_test_id("stExpander").filter(has_text="New account").locator("summary").click()
    page.get_by_role("textbox", name="Account name").fill("Bakkerij Visma")
    page.get_by_role("button", name="Create account").click()
    wait_for_app(page)
    expect(main(page).get_by_text("Not authorized", exact=True).last).to_be_visible()
    shots(page, "account created - grey not authorized")

    # 2. Authorize: Visma's login, the company choice, Allow.
    page.get_by_role("button", name="Authorize").click()
    wait_for_app(page)
    page.get_by_role("link", name="Continue to Visma login").click()
    page.wait_for_url(re.compile(re.escape(dashboard.sandbox_url)))
    page.locator("#email").fill(EMAIL)
    page.locator("#password").fill(PASSWORD)
    shots(page, "visma login")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("button", name=COMPANY)).to_be_visible()
    shots(page, "visma company choice")
    page.get_by_role("button", name=COMPANY).click()
    expect(page.get_by_role("button", name="Allow")).to_be_visible()
    shots(page, "visma allow")
    page.get_by_role("button", name="Allow").click()

    # 3. Back on Accounts, authorized (red), without pressing F5; the code is gone from the URL.
    page.wait_for_url(re.compile(r"/accounts$"))
    wait_for_app(page)
    expect(page.get_by_text(f"is authorized. Visma company: {COMPANY}")).to_be_visible()
    expect(main(page).get_by_text("Authorized", exact=True).last).to_be_visible()
    assert "code=" not in page.url and "state=" not in page.url
    shots(page, "back on accounts - red authorized")

    # 4. Map the payroll company to the authorized account.
    nav(page, "Administrations")
    choose(page, "Payroll company", f"{COMPANY} ({COMPANY_CODE})")
    page.get_by_role("button", name="Save mapping").click()
    wait_for_app(page)
    expect(page.get_by_test_id("stMarkdownContainer").filter(has_text=f"{COMPANY} → {COMPANY}").first).to_be_visible()
    shots(page, "company mapped - ledger checked")
    page.get_by_role("button", name="Check now").click()
    wait_for_app(page)
    expect(page.get_by_text("Everything checks out")).to_be_visible()
    shots(page, "check now passed")

    # 5. Preview and send the first run: sent, with Visma's voucher number (red).
    first, second = bakkerij_runs(dashboard)[:2]
    page.goto(f"{dashboard.url}journal_export?run={first.id}")
    wait_for_app(page)
    expect(page.get_by_role("button", name="Send to Visma…")).to_be_visible()
    shots(page, "voucher preview")
    page.get_by_role("button", name="Send to Visma…").click()
    dialog = page.get_by_test_id("stDialog")
    expect(dialog).to_be_visible()
    shots(page, "confirm send")
    dialog.get_by_role("button", name="Send", exact=True).click()
    wait_for_app(page)
    expect(page.get_by_text(re.compile(r"was sent: Visma voucher \S+"))).to_be_visible()
    sent = next(r for r in bakkerij_runs(dashboard) if r.id == first.id)
    assert sent.status == "sent" and sent.voucher_number
    expect(main(page).get_by_text(f"Sent · voucher {sent.voucher_number}", exact=True).first).to_be_visible()
    shots(page, "sent - red with voucher number")

    # 6. The Visma company has no fiscal year any more: the next run fails with the article's cause and solution.
    companies = httpx.get(f"{dashboard.sandbox_url}/_sandbox/companies", timeout=10).json()
    companies = companies.get("companies", companies) if isinstance(companies, dict) else companies
    company_id = next(c["id"] for c in companies if c["name"] == COMPANY)
    httpx.put(f"{dashboard.sandbox_url}/_sandbox/companies/{company_id}/state", json={"state": "no_fiscal_year"},
              timeout=10).raise_for_status()
    page.goto(f"{dashboard.url}journal_export?run={second.id}")
    wait_for_app(page)
    page.get_by_role("button", name="Send to Visma…").click()
    page.get_by_test_id("stDialog").get_by_role("button", name="Send", exact=True).click()
    wait_for_app(page)
    expect(page.get_by_text(ARTICLE_CAUSE).first).to_be_visible()
    expect(page.get_by_text(re.compile(re.escape(ARTICLE_SOLUTION))).first).to_be_visible()
    failed = next(r for r in bakkerij_runs(dashboard) if r.id == second.id)
    assert failed.status == "failed" and failed.error_entry_id == "fiscal-year-missing"
    shots(page, "failed - article cause and solution")

    assert "Traceback" not in dashboard.log_path.read_text(errors="replace")

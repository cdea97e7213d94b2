"""Month-end trust on the Journal Export page, in headless Chromium against the sandbox.

What a payroll bureau relies on at month end, driven through the browser:

1. the company picker stays on the company being worked on through sends, re-sends and send-agains (its label and
   code), while the "Runs: …" caption under it follows the counts; mapping a company on Administrations opens Journal
   Export on that company;
2. Visma answering 503 to a send: the run is *Unconfirmed* (orange, "may or may not be booked"), *Check in Visma now*
   leaves it so while Visma is down and settles it once Visma answers; a voucher Visma booked before dropping the
   connection is found, not posted twice;
3. the fiscal year missing at month end: a bulk send fails by cause, *Retry all N* posts nothing while the cause is
   still there and sends all N once it is fixed;
4. the colours: green for authorized and sent, red for failed, orange for unconfirmed, the Visma logo red once
   authorized.

The data around what a test is about (payroll runs, authorized accounts, mappings, earlier failures) is arranged once
through the services before the first page is opened, so no page caches a state older than the test's. The dashboard
runs with its background check of unconfirmed runs turned off (RECONCILE_INTERVAL_SECONDS = 0 in its secrets file),
so that what settles an unconfirmed run here is the button the test clicks, not a timer racing it (the background
check has its own tests in tests/integration/test_export_faults.py).

Screenshots of each step go to artifacts/e2e/<test name>/.
"""

from __future__ import annotations

import colorsys
import re
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import expect

from tests.e2e.browser import colors_in, css_rgb, wait_for_app
from tests.e2e.test_journey import choose, main, nav

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.xdist_group("e2e")]

ACTOR = "test@month-end"
# Payroll companies (demo codes) and what each is arranged for.
PICKED = "HOVENIER-GROEN"  # test 1: worked on through the picker (not first in the alphabet)
MAPPED_IN_BROWSER = "BAKKERIJ-DGK"  # test 1: authorized, mapped on Administrations by the test
DOWN = "INSTALLATIE-VDB"  # test 2: Visma answers 503
NO_YEAR = "TRANSPORT-VISSER"  # test 3: its fiscal year is missing
COLOURS = "ADMIN-MULDER"  # test 4: one run in each state
NEW_ACCOUNT = "Nieuw kantoor (nog niet gekoppeld)"  # an account not authorized yet (grey logo)

# The colours people read: badges (st.badge / :color-badge[]) and the Runs table's status cells (core/status.py).
CELL = {"not_sent": (0xE9, 0xEC, 0xEF), "unconfirmed": (0xFF, 0xE8, 0xCC), "sent": (0xD3, 0xF9, 0xD8),
        "failed": (0xE0, 0x31, 0x31)}
CHART = {"sent": (0x2F, 0x9E, 0x44), "failed": (0xE0, 0x31, 0x31), "unconfirmed": (0xF0, 0x8C, 0x00),
         "not_sent": (0xAD, 0xB5, 0xBD)}
VISMA_RED = (0xC8, 0x10, 0x2E)
VISMA_GREY = (0x9A, 0xA0, 0xA6)
ROW_PX = 35  # st.dataframe's row (and header) height
VISMA_WAIT = 45_000  # ms: an action that waits on a Visma that is down (the client's retries back off for seconds)


@dataclass
class World:
    names: dict[str, str]  # payroll company code -> name
    accounts: dict[str, str]  # payroll company code -> account name
    visma_ids: dict[str, str]  # payroll company code -> sandbox company id


# ------------------------------------------------------------------------------------------------------- helpers


def runtime_call(dashboard, fn, *args, **kwargs):
    rt = dashboard.runtime()
    try:
        return fn(rt, *args, **kwargs)
    finally:
        rt.close()


def runs_of(dashboard, code: str) -> list:
    """The company's runs as the app stores them, oldest period first."""
    from core import services

    runs = runtime_call(dashboard, lambda rt: services.list_runs(rt, company_code=code))
    return sorted(runs, key=lambda r: (r.year, r.period, r.run_number))


def run_by_id(dashboard, run_id: int):
    from core import services

    return runtime_call(dashboard, services.get_run, run_id)


def vouchers(dashboard, visma_id: str) -> list[dict]:
    r = httpx.get(f"{dashboard.sandbox_url}/_sandbox/vouchers", params={"company_id": visma_id}, timeout=10)
    r.raise_for_status()
    return r.json()


def sandbox_put(dashboard, visma_id: str, what: str, body: dict) -> dict:
    r = httpx.put(f"{dashboard.sandbox_url}/_sandbox/companies/{visma_id}/{what}", json=body, timeout=10)
    r.raise_for_status()
    return r.json()


def marker_of(dashboard, run_id: int) -> str:
    """The export marker the run's voucher carries in its VoucherText (how exactly-once is checked in Visma)."""
    import sqlalchemy as sa

    from core.db.models import PayrollRun

    def read(rt):
        with rt.engine.connect() as conn:
            return conn.execute(sa.select(PayrollRun.marker).where(PayrollRun.id == run_id)).scalar_one()

    marker = runtime_call(dashboard, read)
    assert marker, f"run {run_id} has no marker yet"
    return marker


def with_marker(dashboard, visma_id: str, marker: str) -> list[dict]:
    return [v for v in vouchers(dashboard, visma_id) if marker in (v.get("VoucherText") or "")]


def open_app(page, dashboard, path: str = "") -> None:
    """Open a page of the dashboard (a link straight to a page reruns once through app.py's navigation)."""
    page.goto(f"{dashboard.url}{path}")
    wait_for_app(page)
    page.get_by_test_id("stSidebarNav").get_by_role("link", name="Journal Export", exact=True).wait_for()
    wait_for_app(page)


def picker(page):
    """The company picker's input, whose value is the label of the chosen company."""
    return main(page).get_by_role("combobox", name="Company", exact=True)


def runs_caption(page):
    return main(page).get_by_text(re.compile(r"^Runs: "))


def runs_grid(page):
    """The Runs tab's table (the first dataframe of the page's main area)."""
    return main(page).get_by_test_id("stDataFrame").first


def row_of(runs_newest_first: list, run_id: int) -> int:
    return next(i for i, r in enumerate(runs_newest_first) if r.id == run_id)


def select_run(page, dashboard, code: str, run_id: int) -> None:
    """Tick the run's row in the Runs table (newest period first, as the page lists them); its detail opens."""
    runs = runs_of(dashboard, code)[::-1]
    row = row_of(runs, run_id)
    grid = runs_grid(page)
    grid.scroll_into_view_if_needed()
    box = grid.bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + 16, box["y"] + ROW_PX * (row + 1) + ROW_PX / 2)  # the row's tick box
    wait_for_app(page)
    expect(main(page).get_by_role("heading", name=re.compile(re.escape(runs[row].label)))).to_be_visible()


def confirm_in_dialog(page, button: str) -> None:
    dialog = page.get_by_test_id("stDialog")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name=button, exact=True).click()
    expect(dialog).to_have_count(0, timeout=VISMA_WAIT)
    wait_for_app(page)


# ------------------------------------------------------------------------------------------------------ the data


@pytest.fixture(scope="module")
def world(dashboard) -> World:
    """Everything around the tests, arranged through the services before any page is opened."""
    from core import services
    from core.demo.payroll import DEMO_COMPANIES
    from tests.support.export import company_id_of, fast_client, setup_company

    secrets = Path(dashboard.env["STREAMLIT_SECRETS_PATH"])
    assert not secrets.exists(), "the dashboard's secrets file is the fixture's to write"
    secrets.write_text('RECONCILE_INTERVAL_SECONDS = "0"\n', encoding="utf-8")

    ids = {code: company_id_of(code) for code in (PICKED, MAPPED_IN_BROWSER, DOWN, NO_YEAR, COLOURS)}
    sandbox_put(dashboard, ids[COLOURS], "state", {"state": "ok"})  # seeded with an empty ledger

    rt = dashboard.runtime()
    try:
        fast_client(rt)
        setups = {
            PICKED: setup_company(rt, PICKED, periods=(1, 2, 3, 4, 5, 6)),
            MAPPED_IN_BROWSER: setup_company(rt, MAPPED_IN_BROWSER, periods=(1, 2, 3), map_it=False),
            DOWN: setup_company(rt, DOWN, periods=(1, 2, 3)),
            NO_YEAR: setup_company(rt, NO_YEAR, periods=(1, 2, 3)),
            COLOURS: setup_company(rt, COLOURS, periods=(1, 2, 3, 4)),
        }
        services.create_account(rt, NEW_ACCOUNT, actor=ACTOR)

        # The picked company: two runs failed on a locked year (since unlocked), one sent, three not sent.
        picked = setups[PICKED].run_ids
        sandbox_put(dashboard, ids[PICKED], "state", {"state": "year_locked"})
        assert [services.send_run(rt, i, actor=ACTOR).status for i in picked[:2]] == ["failed", "failed"]
        sandbox_put(dashboard, ids[PICKED], "state", {"state": "ok"})
        assert services.send_run(rt, picked[2], actor=ACTOR).status == "sent"

        # One run in each state: failed (year locked), sent, unconfirmed (Visma answered 503), not sent.
        colours = setups[COLOURS].run_ids
        sandbox_put(dashboard, ids[COLOURS], "state", {"state": "year_locked"})
        assert services.send_run(rt, colours[0], actor=ACTOR).status == "failed"
        sandbox_put(dashboard, ids[COLOURS], "state", {"state": "ok"})
        assert services.send_run(rt, colours[1], actor=ACTOR).status == "sent"
        sandbox_put(dashboard, ids[COLOURS], "faults", {"http_error": 503})
        assert services.send_run(rt, colours[2], actor=ACTOR).status == "unconfirmed"
        sandbox_put(dashboard, ids[COLOURS], "faults", {"http_error": None})
    finally:
        rt.close()
    names = {c.code: c.name for c in DEMO_COMPANIES}
    return World(names={code: names[code] for code in ids}, accounts={c: s.account for c, s in setups.items()},
                 visma_ids=ids)


# --------------------------------------------------------------------------------------------------------- tests


def test_picker_keeps_its_company_through_sends_and_resends(dashboard, world, web, shots):
    page = web
    from core import services

    # Mapping a company on Administrations opens Journal Export on that company.
    open_app(page, dashboard)
    nav(page, "Administrations")
    bakkerij = f"{world.names[MAPPED_IN_BROWSER]} ({MAPPED_IN_BROWSER})"
    choose(page, "Payroll company", bakkerij)
    choose(page, "Visma account", world.accounts[MAPPED_IN_BROWSER])
    page.get_by_role("button", name="Save mapping").click()
    wait_for_app(page)
    expect(main(page).get_by_text(f"{world.names[MAPPED_IN_BROWSER]} is mapped to this account.")).to_be_visible()
    shots(page, "bakkerij mapped on administrations")
    nav(page, "Journal Export")
    expect(picker(page)).to_have_value(bakkerij)
    expect(runs_caption(page)).to_have_text("Runs: 3 not sent")
    shots(page, "journal export opens on the company just mapped")

    # The counts differ per company, so an order by counts would not be the alphabetical one the picker keeps.
    companies = {c.code: c for c in runtime_call(dashboard, services.list_payroll_companies)}
    others = {code: [(r.id, r.status, r.voucher_id) for r in runs_of(dashboard, code)]
              for code in companies if code != PICKED}
    mapped = sorted((c for c in companies.values() if c.account_name), key=lambda c: (c.name.lower(), c.code))
    assert len(mapped) >= 3
    by_counts = sorted(mapped, key=lambda c: (-c.runs_failed, -c.runs_not_sent, c.name.lower()))
    assert [c.code for c in by_counts] != [c.code for c in mapped]
    assert mapped[0].code != PICKED

    hovenier = f"{world.names[PICKED]} ({PICKED})"
    choose(page, "Company", hovenier)
    expect(picker(page)).to_have_value(hovenier)
    expect(runs_caption(page)).to_have_text("Runs: 3 not sent · 1 sent · 2 failed")
    shots(page, "hovenier picked - 2 failed 3 not sent 1 sent")

    def still_on_hovenier(caption: str, step: str) -> None:
        expect(picker(page)).to_have_value(hovenier)
        expect(runs_caption(page)).to_have_text(caption)
        shots(page, step)

    # Send a run that is not sent yet (the oldest of them: period 4).
    runs = runs_of(dashboard, PICKED)
    to_send = runs[3]
    assert to_send.status == "not_sent"
    select_run(page, dashboard, PICKED, to_send.id)
    shots(page, "not sent run selected")
    page.get_by_role("button", name="Send to Visma…").click()
    shots(page, "confirm send")
    confirm_in_dialog(page, "Send")
    expect(main(page).get_by_text(re.compile(r"was sent: Visma voucher \S+")).first).to_be_visible()
    sent = run_by_id(dashboard, to_send.id)
    assert (sent.status, sent.company_code) == ("sent", PICKED) and sent.voucher_number
    still_on_hovenier("Runs: 2 not sent · 2 sent · 2 failed", "sent - picker kept, one fewer not sent")
    assert {r.id: r.status for r in runs_of(dashboard, PICKED)} == {
        r.id: ("sent" if r.id == to_send.id else r.status) for r in runs}

    # Re-send the run sent in the arrangement (period 3), with a reason: a second voucher, same company.
    before = vouchers(dashboard, world.visma_ids[PICKED])
    to_resend = runs[2]
    assert to_resend.status == "sent"
    select_run(page, dashboard, PICKED, to_resend.id)
    page.get_by_role("button", name="Re-send…").click()
    dialog = page.get_by_test_id("stDialog")
    expect(dialog).to_be_visible()
    dialog.get_by_role("textbox", name="Reason (kept in the audit log)").fill(
        f"Voucher {to_resend.voucher_number} was reversed in Visma after the cost-centre correction")
    shots(page, "confirm re-send with a reason")
    confirm_in_dialog(page, "Send again")
    expect(main(page).get_by_text(re.compile(r"was sent: Visma voucher \S+")).first).to_be_visible()
    resent = run_by_id(dashboard, to_resend.id)
    assert resent.status == "sent" and resent.company_code == PICKED
    assert resent.voucher_number and resent.voucher_number != to_resend.voucher_number
    after = vouchers(dashboard, world.visma_ids[PICKED])
    assert len(after) == len(before) + 1 and {v["Id"] for v in after} - {v["Id"] for v in before} == {
        resent.voucher_id}
    still_on_hovenier("Runs: 2 not sent · 2 sent · 2 failed", "re-sent - picker kept, counts unchanged")

    # Send a failed run again (its year has been unlocked since): one fewer failed.
    to_retry = runs[0]
    assert to_retry.status == "failed"
    select_run(page, dashboard, PICKED, to_retry.id)
    shots(page, "failed run selected")
    page.get_by_role("button", name="Send again…").click()
    confirm_in_dialog(page, "Send")
    expect(main(page).get_by_text(re.compile(r"was sent: Visma voucher \S+")).first).to_be_visible()
    retried = run_by_id(dashboard, to_retry.id)
    assert (retried.status, retried.company_code) == ("sent", PICKED)
    still_on_hovenier("Runs: 2 not sent · 3 sent · 1 failed", "sent again - picker kept, one fewer failed")

    # Nothing landed on another company.
    for code, before_runs in others.items():
        assert [(r.id, r.status, r.voucher_id) for r in runs_of(dashboard, code)] == before_runs, code
    assert "Traceback" not in dashboard.log_path.read_text(errors="replace")


def test_visma_503_during_a_send_is_unconfirmed_then_settled_by_a_check(dashboard, world, web, shots):
    page = web
    visma_id = world.visma_ids[DOWN]
    first, second = runs_of(dashboard, DOWN)[:2]
    assert vouchers(dashboard, visma_id) == []
    unconfirmed_text = "Unconfirmed: Visma did not answer; the voucher may or may not be booked."

    # Visma answers 503 to everything of this company: the POST's outcome is unknown to the dashboard.
    sandbox_put(dashboard, visma_id, "faults", {"http_error": 503})
    open_app(page, dashboard, f"journal_export?run={first.id}")
    expect(picker(page)).to_have_value(f"{world.names[DOWN]} ({DOWN})")
    page.get_by_role("button", name="Send to Visma…").click()
    confirm_in_dialog(page, "Send")
    expect(main(page).get_by_text(unconfirmed_text)).to_be_visible()
    expect(main(page).get_by_text("Unconfirmed", exact=True).first).to_be_visible()
    check = main(page).get_by_role("button", name="Check in Visma now")
    expect(check).to_be_visible()
    expect(main(page).get_by_role("button", name=re.compile("Send to Visma|Send again|Re-send"))).to_have_count(0)
    assert run_by_id(dashboard, first.id).status == "unconfirmed"
    shots(page, "503 - unconfirmed with check in visma now")

    # Checked while Visma is still down: still unconfirmed, nothing posted.
    check.click()
    wait_for_app(page)
    expect(main(page).get_by_text(re.compile(r"Checked in Visma: Visma still does not answer"))).to_be_visible(
        timeout=VISMA_WAIT)
    expect(main(page).get_by_text(unconfirmed_text)).to_be_visible()
    assert run_by_id(dashboard, first.id).status == "unconfirmed"
    shots(page, "checked while visma is down - still unconfirmed")

    # Visma answers again. This sandbox refuses a request with 503 before it books anything, and Visma did answer
    # (a 503, not a lost connection): the check finds no voucher and says so — the run is failed on a passing cause,
    # to be sent again, rather than left unknown or posted behind the user's back.
    sandbox_put(dashboard, visma_id, "faults", {"http_error": None})
    check.click()
    wait_for_app(page)
    expect(main(page).get_by_text(re.compile(r"a check found no voucher for it in Visma")).first
           ).to_be_visible(timeout=VISMA_WAIT)
    expect(main(page).get_by_text(re.compile(r"safe to send it again")).first).to_be_visible()
    checked = run_by_id(dashboard, first.id)
    assert (checked.status, checked.error_entry_id) == ("failed", "visma-unavailable")
    assert vouchers(dashboard, visma_id) == []
    expect(main(page).get_by_text(unconfirmed_text)).to_have_count(0)
    shots(page, "visma back - check says not booked")

    page.get_by_role("button", name="Send again…").click()
    confirm_in_dialog(page, "Send")
    expect(main(page).get_by_text(re.compile(r"was sent: Visma voucher \S+")).first).to_be_visible()
    sent = run_by_id(dashboard, first.id)
    assert sent.status == "sent" and sent.voucher_number
    expect(main(page).get_by_text(f"Sent · voucher {sent.voucher_number}", exact=True).first).to_be_visible()
    booked = with_marker(dashboard, visma_id, marker_of(dashboard, first.id))
    assert [v["Id"] for v in booked] == [sent.voucher_id]
    assert len(vouchers(dashboard, visma_id)) == 1
    shots(page, "sent again - exactly one voucher")

    # Visma books the voucher, then drops the connection before answering: found by its marker, not posted twice.
    sandbox_put(dashboard, visma_id, "faults", {"commit_then_drop": 1})
    open_app(page, dashboard, f"journal_export?run={second.id}")
    page.get_by_role("button", name="Send to Visma…").click()
    confirm_in_dialog(page, "Send")
    expect(main(page).get_by_text(re.compile(r"was sent: Visma voucher \S+")).first).to_be_visible()
    found = run_by_id(dashboard, second.id)
    assert found.status == "sent" and found.voucher_number
    expect(main(page).get_by_text(f"Sent · voucher {found.voucher_number}", exact=True).first).to_be_visible()
    booked = with_marker(dashboard, visma_id, marker_of(dashboard, second.id))
    assert [v["Id"] for v in booked] == [found.voucher_id]
    assert len(vouchers(dashboard, visma_id)) == 2
    companies = httpx.get(f"{dashboard.sandbox_url}/_sandbox/companies", timeout=10).json()
    assert next(c for c in companies if c["id"] == visma_id)["faults"]["commit_then_drop"] == 0  # it did drop
    main(page).get_by_role("tab", name="Attempts").click()
    wait_for_app(page)
    shots(page, "booked then dropped - found by its marker, one voucher")
    assert "Traceback" not in dashboard.log_path.read_text(errors="replace")


def test_retry_by_cause_waits_for_the_fiscal_year_then_sends_all(dashboard, world, web, shots):
    page = web
    from core import services

    visma_id = world.visma_ids[NO_YEAR]
    runs = runs_of(dashboard, NO_YEAR)
    assert [r.status for r in runs] == ["not_sent"] * 3 and vouchers(dashboard, visma_id) == []
    cause = services.find_entry("fiscal-year-missing")
    assert cause is not None

    # Month end: the Visma company has no fiscal year for the runs' dates; the bulk send fails them all by cause.
    sandbox_put(dashboard, visma_id, "state", {"state": "no_fiscal_year"})
    open_app(page, dashboard, f"journal_export?company={NO_YEAR}")
    expect(picker(page)).to_have_value(f"{world.names[NO_YEAR]} ({NO_YEAR})")
    main(page).get_by_role("tab", name="Send pending").click()
    wait_for_app(page)
    send = main(page).get_by_role("button", name="Send 3 runs waiting")
    expect(send).to_be_visible()
    shots(page, "send pending - 3 runs waiting")
    send.click()
    expect(main(page).get_by_text(re.compile(r"Done: 0 sent, 3 failed, 0 unconfirmed, 0 skipped"))).to_be_visible(
        timeout=VISMA_WAIT)
    wait_for_app(page)
    assert {(r.status, r.error_entry_id) for r in runs_of(dashboard, NO_YEAR)} == {("failed", "fiscal-year-missing")}
    assert vouchers(dashboard, visma_id) == []

    group = page.locator(".st-key-je_retry_fiscal-year-missing")  # the cause's Retry button (keyed by cause)
    by_cause = main(page).get_by_test_id("stHorizontalBlock").filter(has=group)
    expect(by_cause).to_contain_text(f"{cause.title} — 3 runs")
    retry = by_cause.get_by_role("button", name="Retry all 3")
    expect(retry).to_be_visible()
    shots(page, "3 failed - retry by cause offers retry all 3")

    # Retried while the fiscal year is still missing: checked against Visma first, nothing posted, each run skipped
    # with the cause named.
    httpx.post(f"{dashboard.sandbox_url}/_sandbox/stats/reset", timeout=10).raise_for_status()
    retry.click()
    expect(main(page).get_by_text(re.compile(r"Done: 0 sent, 0 failed, 0 unconfirmed, 3 skipped"))).to_be_visible(
        timeout=VISMA_WAIT)
    wait_for_app(page)
    stats = httpx.get(f"{dashboard.sandbox_url}/_sandbox/stats", timeout=10).json()
    assert stats["api_calls"].get("POST /v2/vouchers", 0) == 0 and vouchers(dashboard, visma_id) == []
    assert {(r.status, r.error_entry_id) for r in runs_of(dashboard, NO_YEAR)} == {("failed", "fiscal-year-missing")}
    # The summary names the cause of the runs not sent, and the cause stays offered for a retry.
    expect(main(page).get_by_text("Runs not sent, by cause")).to_be_visible()
    named = main(page).get_by_test_id("stMarkdownContainer").filter(has_text=cause.title).filter(has_text="3 runs")
    expect(named).to_have_count(2)  # the summary's card and the retry group
    expect(by_cause).to_contain_text(f"{cause.title} — 3 runs")
    shots(page, "retried with the year still missing - 3 skipped by cause")

    # The bookkeeper creates the fiscal year; retry all 3 now sends all three, once each.
    sandbox_put(dashboard, visma_id, "state", {"state": "ok"})
    retry.click()
    expect(main(page).get_by_text(re.compile(r"Done: 3 sent, 0 failed, 0 unconfirmed, 0 skipped"))).to_be_visible(
        timeout=VISMA_WAIT)
    wait_for_app(page)
    after = runs_of(dashboard, NO_YEAR)
    assert {r.status for r in after} == {"sent"}
    posted = vouchers(dashboard, visma_id)
    assert sorted(v["Id"] for v in posted) == sorted(r.voucher_id for r in after)
    for r in after:
        assert len(with_marker(dashboard, visma_id, marker_of(dashboard, r.id))) == 1
    expect(group).to_have_count(0)
    shots(page, "fiscal year created - all 3 sent")
    assert "Traceback" not in dashboard.log_path.read_text(errors="replace")


def hue(rgb: tuple[int, int, int], grey_below: float = 0.03) -> str:
    """The colour family a person would name (grey, red, orange, green), from the hue angle; a colour whose
    saturation is under ``grey_below`` is grey (a badge's pale background needs a low bar, its text a higher one)."""
    h, s, _ = colorsys.rgb_to_hsv(*(c / 255 for c in rgb))
    degrees = h * 360
    if s < grey_below:
        return "grey"
    if degrees < 12 or degrees >= 340:
        return "red"
    if degrees < 50:
        return "orange"
    if 75 <= degrees < 175:
        return "green"
    return "other"


def badge_hues(badge) -> tuple[str, str]:
    """The colour families of a badge's background and of its text."""
    return hue(css_rgb(badge)), hue(css_rgb(badge, "color"), grey_below=0.3)


def strong_colours(colours: dict[tuple[int, int, int], int], least: int) -> list[tuple[int, int, int]]:
    """The coloured (not grey, not white) colours painted at least ``least`` times, most first."""
    return sorted((c for c, n in colours.items() if n >= least and hue(c) != "grey"), key=lambda c: -colours[c])


def row_strip(box: dict, row: int) -> tuple[int, int, int, int]:
    """One grid row of an element screenshot (header first), a pixel inside each border."""
    top = ROW_PX * (row + 1)
    return (1, top + 2, int(box["width"]) - 2, top + ROW_PX - 2)


def test_colours_say_done_failed_and_unconfirmed(dashboard, world, web, shots):
    page = web
    from core import services

    # Accounts: the authorized account's badge is green (done), its Visma logo red (the vendor's colour); the account
    # not authorized yet has a grey logo.
    open_app(page, dashboard, "accounts")
    account = world.accounts[COLOURS]
    choose(page, "Account", account)
    badge = main(page).locator(".stMarkdownBadge").filter(has_text=re.compile(r"^Authorized$"))
    expect(badge).to_have_count(1)
    assert badge_hues(badge) == ("green", "green"), (css_rgb(badge), css_rgb(badge, "color"))
    logo = main(page).get_by_test_id("stImage").locator("img").first
    expect(logo).to_be_visible()
    logo_colours = colors_in(logo.screenshot())
    assert max(logo_colours, key=logo_colours.get) == VISMA_RED, sorted(logo_colours.items(), key=lambda c: -c[1])[:3]
    table = main(page).get_by_test_id("stDataFrame").first
    box = table.bounding_box()
    png = table.screenshot()
    names = [a.name for a in runtime_call(dashboard, services.list_accounts)]
    authorized_row = colors_in(png, row_strip(box, names.index(account)))
    waiting_row = colors_in(png, row_strip(box, names.index(NEW_ACCOUNT)))
    assert authorized_row.get(VISMA_RED, 0) > 50 and authorized_row.get(VISMA_GREY, 0) == 0
    assert waiting_row.get(VISMA_GREY, 0) > 50 and waiting_row.get(VISMA_RED, 0) == 0
    shots(page, "accounts - green badge, red logo; grey logo not authorized")

    # Journal Export: one run in each state, newest period first — not sent, unconfirmed, sent, failed.
    runs = runs_of(dashboard, COLOURS)
    assert [r.status for r in runs] == ["failed", "sent", "unconfirmed", "not_sent"]
    open_app(page, dashboard, f"journal_export?company={COLOURS}")
    expect(picker(page)).to_have_value(f"{world.names[COLOURS]} ({COLOURS})")
    counts = main(page).locator(".stMarkdownBadge")
    expected = {"Not sent": "grey", "Unconfirmed": "orange", "Sent": "green", "Failed": "red"}
    for label, family in expected.items():
        one = counts.filter(has_text=re.compile(rf"^{label}$"))
        expect(one).to_have_count(1)
        assert badge_hues(one) == (family, family), (label, css_rgb(one), css_rgb(one, "color"))

    # The Runs table is drawn on a canvas: its status cells are read from the pixels of each row.
    grid = runs_grid(page)
    grid.scroll_into_view_if_needed()
    box = grid.bounding_box()
    png = grid.screenshot()
    newest_first = runs[::-1]
    for row, run in enumerate(newest_first):
        colours = colors_in(png, row_strip(box, row))
        assert colours.get(CELL[run.status], 0) > 300, (run.status, sorted(colours.items(), key=lambda c: -c[1])[:5])
        for other, rgb in CELL.items():
            if other != run.status:
                assert colours.get(rgb, 0) < 20, (run.status, other)
        cell = strong_colours(colours, 300)
        family = {"not_sent": [], "unconfirmed": ["orange"], "sent": ["green"], "failed": ["red"]}[run.status]
        assert [hue(c) for c in cell] == family, (run.status, cell)
    shots(page, "runs - grey not sent, orange unconfirmed, green sent, red failed")

    # A run's own badge, next to its name: the sent one green with its voucher number.
    sent = runs[1]
    select_run(page, dashboard, COLOURS, sent.id)
    own = main(page).locator(".stMarkdownBadge").filter(has_text=f"Sent · voucher {sent.voucher_number}")
    expect(own).to_have_count(1)
    assert badge_hues(own) == ("green", "green")
    shots(page, "sent run - green badge with voucher number")

    # The exports chart stacks the same colours per period.
    main(page).get_by_role("tab", name="History and chart").click()
    wait_for_app(page)
    chart = main(page).get_by_test_id("stVegaLiteChart").first
    expect(chart).to_be_visible()
    chart.scroll_into_view_if_needed()
    page.wait_for_function("() => !!document.querySelector('[data-testid=stVegaLiteChart] canvas, "
                           "[data-testid=stVegaLiteChart] svg .mark-rect path')")
    painted = colors_in(chart.screenshot())
    for status, rgb in CHART.items():
        assert painted.get(rgb, 0) > 30, (status, sorted(painted.items(), key=lambda c: -c[1])[:6])
    shots(page, "history chart - same colours")
    assert "Traceback" not in dashboard.log_path.read_text(errors="replace")

"""The export log in headless Chromium, as a payroll user reads it at month end: on Journal Export › History and chart
and at the end of Overview, filtered by company, period and status, searched, one run's attempts opened, and the CSV
and XLSX downloads holding exactly the rows on screen — with company names that are spreadsheet formulas
(``=HYPERLINK(…)``, ``+SUM(1,1)``, ``@cmd``) made inert in both files.

The rows on screen are read from the table itself: the grid's own *Download as CSV* (its toolbar) exports what the
grid holds, so the panel's files are compared with what the user sees, not with another service call. Screenshots
of each step go to artifacts/e2e/<test name>/.
"""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal

import httpx
import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect

from tests.e2e.browser import wait_for_app

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.xdist_group("e2e")]

DEMO_USER = "anna.dekker@demo-bureau.nl"  # the sandbox user with access to every company
SENDER = "maria.visser@demo-bureau.nl"
FORMULA_NAMES = {"FORMULA": '=HYPERLINK("http://x","click")', "PLUSSUM": "+SUM(1,1)", "ATCMD": "@cmd"}
# payroll company code → (name, {period: total debit as the payroll file writes it})
COMPANIES = {
    "ATCMD": (FORMULA_NAMES["ATCMD"], {1: "450,00"}),
    "BAKKER": ("Bakkerij De Gouden Korst B.V.", {1: "12345,67", 2: "987,65", 3: "1234567,89"}),
    "FORMULA": (FORMULA_NAMES["FORMULA"], {1: "100,00", 2: "200,50"}),
    "INSTAL": ("Van der Berg Installatietechniek B.V.", {1: "5000,00", 2: "5100,00"}),
    "PLUSSUM": (FORMULA_NAMES["PLUSSUM"], {1: "75,25"}),
}
# payroll company code → (account name, the sandbox's Visma company it is authorized for); ATCMD stays unmapped
ACCOUNTS = {
    "BAKKER": ("Bakkerij", "Bakkerij De Gouden Korst B.V."),
    "FORMULA": ("Transport", "Transportbedrijf Visser B.V."),
    "PLUSSUM": ("Hovenier", "Hoveniersbedrijf Groen & Zonen"),
    "INSTAL": ("Installatie", "Van der Berg Installatietechniek B.V."),
}
SENT = (("BAKKER", 1), ("BAKKER", 2), ("FORMULA", 1), ("PLUSSUM", 1))
FAILED = ("INSTAL", 1)  # sent twice while its Visma company has no fiscal year
# what the log must hold: (code, period, status, attempts)
EXPECTED = [
    ("ATCMD", "2026-01", "not_sent", 0),
    ("BAKKER", "2026-01", "sent", 1), ("BAKKER", "2026-02", "sent", 1), ("BAKKER", "2026-03", "not_sent", 0),
    ("FORMULA", "2026-01", "sent", 1), ("FORMULA", "2026-02", "not_sent", 0),
    ("INSTAL", "2026-01", "failed", 2), ("INSTAL", "2026-02", "not_sent", 0),
    ("PLUSSUM", "2026-01", "sent", 1),
]
STATUS_WORDS = {"not_sent": "Not sent", "sent": "Sent", "failed": "Failed"}
CODE_OF = {name: code for code, (name, _) in COMPANIES.items()}
COLUMNS = ["company", "company_name", "period", "run", "status", "voucher_number", "voucher_date", "total_debit",
           "sent_at", "sent_by", "attempts"]
HEADER = (b"EmployeeName;Period;Year;Run;Department;CostCenter;CostUnit;Percentage;GeneralLedgerAccount;"
          b"ComponentName;Debit;Credit\r\n")


def journal(periods: dict[int, str]) -> bytes:
    """A payroll journal report with one balanced run (salary against net pay) per period of 2026."""
    rows = [HEADER]
    for period, amount in periods.items():
        rows.append(f"Jansen;{period};2026;1;;;;;4000;Salaris;{amount};\r\n".encode())
        rows.append(f"Jansen;{period};2026;1;;;;;1520;Nettoloon;;{amount}\r\n".encode())
    return b"".join(rows)


def run_id(rt, code: str, period: int) -> int:
    from core import services

    return next(r.id for r in services.list_runs(rt, company_code=code) if r.period == period)


@pytest.fixture(scope="module")
def arranged(dashboard) -> dict:
    """Payroll runs imported, companies mapped, four runs sent, one failed twice; the log as the service has it."""
    from core import services

    companies = httpx.get(f"{dashboard.sandbox_url}/_sandbox/companies", timeout=10).json()
    companies = companies.get("companies", companies) if isinstance(companies, dict) else companies
    visma_ids = {c["name"]: c["id"] for c in companies}
    rt = dashboard.runtime()
    try:
        for code, (name, periods) in COMPANIES.items():
            imported = services.import_journal_file(rt, code, f"{code}.csv", journal(periods), actor="test",
                                                    company_name=name)
            assert not imported.errors and len(imported.imported) == len(periods), imported
        for code, (account, visma_company) in ACCOUNTS.items():
            services.create_account(rt, account, actor="test")
            authorized = services.authorize_with_demo_login(rt, account, email=DEMO_USER, company=visma_company,
                                                            actor="test")
            assert authorized.status == "authorized", authorized
            services.map_company(rt, code, account, actor="test")
        # the Visma company of INSTAL is healthy in the seed; it loses its fiscal year through the admin API
        httpx.put(f"{dashboard.sandbox_url}/_sandbox/companies/{visma_ids[ACCOUNTS['INSTAL'][1]]}/state",
                  json={"state": "no_fiscal_year"}, timeout=10).raise_for_status()
        for code, period in SENT:
            result = services.send_run(rt, run_id(rt, code, period), actor=SENDER)
            assert result.status == "sent", result
        failing = run_id(rt, *FAILED)
        for _ in range(2):
            result = services.send_run(rt, failing, actor=SENDER)
            assert result.status == "failed" and result.entry_id == "fiscal-year-missing", result
        log = services.export_log(rt)
    finally:
        rt.close()
    assert sorted((r.company, r.period, r.status, r.attempts) for r in log) == sorted(EXPECTED)
    return {"log": log, "failed_run": failing}


# ------------------------------------------------------------------------------------------------ page helpers


def main(page):
    return page.get_by_test_id("stMain")


def nav(page, title: str) -> None:
    page.get_by_test_id("stSidebarNav").get_by_role("link", name=title).click()
    wait_for_app(page)


def caption(n: int) -> str:
    return f"{n} run{'' if n == 1 else 's'} · select a row to see its attempts"


def expect_count(page, n: int) -> None:
    """The panel's caption says ``n`` runs, and the rerun that wrote it is over."""
    expect(main(page).get_by_text(re.compile(r"^\d+ runs? · select a row"))).to_have_text(caption(n))
    wait_for_app(page)


def pick(page, key: str, option: str, n: int) -> None:
    """Choose one more option of the panel's multiselect with this widget key; ``n`` runs are listed then."""
    page.locator(f".st-key-{key}").get_by_role("combobox").click()
    page.get_by_role("option", name=option, exact=True).click()
    page.keyboard.press("Escape")
    expect_count(page, n)


def clear(page, key: str, n: int) -> None:
    """Empty a multiselect of the panel; ``n`` runs are listed then."""
    page.locator(f".st-key-{key}").get_by_role("button", name="Clear all").click()
    expect_count(page, n)


def search(page, key: str, text: str) -> None:
    box = page.locator(f".st-key-{key}").get_by_role("textbox")
    box.fill(text)
    box.press("Enter")
    wait_for_app(page)


def matching(log, words: str) -> list:
    """The rows of the arranged log whose code, name, voucher number or run contain every word."""
    def text(r) -> str:
        return f"{r.company} {r.company_name} {r.voucher_number or ''} {r.period} run {r.run}".lower()

    return [r for r in log if all(w in text(r) for w in words.lower().split())]


def table(page, scope: str):
    """The export log's grid (its key changes with the filters; the prefix does not)."""
    return page.locator(f"[class*='st-key-{scope}_table_']").get_by_test_id("stDataFrame")


def grid_csv(page, frame) -> list[list[str]]:
    """What a grid holds, through its own toolbar's *Download as CSV*: header, then one list per row."""
    frame.scroll_into_view_if_needed()
    frame.hover()
    with page.expect_download() as info:
        # the toolbar floats over the grid's scroller, which takes the pointer: press the button itself
        frame.get_by_role("button", name="Download as CSV").dispatch_event("click")
    with open(info.value.path(), encoding="utf-8-sig", newline="") as f:
        return list(csv.reader(f))


def on_screen(page, scope: str) -> list[dict[str, str]]:
    """The export log's rows as the grid holds them, keyed by the panel's column names (the columns the panel shows,
    in any order; a row's payroll company code is added from its name when the grid does not show the code)."""
    header, *rows = grid_csv(page, table(page, scope))
    assert "company_name" in header and set(header) <= set(COLUMNS), header
    screen = [dict(zip(header, row, strict=True)) for row in rows]
    for row in screen:
        assert row.setdefault("company", CODE_OF[row["company_name"]]) == CODE_OF[row["company_name"]], row
    return screen


def keys(rows: list[dict]) -> list[tuple]:
    """(code, period, status words, attempts) of rows on screen, sorted: which rows, whatever order the log keeps
    (the files are compared with the screen row by row, in the screen's order)."""
    return sorted((r["company"], r["period"], r["status"], int(r["attempts"])) for r in rows)


def expected(*, codes=(), periods=(), statuses=()) -> list[tuple]:
    """The arranged rows these filters keep, as :func:`keys` gives them."""
    return sorted((c, p, STATUS_WORDS[s], a) for c, p, s, a in EXPECTED
                  if (not codes or c in codes) and (not periods or p in periods) and (not statuses or s in statuses))


def download(page, key: str) -> tuple[str, bytes]:
    """Press one of the panel's download buttons; the file's name and bytes."""
    button = page.locator(f".st-key-{key}").get_by_role("button")
    button.scroll_into_view_if_needed()
    with page.expect_download() as info:
        button.click()
    with open(info.value.path(), "rb") as f:
        return info.value.suggested_filename, f.read()


def select_row(page, scope: str, index: int) -> None:
    """Tick the row marker of one row of the export log's grid (drawn on a canvas: by position)."""
    frame = table(page, scope)
    frame.scroll_into_view_if_needed()
    box = frame.get_by_test_id("data-grid-canvas").bounding_box()
    page.mouse.click(box["x"] + 15, box["y"] + 36 + 35 * index + 17)
    wait_for_app(page)


# ----------------------------------------------------------------------------------------- the files' contents


def inert_text(value: str) -> str:
    """What the files must hold for a text shown on screen (core.export.log_files.inert, stated independently)."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def as_shown(column: str, value: str) -> object:
    """A grid cell as the files must hold it: names inert, amounts as numbers, times to the second."""
    if column == "company_name":
        return inert_text(value)
    if column == "total_debit":
        return Decimal(value)
    return value


def same(column: str, in_file: object, shown: str) -> bool:
    """A file's cell holds what the grid shows; a time to the second in the file, to the minute (or millisecond)
    in the grid, both UTC."""
    if column == "sent_at" and shown:
        shown = shown.replace("T", " ")[:19]
        return len(shown) >= 16 and str(in_file)[:len(shown)] == shown
    return in_file == as_shown(column, shown)


def csv_cell(column: str, value: str) -> object:
    if column == "status":
        return STATUS_WORDS[value]
    return Decimal(value) if column == "total_debit" else value


def xlsx_cell(column: str, value: object) -> object:
    if value is None:
        return ""
    if column == "status":
        return STATUS_WORDS[value]
    if column == "total_debit":
        return Decimal(str(value))
    if column == "voucher_date":
        return value.date().isoformat()
    if column == "sent_at":
        return value.isoformat(sep=" ", timespec="seconds")
    return str(value)


def assert_names(rows: list[dict]) -> None:
    """Every file row names its company by code and by name; a formula name is quoted, never left to run."""
    for row in rows:
        name = row["company_name"]
        assert CODE_OF[name.removeprefix("'")] == row["company"], row
        if row["company"] in FORMULA_NAMES:
            assert name == "'" + FORMULA_NAMES[row["company"]], row


def assert_csv_is_the_screen(data: bytes, screen: list[dict[str, str]]) -> list[dict[str, str]]:
    assert data.startswith(b"\xef\xbb\xbf"), "CSV without a BOM: Excel would misread accents"
    header, *lines = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert header[:len(COLUMNS)] == COLUMNS, header
    rows = [dict(zip(header, line, strict=True)) for line in lines]
    assert len(rows) == len(screen), (len(rows), len(screen))
    for row, shown in zip(rows, screen, strict=True):
        for column, value in shown.items():
            assert same(column, csv_cell(column, row[column]), value), (column, row[column], shown)
    assert_names(rows)
    return rows


def assert_xlsx_is_the_screen(data: bytes, screen: list[dict[str, str]]) -> None:
    sheet = load_workbook(io.BytesIO(data)).active
    cells = list(sheet.iter_rows())
    header = [c.value for c in cells[0]]
    assert header[:len(COLUMNS)] == COLUMNS, header
    assert len(cells) - 1 == len(screen)
    rows = []
    for line, shown in zip(cells[1:], screen, strict=True):
        for cell in line:
            assert cell.data_type != "f", (cell.coordinate, cell.value)  # no cell is a formula
        row = dict(zip(header, line, strict=True))
        name = row["company_name"]
        assert name.data_type == "s", (name.coordinate, name.data_type, name.value)  # text
        assert not str(name.value).startswith(("=", "+", "-", "@")), name.value
        assert row["total_debit"].number_format == '"€"#,##0.00'
        for column, value in shown.items():
            assert same(column, xlsx_cell(column, row[column].value), value), (column, row[column].value, shown)
        rows.append({c: xlsx_cell(c, cell.value) for c, cell in row.items()})
    assert_names(rows)


# ---------------------------------------------------------------------------------------------------- tests


def test_journal_export_history_filters_search_attempts_and_downloads(dashboard, arranged, web, shots):
    page = web
    page.add_init_script("delete window.showSaveFilePicker")  # the grid's CSV then downloads like a link
    page.goto(dashboard.url)
    wait_for_app(page)
    nav(page, "Journal Export")
    page.get_by_role("tab", name="History and chart").click()
    wait_for_app(page)
    # the tab opens on the company picked above it; "All companies" widens it to the bureau (and its company filter)
    expect(main(page).get_by_text("Export log", exact=True)).to_be_visible()
    shots(page, "history of the picked company")
    page.locator(".st-key-je_hist_all label").click()
    wait_for_app(page)
    scope = "je_history_all"
    expect_count(page, len(EXPECTED))
    assert keys(on_screen(page, scope)) == expected()
    table(page, scope).scroll_into_view_if_needed()
    shots(page, "all companies - every run")

    # filter by company: the formula-named one
    pick(page, f"{scope}_company", f"{FORMULA_NAMES['FORMULA']} (FORMULA)", 2)
    assert keys(on_screen(page, scope)) == expected(codes=("FORMULA",))
    shots(page, "company filter - formula name")
    clear(page, f"{scope}_company", len(EXPECTED))

    # filter by period, then by status too
    pick(page, f"{scope}_period", "2026-01", 5)
    assert keys(on_screen(page, scope)) == expected(periods=("2026-01",))
    shots(page, "period 2026-01")
    want = expected(periods=("2026-01",), statuses=("sent",))
    pick(page, f"{scope}_status", "Sent", len(want))
    screen = on_screen(page, scope)
    assert keys(screen) == want
    assert {r["sent_by"] for r in screen} == {SENDER} and all(r["voucher_number"] for r in screen)
    shots(page, "period 2026-01 and status sent")

    # the downloads hold exactly these rows, formula names inert
    name, data = download(page, "je_history_csv")
    assert name == "export-log-all.csv"
    rows = assert_csv_is_the_screen(data, screen)
    assert {r["company"] for r in rows} == {"BAKKER", "FORMULA", "PLUSSUM"}
    name, data = download(page, "je_history_xlsx")
    assert name == "export-log-all.xlsx"
    assert_xlsx_is_the_screen(data, screen)

    # status failed: one run; its attempts one click away
    clear(page, f"{scope}_status", 5)
    clear(page, f"{scope}_period", len(EXPECTED))
    pick(page, f"{scope}_status", "Failed", 1)
    assert keys(on_screen(page, scope)) == expected(statuses=("failed",))
    select_row(page, scope, 0)
    title = "Attempts · Van der Berg Installatietechniek B.V. (INSTAL) · 2026-01 run 1"
    expect(main(page).get_by_test_id("stMarkdownContainer").filter(has_text=title)).to_be_visible()
    box = page.get_by_test_id("stVerticalBlock").filter(has_text=title).last  # the bordered box, innermost
    header, *attempts = grid_csv(page, box.get_by_test_id("stDataFrame"))
    assert len(attempts) == 2, attempts
    assert "outcome" in header, header
    outcome = header.index("outcome")
    assert [a[outcome] for a in attempts] == ["Failed", "Failed"]  # the word the log uses
    assert all(SENDER in a for a in attempts), attempts
    box.scroll_into_view_if_needed()
    shots(page, "failed run - its two attempts")
    clear(page, f"{scope}_status", len(EXPECTED))

    # the search box: words of a run, a voucher number, a name
    search(page, f"{scope}_search", "2026-02 run 1")
    want = expected(periods=("2026-02",))
    expect_count(page, len(want))
    assert keys(on_screen(page, scope)) == want
    shots(page, "search 2026-02 run 1")
    voucher = next(r.voucher_number for r in arranged["log"] if (r.company, r.period) == ("BAKKER", "2026-02"))
    search(page, f"{scope}_search", voucher)
    want = matching(arranged["log"], voucher)
    expect_count(page, len(want))
    screen = on_screen(page, scope)
    assert keys(screen) == sorted((r.company, r.period, STATUS_WORDS[r.status], r.attempts) for r in want)
    assert ("BAKKER", "2026-02", "Sent", 1) in keys(screen)
    assert all(voucher.lower() in r["voucher_number"].lower() for r in screen), screen
    shots(page, f"search voucher {voucher}")
    search(page, f"{scope}_search", "hyperlink")
    expect_count(page, 2)
    screen = on_screen(page, scope)
    assert keys(screen) == expected(codes=("FORMULA",))
    shots(page, "search hyperlink")
    _, data = download(page, "je_history_csv")
    assert_csv_is_the_screen(data, screen)
    search(page, f"{scope}_search", "no such company")
    expect(main(page).get_by_text("No run matches these filters.")).to_be_visible()
    shots(page, "search without a match")

    assert "Traceback" not in dashboard.log_path.read_text(errors="replace")


def test_overview_export_log_downloads_what_it_shows_with_formulas_inert(dashboard, arranged, web, shots):
    page = web
    page.add_init_script("delete window.showSaveFilePicker")
    page.goto(dashboard.url)
    wait_for_app(page)
    page.get_by_role("tab", name="Export log").click()  # beside the status grid; runs when opened
    wait_for_app(page)
    scope = "ov_log_all"
    expect_count(page, len(EXPECTED))
    assert keys(on_screen(page, scope)) == expected()
    table(page, scope).scroll_into_view_if_needed()
    shots(page, "overview - export log")

    # the three companies whose names are formulas, and only their runs not sent yet
    chosen: list[str] = []
    for code, formula in FORMULA_NAMES.items():
        chosen.append(code)
        pick(page, f"{scope}_company", f"{formula} ({code})", len(expected(codes=chosen)))
    want = expected(codes=tuple(FORMULA_NAMES))
    assert keys(on_screen(page, scope)) == want
    shots(page, "overview - formula-named companies")
    want = expected(codes=tuple(FORMULA_NAMES), statuses=("not_sent",))
    pick(page, f"{scope}_status", "Not sent", len(want))
    screen = on_screen(page, scope)
    assert keys(screen) == want
    assert all(r["voucher_number"] == "" and r["sent_by"] == "" for r in screen)
    shots(page, "overview - formula-named companies not sent")

    name, data = download(page, "ov_log_csv")
    assert name == "export-log-all.csv"
    rows = assert_csv_is_the_screen(data, screen)
    assert {r["company_name"] for r in rows} == {"'" + FORMULA_NAMES[c] for c in ("ATCMD", "FORMULA")}
    name, data = download(page, "ov_log_xlsx")
    assert name == "export-log-all.xlsx"
    assert_xlsx_is_the_screen(data, screen)

    # the sent run of a formula-named company: its voucher and sender in both files too
    clear(page, f"{scope}_status", len(expected(codes=tuple(FORMULA_NAMES))))
    want = expected(codes=tuple(FORMULA_NAMES), statuses=("sent",))
    pick(page, f"{scope}_status", "Sent", len(want))
    screen = on_screen(page, scope)
    assert keys(screen) == want
    assert all(r["voucher_number"] and r["sent_by"] == SENDER for r in screen)
    _, data = download(page, "ov_log_csv")
    assert_csv_is_the_screen(data, screen)
    _, data = download(page, "ov_log_xlsx")
    assert_xlsx_is_the_screen(data, screen)
    shots(page, "overview - formula-named companies sent")

    assert "Traceback" not in dashboard.log_path.read_text(errors="replace")

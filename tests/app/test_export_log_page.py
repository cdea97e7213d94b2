"""AppTest: the export log on Journal Export › History and chart and on Overview (filters, count, downloads)."""

from __future__ import annotations

import io

import openpyxl

from tests.support.apptest import all_text, downloaded, open_page

PAGE = "pages/journal_export.py"


def _log(at):
    return next(df.value for df in at.dataframe if "voucher_number" in df.value.columns)


def test_status_filter_narrows_the_rows_and_the_downloads(rt, with_failure):
    at = open_page(PAGE)
    at.session_state["je_tab"] = "History and chart"
    at.run()
    assert not at.exception, at.exception
    assert len(_log(at)) == 3 and "3 runs" in all_text(at)
    at.multiselect(key="je_history_BAKKERIJ-DGK_status").set_value(["failed"]).run()
    assert not at.exception, at.exception
    table = _log(at)
    assert list(table["status"]) == ["Failed"] and "1 run " in all_text(at) + " "
    assert downloaded(at, "je_history_csv").decode("utf-8-sig").count("\r\n") == 2  # header + the one row
    sheet = openpyxl.load_workbook(io.BytesIO(downloaded(at, "je_history_xlsx"))).active
    assert [r[4] for r in sheet.iter_rows(min_row=2, values_only=True)] == ["failed"]


def test_overview_ends_with_the_export_log(rt, with_failure):
    at = open_page("pages/overview.py")
    assert not at.exception, at.exception
    # the log is a tab beside the status grid, and runs only when opened (the page costs what it shows)
    assert not any("voucher_number" in df.value.columns for df in at.dataframe)
    at.session_state["ov_tab"] = "Export log"
    at.run()
    assert not at.exception, at.exception
    assert len(_log(at)) == 3 and "3 runs" in all_text(at)

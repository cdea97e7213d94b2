"""AppTest: the Journal Export page (runs and badges, preview, send with confirmation, re-send with a reason, bulk
send with a summary, file import with its report, history CSV and chart, ``?run=`` deep link)."""

from __future__ import annotations

from tests.support.apptest import all_text, downloaded, new_app, open_page
from tests.support.pages import BAKKERIJ_CODE, set_state

PAGE = "pages/journal_export.py"
BAKKERIJ = "Bakkerij De Gouden Korst B.V."


def open_tab(at, tab: str):
    at.session_state["je_tab"] = tab
    return at.run()


def open_run(run_id: int):
    at = new_app()
    at.run()
    at.query_params["run"] = str(run_id)
    at.switch_page(PAGE).run()
    assert not at.exception, at.exception
    return at


def runs_of(rt, code=BAKKERIJ_CODE) -> dict:
    from core import services

    return {r.id: r for r in services.list_runs(rt, company_code=code)}


def test_empty_state_offers_import(app_env):
    at = open_page(PAGE)
    assert not at.exception
    assert "No payroll company yet" in all_text(at)
    open_tab(at, "Import a journal file")
    assert not at.exception


def test_runs_table_shows_badges_and_failure_inline(rt, with_failure):
    at = open_page(PAGE)
    assert not at.exception
    table = at.dataframe[0].value
    assert len(table) == 3
    statuses = " ".join(table["status"])
    assert "Sent" in statuses and "Failed" in statuses and "Not sent" in statuses
    failed = table[table["status"].str.contains("Failed")].iloc[0]
    assert failed["problem"] == "Fiscal year missing in Visma"
    assert "create the fiscal year" in failed["solution"]


def test_run_link_focuses_the_run_with_preview_and_attempts(rt, with_failure):
    at = open_run(with_failure.run_ids[1])
    text = all_text(at)
    assert "Failed" in text
    assert "The fiscal year has not ben created yet in the portal of Visma." in text  # cause inline
    assert ":green-badge[High confidence]" in text  # how sure, as the Troubleshooting page says it
    assert "Balanced" in text  # the voucher preview
    assert any(m.label == "Total debit" and m.value.startswith("€") for m in at.metric)
    # the history of attempts
    assert any("outcome" in df.value.columns and "Failed" in set(df.value["outcome"]) for df in at.dataframe)


def test_run_link_reads_one_run_not_every_run(rt, mapped, monkeypatch):
    from core import services

    def every_run(*args, **kwargs):
        if kwargs.get("company_code") is None:
            raise AssertionError("?run= must not read every company's runs")
        return real(*args, **kwargs)

    real = services.list_runs
    monkeypatch.setattr(services, "list_runs", every_run)
    at = open_run(mapped.run_ids[2])
    assert at.session_state["je_company"] == BAKKERIJ_CODE and at.session_state["je_run"] == mapped.run_ids[2]
    assert "Balanced" in all_text(at)  # the focused run's voucher preview


def test_run_link_to_a_missing_run_says_so(rt, mapped):
    missing = max(mapped.run_ids) + 1000
    at = open_run(missing)
    assert any(f"There is no run with id {missing}" in w.value for w in at.warning)
    assert not at.error


def test_send_one_run_after_confirming(rt, mapped):
    at = open_run(mapped.run_ids[0])
    at.button(key=f"je_send_{mapped.run_ids[0]}").click().run()
    assert not at.exception
    assert "Send this run to Visma?" in str(at.get("dialog")) or at.button(key="je_confirm_send")
    at.button(key="je_confirm_send").click().run()
    assert not at.exception
    run = runs_of(rt)[mapped.run_ids[0]]
    assert run.status == "sent" and run.voucher_number
    assert "was sent: Visma voucher" in all_text(at)


def test_send_failure_shows_entry(rt, mapped):
    set_state(rt, BAKKERIJ, "api_module_inactive")
    at = open_run(mapped.run_ids[0])
    at.button(key=f"je_send_{mapped.run_ids[0]}").click().run()
    at.button(key="je_confirm_send").click().run()
    assert not at.exception
    assert runs_of(rt)[mapped.run_ids[0]].status == "failed"
    text = all_text(at)
    assert "was not accepted by Visma" in text
    assert "Deselect the setting 'default company'." in text


def test_failed_run_sent_again_after_the_fix(rt, with_failure):
    failed_id = with_failure.run_ids[1]
    at = open_run(failed_id)
    at.button(key=f"je_send_{failed_id}").click().run()
    at.button(key="je_confirm_send").click().run()
    assert not at.exception
    assert runs_of(rt)[failed_id].status == "sent"


def test_cancel_closes_the_confirmation(rt, mapped):
    at = open_run(mapped.run_ids[0])
    at.button(key=f"je_send_{mapped.run_ids[0]}").click().run()
    at.button(key="je_cancel_send").click().run()
    assert not at.exception
    assert not [b for b in at.button if b.key == "je_confirm_send"]
    assert runs_of(rt)[mapped.run_ids[0]].status == "not_sent"


def test_resend_needs_a_reason(rt, with_failure):
    sent_id = with_failure.run_ids[0]
    before = runs_of(rt)[sent_id].voucher_number
    at = open_run(sent_id)
    at.button(key=f"je_resend_{sent_id}").click().run()
    at.button(key="je_confirm_resend").click().run()
    assert "Say why the run is sent again" in all_text(at)
    assert runs_of(rt)[sent_id].voucher_number == before
    at.text_area(key="je_resend_reason").set_value("voucher reversed in Visma after a correction")
    at.button(key="je_confirm_resend").click().run()
    assert not at.exception
    after = runs_of(rt)[sent_id]
    assert after.status == "sent" and after.voucher_number != before


def test_bulk_send_with_progress_and_summary(rt, with_failure):
    at = open_page(PAGE)
    open_tab(at, "Send pending")
    assert not at.exception
    at.button(key="je_bulk_send").click().run()
    assert not at.exception
    assert "Done: **1** sent, **0** failed" in all_text(at)
    statuses = [r.status for r in runs_of(rt).values()]
    assert statuses.count("sent") == 2 and statuses.count("failed") == 1


def test_bulk_send_failure_lists_runs_and_entries(rt, mapped):
    set_state(rt, BAKKERIJ, "no_fiscal_year")
    at = open_page(PAGE)
    open_tab(at, "Send pending")
    at.button(key="je_bulk_send").click().run()
    assert not at.exception
    text = all_text(at)
    assert "**3** failed" in text
    # grouped by cause: one row saying 3 runs, not three identical rows
    assert "Runs not sent, by cause" in text
    assert text.count("**Fiscal year missing in Visma** — 3 runs · BAKKERIJ-DGK") == 1  # one card, not three
    # "nothing waiting" no longer hides the failed runs: they are offered for retry by cause
    assert "Retry all 3" in [b.label for b in at.button]
    retry = at.button(key="je_retry_fiscal-year-missing")
    retry.click().run()  # still missing: the fresh preflight holds all three back, nothing is posted
    assert not at.exception
    assert "**0** sent" in all_text(at) and "**3** skipped" in all_text(at)
    assert any("**3** skipped" in box.value for box in at.info)  # nothing went through: not a green success
    set_state(rt, BAKKERIJ, "ok")  # fixed it: retry all 3
    at.button(key="je_retry_fiscal-year-missing").click().run()
    assert not at.exception
    assert "**3** sent" in all_text(at)


GOOD_CSV = (
    b"Period;Year;Run;GeneralLedgerAccount;ComponentName;Debit;Credit\n"
    b"3;2026;1;4000;Salaris;1000,00;0\n"
    b"3;2026;1;1520;Nettolonen;0;1000,00\n"
)


def upload(at, name: str, data: bytes, code: str = "NEW-CO", company_name: str = "New Co"):
    at.file_uploader(key="je_import_file").set_value((name, data, "text/csv"))
    at.text_input(key="je_import_code").set_value(code)
    at.text_input(key="je_import_name").set_value(company_name)
    at.button(key="FormSubmitter:je_import_form-Import").click().run()
    assert not at.exception, at.exception
    return at


def test_import_file_with_report(rt, app_env):
    from core import services

    at = open_page(PAGE)
    open_tab(at, "Import a journal file")
    upload(at, "journal.csv", GOOD_CSV)
    assert any("journal.csv: imported 1 run into" in s.value for s in at.success)
    assert not at.error
    assert [r.label for r in services.list_runs(rt, company_code="NEW-CO")] == ["2026-03 run 1"]
    # the same file again: the run exists, nothing is imported twice and the report says why
    upload(at, "journal.csv", GOOD_CSV)
    assert any("nothing was imported" in e.value for e in at.error)
    assert "Whole file" in set(at.dataframe[-1].value["row"])
    assert len(services.list_runs(rt, company_code="NEW-CO")) == 1


def test_import_report_lists_refused_rows(rt, app_env):
    from core import services

    bad = GOOD_CSV + b"3;2026;1;4000;Salaris;abc;0\n3;2026;1;;Nettolonen;0;10\n"
    at = open_page(PAGE)
    open_tab(at, "Import a journal file")
    upload(at, "bad.csv", bad)
    assert any("bad.csv: nothing was imported" in e.value for e in at.error)
    report = at.dataframe[-1].value
    assert list(report.columns) == ["row", "column", "message"]
    assert {"Row 4", "Row 5"} <= set(report["row"])  # the file's own line numbers, header included
    assert services.list_runs(rt, company_code="NEW-CO") == []  # all or nothing


def test_import_without_a_file_is_refused(rt, app_env):
    at = open_page(PAGE)
    open_tab(at, "Import a journal file")
    at.button(key="FormSubmitter:je_import_form-Import").click().run()
    assert any("Choose a file" in e.value for e in at.error)


def test_history_chart_and_csv(rt, with_failure):
    import io

    import pandas as pd

    at = open_page(PAGE)
    open_tab(at, "History and chart")
    assert not at.exception
    chart = at.get("arrow_vega_lite_chart") or at.get("vega_lite_chart")
    assert chart
    # the file the browser saves: one row per attempt of this company, readable by Excel (BOM) and pandas
    raw = downloaded(at, "je_history_csv")
    assert raw.startswith(b"\xef\xbb\xbf")
    history = pd.read_csv(io.BytesIO(raw), encoding="utf-8-sig")
    assert len(history) >= 2
    assert {"sent", "failed"} <= set(history.astype(str).stack())
    assert not any(w in raw.decode("utf-8-sig").lower() for w in ("access_token", "refresh_token", "bearer "))


def test_support_bundle_of_a_failed_run_downloads_without_secrets(rt, with_failure):
    import json

    failed_id = with_failure.run_ids[1]
    at = open_run(failed_id)
    at.button(key=f"je_bundle_{failed_id}").click().run()
    assert not at.exception
    raw = downloaded(at, f"je_bundle_dl_{failed_id}")
    data = json.loads(raw)
    assert data["entry"]["id"] == "fiscal-year-missing"
    for secret in ("access_token", "refresh_token", "sandbox-demo-secret", "Bearer ", "Welkom2026"):
        assert secret not in raw.decode()


def test_chart_colours():
    from core.services import EXPORT_STATUS_LOOKS
    from ui.charts import exports_chart

    chart = exports_chart([{"year": 2026, "period": 1, "status": "sent", "count": 2},
                           {"year": 2026, "period": 1, "status": "failed", "count": 1},
                           {"year": 2026, "period": 2, "status": "not_sent", "count": 3}])
    spec = chart.to_dict()
    scale = spec["encoding"]["color"]["scale"]
    assert scale["domain"] == ["Not sent", "Sent", "Failed"]
    assert scale["range"] == [EXPORT_STATUS_LOOKS["not_sent"].hex, "#2f9e44", "#e03131"]  # sent green, failed red
    assert exports_chart([]) is None


def test_progress_relay_draws_in_the_calling_thread():
    import threading

    from ui.progress import run_with_progress

    seen = []

    def work(progress):
        threads = [threading.Thread(target=progress, args=(i + 1, 3, {"label": f"r{i}"})) for i in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return {"sent": 3}

    result = run_with_progress(work, lambda relay: seen.append((threading.current_thread().name, relay.total)))
    assert result == {"sent": 3}
    assert seen and all(name == threading.current_thread().name and total == 3 for name, total in seen)


def test_progress_relay_reraises():
    import pytest

    from ui.progress import run_with_progress

    def work(progress):
        raise ValueError("boom")

    with pytest.raises(ValueError):
        run_with_progress(work, lambda relay: None)


def test_scrub_removes_secrets():
    from ui.downloads import scrub

    cleaned = scrub({"a": 1, "access_token": "x", "nested": [{"Authorization": "Bearer y", "ok": 2}]})
    assert cleaned == {"a": 1, "access_token": "[removed]", "nested": [{"Authorization": "[removed]", "ok": 2}]}


def test_unconfirmed_run_says_what_happened_and_is_checked_now(rt, mapped, sandbox):
    """Visma down (503) during a send: the run is orange *Unconfirmed* with what happened, not blue *Sending*;
    *Check in Visma now* settles it by its marker once Visma answers, and the picker stays on the company."""
    from core import services
    from tests.support.export import fast_client, sandbox_vouchers, set_faults

    fast_client(rt)
    run_id = mapped.run_ids[0]
    set_faults(sandbox.url, mapped.visma_company_id, http_error=503)
    assert services.send_run(rt, run_id, actor="test").status == "unconfirmed"
    at = open_run(run_id)
    text = all_text(at)
    assert ":orange-badge[Unconfirmed]" in text and "may or may not be booked" in text
    assert "being sent right now" not in text
    assert "1 unconfirmed" in text  # the caption under the picker counts every run, unconfirmed ones too
    at.button(key=f"je_check_{run_id}").click().run()  # Visma still down: still unconfirmed, and it says so
    assert not at.exception
    assert runs_of(rt)[run_id].status == "unconfirmed" and "still does not answer" in all_text(at)
    set_faults(sandbox.url, mapped.visma_company_id, http_error=None)
    at.button(key=f"je_check_{run_id}").click().run()
    assert not at.exception
    # the sandbox's 503 refuses before booking: the marker is not in Visma, so the run is failed and safe to send
    assert runs_of(rt)[run_id].status == "failed"
    text = all_text(at)
    assert "Checked in Visma" not in text  # said once, by the box below, not twice
    assert "Not booked: Visma did not answer" in text and "safe to send it again" in text
    assert not any("did not accept this journal entry" in e.value for e in at.error)  # no mixed message
    assert at.session_state["je_company"] == BAKKERIJ_CODE
    services.send_run(rt, run_id, actor="test")  # sending it again posts exactly one voucher
    assert runs_of(rt)[run_id].status == "sent" and len(sandbox_vouchers(sandbox.url, mapped.visma_company_id)) == 1


def test_picker_keeps_its_company_through_sends(rt, mapped):
    """The company list is alphabetical and the selection is the company's code: a send that changes the counts
    never moves the picker, and the counts under it are the new ones."""
    from tests.support.export import setup_company

    other = setup_company(rt, "ADMIN-MULDER", periods=(1,))  # sorts before Bakkerij; may fail (article state)
    set_state(rt, BAKKERIJ, "ok")
    at = open_run(mapped.run_ids[0])
    assert at.session_state["je_company"] == BAKKERIJ_CODE
    assert "Runs: 3 not sent" in [c.value for c in at.caption]
    from core import services
    services.send_run(rt, mapped.run_ids[0], actor="test")
    services.send_run(rt, other.run_ids[0], actor="test")
    from ui.frame import data_changed

    data_changed()  # what the page's own send does after sending
    at.run()
    assert not at.exception
    assert at.session_state["je_company"] == BAKKERIJ_CODE
    assert "Runs: 2 not sent · 1 sent" in [c.value for c in at.caption]
    # the label itself never changes (a browser keeps showing the label it chose)
    assert at.selectbox(key="je_company").format_func(BAKKERIJ_CODE) == f"{BAKKERIJ} ({BAKKERIJ_CODE})"

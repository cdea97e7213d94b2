"""Journal Export's Import tab (AppTest): the company field is never taken silently from the company picker above the
tabs (which the user may have moved), and the report names the company the file went into (issue 12)."""

from __future__ import annotations

from tests.support.apptest import open_page
from tests.support.pages import BAKKERIJ_CODE

PAGE = "pages/journal_export.py"
CSV = (
    b"Period;Year;Run;GeneralLedgerAccount;ComponentName;Debit;Credit\n"
    b"11;2026;2;4000;Salaris;1000,00;0\n"
    b"11;2026;2;1520;Nettolonen;0;1000,00\n"
)


def _open_import(at):
    at.session_state["je_tab"] = "Import a journal file"
    return at.run()


def _company_name(rt, code: str) -> str:
    from core import services

    return next(c.name for c in services.list_payroll_companies(rt) if c.code == code)


def test_company_code_starts_empty_whatever_the_picker_shows(rt, mapped):
    from core import services

    services.seed_demo_payroll(rt)  # more companies, so the picker can move
    at = open_page(PAGE)
    _open_import(at)
    assert not at.exception
    field = at.text_input(key="je_import_code")
    assert field.value == ""
    assert "The code of the company this file belongs to" in field.placeholder
    # the user moves the picker above the tabs: the import's company still is what they type, nothing else
    other = next(c.code for c in services.list_payroll_companies(rt) if c.code != at.selectbox[0].value)
    at.selectbox[0].set_value(other).run()
    assert at.text_input(key="je_import_code").value == ""


def test_import_success_names_the_company_it_imported_into(rt, mapped):
    from core import services

    at = open_page(PAGE)
    _open_import(at)
    at.file_uploader(key="je_import_file").set_value(("november.csv", CSV, "text/csv"))
    at.text_input(key="je_import_code").set_value(BAKKERIJ_CODE)
    at.button(key="FormSubmitter:je_import_form-Import").click().run()
    assert not at.exception, at.exception
    name = _company_name(rt, BAKKERIJ_CODE)
    success = [s.value.replace("\\", "") for s in at.success if "imported 1 run into" in s.value]
    assert success, [s.value for s in at.success]
    assert f"into **{name} ({BAKKERIJ_CODE})**" in success[0]
    assert "2026-11 run 2" in [r.label for r in services.list_runs(rt, company_code=BAKKERIJ_CODE)]
    # the same file again: the refusal names the company too
    at.file_uploader(key="je_import_file").set_value(("november.csv", CSV, "text/csv"))
    at.text_input(key="je_import_code").set_value(BAKKERIJ_CODE)
    at.button(key="FormSubmitter:je_import_form-Import").click().run()
    errors = [e.value.replace("\\", "") for e in at.error if "nothing was imported" in e.value]
    assert errors and f"into **{name} ({BAKKERIJ_CODE})**" in errors[0]


def test_import_into_a_new_company_names_it(rt, app_env):
    at = open_page(PAGE)
    _open_import(at)
    at.file_uploader(key="je_import_file").set_value(("new.csv", CSV, "text/csv"))
    at.text_input(key="je_import_code").set_value("NIEUW-BV")
    at.text_input(key="je_import_name").set_value("Nieuw B.V.")
    at.button(key="FormSubmitter:je_import_form-Import").click().run()
    assert not at.exception, at.exception
    assert any("into **Nieuw B.V. (NIEUW-BV)**" in s.value.replace("\\", "") for s in at.success), \
        [s.value for s in at.success]

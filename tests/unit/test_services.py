"""The service layer through its one door (`core.services`), with Visma faked in memory (`tests/unit/fakes.py`).

Each test is a user action as the pages and the CLI make it: authorize an account, map a company, import a file,
send, re-send, check. They run in milliseconds; the same behaviour over real HTTP against the sandbox is the
integration suite's.
"""

from __future__ import annotations

import pytest

from core import services
from core.services import ServiceError
from tests.unit.fakes import FakeOAuth, fake_runtime

ACTOR = "unit@test"
BAKKERIJ = "Bakkerij De Gouden Korst B.V."
HEADER = "EmployeeName;Period;Year;Run;Department;CostCenter;CostUnit;Percentage;GeneralLedgerAccount;ComponentName;" \
         "Debit;Credit"


def journal(*periods: int, year: int = 2026, wage: str = "1000,00", account: str = "4000") -> bytes:
    """A balanced journal report: per period one wage line (cost centre PROD) against net wages payable."""
    rows = [HEADER]
    for period in periods:
        rows += [f"Jan Jansen;{period};{year};1;;PROD;;;{account};Salaris;{wage};",
                 f"Jan Jansen;{period};{year};1;;;;;1520;Netto loon;;{wage}"]
    return ("\r\n".join(rows) + "\r\n").encode()


@pytest.fixture
def world(tmp_path):
    rt, visma, oauth = fake_runtime(tmp_path)
    yield rt, visma, oauth
    rt.close()


def authorize(rt, oauth: FakeOAuth, name: str, company) -> services.AccountView:
    services.create_account(rt, name, actor=ACTOR)
    url = services.start_authorization(rt, name, actor=ACTOR)
    state = url.split("state=")[1].split("&")[0]
    return services.complete_authorization(rt, {"code": oauth.code_for(company), "state": state}, actor=ACTOR)


def mapped_company(world, *, periods=(1, 2, 3), **company_kwargs):
    """A payroll company with runs of ``periods``, mapped to an authorized account of a fake Visma company."""
    rt, visma, oauth = world
    company = visma.add_company(BAKKERIJ, **company_kwargs)
    authorize(rt, oauth, "bakkerij", company)
    report = services.import_journal_file(rt, "BAKKERIJ", "journaal.csv", journal(*periods), actor=ACTOR,
                                          company_name="Bakkerij")
    assert not report.errors, report.errors
    services.map_company(rt, "BAKKERIJ", "bakkerij", actor=ACTOR)
    runs = sorted(services.list_runs(rt, company_code="BAKKERIJ"), key=lambda r: r.period)
    return company, [r.id for r in runs]


# --------------------------------------------------------------------------------------------------- accounts


def test_authorizing_reads_the_company_chosen_at_the_login(world):
    rt, visma, oauth = world
    account = authorize(rt, oauth, "bakkerij", visma.add_company(BAKKERIJ))
    assert (account.status, account.visma_company_name) == ("authorized", BAKKERIJ)
    assert [a.name for a in services.list_accounts(rt)] == ["bakkerij"]


def test_a_forged_state_stores_nothing(world):
    rt, visma, oauth = world
    services.create_account(rt, "bakkerij", actor=ACTOR)
    services.start_authorization(rt, "bakkerij", actor=ACTOR)
    company = visma.add_company(BAKKERIJ)
    with pytest.raises(ServiceError):
        services.complete_authorization(rt, {"code": oauth.code_for(company), "state": "forged"}, actor=ACTOR)
    assert services.list_accounts(rt)[0].status == "not_authorized"


def test_a_code_visma_refuses_is_explained_as_an_invalid_code(world):
    rt, _, _ = world
    services.create_account(rt, "bakkerij", actor=ACTOR)
    url = services.start_authorization(rt, "bakkerij", actor=ACTOR)
    state = url.split("state=")[1].split("&")[0]
    with pytest.raises(ServiceError) as refused:
        services.complete_authorization(rt, {"code": "code:unknown", "state": state}, actor=ACTOR)
    assert refused.value.entry_id == "authorization-code-invalid"
    assert services.list_accounts(rt)[0].status == "not_authorized"


def test_a_company_without_the_api_module_is_authorized_with_the_articles_note(world):
    rt, visma, oauth = world
    account = authorize(rt, oauth, "kapsalon", visma.add_company("Kapsalon", api_module=False))
    assert account.status == "authorized"
    assert account.status_entry_id == "api-module-inactive"


def test_disconnect_revokes_at_visma(world):
    rt, visma, oauth = world
    authorize(rt, oauth, "bakkerij", visma.add_company(BAKKERIJ))
    account = services.disconnect_account(rt, "bakkerij", actor=ACTOR)
    assert account.status == "not_authorized"
    assert len(oauth.revoked) == 1


# --------------------------------------------------------------------------------------------------- mappings


def test_mapping_to_an_account_that_is_not_authorized_is_refused(world):
    rt, _, _ = world
    services.create_account(rt, "nog-niet", actor=ACTOR)
    services.import_journal_file(rt, "BAKKERIJ", "journaal.csv", journal(1), actor=ACTOR, company_name="Bakkerij")
    with pytest.raises(ServiceError) as refused:
        services.map_company(rt, "BAKKERIJ", "nog-niet", actor=ACTOR)
    assert refused.value.entry_id == "account-not-authorized"


def test_an_unbalanced_file_imports_nothing_and_says_where(world):
    rt, _, _ = world
    data = journal(1).replace(b";;1000,00\r\n", b";;999,00\r\n")
    report = services.import_journal_file(rt, "BAKKERIJ", "journaal.csv", data, actor=ACTOR, company_name="Bakkerij")
    assert report.imported == () and report.errors
    assert "balance" in report.errors[0].message
    assert services.list_runs(rt, company_code="BAKKERIJ") == []


def test_rows_left_out_on_purpose_are_said_not_silently_dropped(world):
    rt, _, _ = world
    data = journal(1) + b"Jan Jansen;1;2026;1;;;;;4020;Eindejaarsuitkering;0,00;0,00\r\n"
    report = services.import_journal_file(rt, "BAKKERIJ", "journaal.csv", data, actor=ACTOR, company_name="Bakkerij")
    assert report.imported == ("2026-01 run 1",)
    assert report.notes == ("1 row with zero debit and credit was ignored",)


# --------------------------------------------------------------------------------------------------- sending


def test_a_run_is_posted_once_and_a_second_send_does_not_post(world):
    rt, visma, _ = world
    company, run_ids = mapped_company(world, periods=(1,))
    first = services.send_run(rt, run_ids[0], actor=ACTOR)
    again = services.send_run(rt, run_ids[0], actor=ACTOR)
    assert (first.outcome, first.voucher_number) == ("sent", "A1")
    assert (again.outcome, again.entry_id) == ("skipped", "voucher-already-sent")
    assert visma.posts == 1 and len(company.vouchers) == 1


def test_the_voucher_is_the_balanced_journal_in_cents(world):
    rt, _, _ = world
    company, run_ids = mapped_company(world, periods=(2,))
    services.send_run(rt, run_ids[0], actor=ACTOR)
    rows = company.vouchers[0]["Rows"]
    assert sum(r["DebitAmount"] for r in rows) == sum(r["CreditAmount"] for r in rows) == 1000.0
    assert company.vouchers[0]["VoucherDate"].startswith("2026-02-28")


def test_an_answer_lost_after_visma_stored_the_voucher_is_reconciled_not_reposted(world):
    rt, visma, _ = world
    company, run_ids = mapped_company(world, periods=(1,), next_posts=["drop"])
    result = services.send_run(rt, run_ids[0], actor=ACTOR)
    assert (result.outcome, result.status, result.voucher_number) == ("reconciled", "sent", "A1")
    assert visma.posts == 1 and len(company.vouchers) == 1


def test_visma_unavailable_fails_the_run_transiently_and_a_retry_sends_it(world):
    rt, visma, _ = world
    company, run_ids = mapped_company(world, periods=(1,), next_posts=["unavailable"])
    failed = services.send_run(rt, run_ids[0], actor=ACTOR)
    assert (failed.outcome, failed.entry_id) == ("failed", "visma-unavailable")
    assert company.vouchers == []
    retried = services.send_run(rt, run_ids[0], actor=ACTOR)
    assert retried.outcome == "sent" and len(company.vouchers) == 1


def test_a_missing_fiscal_year_fails_with_the_articles_entry_and_preflight_sees_it(world):
    rt, _, _ = world
    company, run_ids = mapped_company(world, periods=(1,), fiscal_years=[2025])
    result = services.send_run(rt, run_ids[0], actor=ACTOR)
    assert (result.outcome, result.entry_id) == ("failed", "fiscal-year-missing")
    assert services.get_run(rt, run_ids[0]).error_entry_id == "fiscal-year-missing"
    findings = services.preflight_company(rt, "BAKKERIJ")
    assert "fiscal-year-missing" in {f["entry_id"] for f in findings}


def test_send_pending_sends_every_waiting_run_of_mapped_companies(world):
    rt, visma, _ = world
    company, run_ids = mapped_company(world, periods=(1, 2, 3))
    summary = services.send_pending(rt, actor=ACTOR)
    assert (summary.sent, summary.failed) == (3, 0)
    assert visma.posts == 3 and len(company.vouchers) == 3
    counts = {c.code: (c.runs_sent, c.runs_not_sent) for c in services.list_payroll_companies(rt)}
    assert counts["BAKKERIJ"] == (3, 0)


def test_resend_needs_a_reason_and_posts_a_new_voucher(world):
    rt, visma, _ = world
    company, run_ids = mapped_company(world, periods=(1,))
    services.send_run(rt, run_ids[0], actor=ACTOR)
    with pytest.raises(ServiceError):
        services.resend_run(rt, run_ids[0], reason=" ", actor=ACTOR)
    services.resend_run(rt, run_ids[0], reason="Visma lost the voucher", actor=ACTOR)
    assert len(company.vouchers) == 2
    markers = [v["VoucherText"] for v in company.vouchers]
    assert markers[0] != markers[1]


def test_overview_counts_failures_by_their_entry(world):
    rt, _, _ = world
    _, run_ids = mapped_company(world, periods=(1, 2), fiscal_years=[2025])
    services.send_pending(rt, actor=ACTOR)
    failures = services.overview(rt)["failures_by_entry"]
    assert [(f["entry_id"], f["count"]) for f in failures] == [("fiscal-year-missing", 2)]

"""A percentage-split journal that balances on import is the voucher Visma gets, on SQLite and PostgreSQL.

Issue 12, point 8: journal lines were stored as Numeric(16, 4), so six-decimal split amounts lost their last two
decimals on the way in and a run that balanced on import was refused as unbalanced at send. Here 120 employees' wages
are split 33,3333 % / 33,3333 % / 33,3334 % over three cost centres in six-decimal amounts: the exact journal
balances, but each split rounded to four decimals loses 0,0001 per employee (0,012 in all). The run is imported through
the service the product uses, sent to the sandbox, and the voucher Visma holds must balance to the cent with totals
equal to the import's totals rounded once.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal

from core import services
from core.demo.payroll import DEMO_MAPPING
from core.mappings.companies import map_company
from core.money import is_balanced_to_the_cent, round_cents
from sandbox import seed
from tests.support.export import authorize_for, run_ids, sandbox_vouchers

CODE = "BAKKERIJ-DGK"
ACTOR = "test@split"
SPLITS = (("PROD", Decimal("33.3333")), ("VERK", Decimal("33.3333")), ("ADM", Decimal("33.3334")))
HEADER = ("EmployeeName;Period;Year;Run;Department;CostCenter;CostUnit;Percentage;GeneralLedgerAccount;"
          "ComponentName;Debit;Credit")


def _wages() -> list[Decimal]:
    # whole euros ending in 01: every split amount ends in ...33 or ...34 at the 5th-6th decimal, so rounding each one
    # to four decimals always goes down
    return [Decimal(2001 + 100 * k) for k in range(120)]


def _nl(amount: Decimal) -> str:
    return format(amount, "f").replace(".", ",")


def split_journal() -> tuple[bytes, list[tuple[str, str, Decimal, Decimal]]]:
    """The CSV a payroll system exports (semicolons, decimal commas) and its lines (account, cost centre, D, C)."""
    rows, lines = [HEADER], []
    for number, wage in enumerate(_wages(), start=1):
        name = f"Medewerker {number:03d}"
        for cost_center, pct in SPLITS:
            amount = wage * pct / 100  # exact: six decimals
            rows.append(f"{name};4;2026;1;;{cost_center};;{_nl(pct)};4000;Brutoloon;{_nl(amount)};")
            lines.append(("4000", cost_center, amount, Decimal(0)))
        tax = wage * Decimal("0.3")
        for account, component, amount in (("1500", "Loonheffing", tax), ("1520", "Nettoloon", wage - tax)):
            rows.append(f"{name};4;2026;1;;;;;{account};{component};;{_nl(amount)}")
            lines.append((account, None, Decimal(0), amount))
    return ("\r\n".join(rows) + "\r\n").encode("utf-8"), lines


def test_the_data_breaks_four_decimal_storage():
    """The file is the case of the issue: exactly balanced, unbalanced once each line is rounded to four decimals."""
    _, lines = split_journal()
    debit = sum(d for _, _, d, _ in lines)
    credit = sum(c for _, _, _, c in lines)
    assert debit == credit
    assert any(d.as_tuple().exponent == -6 for _, _, d, _ in lines)
    four = Decimal("0.0001")
    rounded_debit = sum(d.quantize(four, ROUND_HALF_EVEN) for _, _, d, _ in lines)
    assert not is_balanced_to_the_cent(rounded_debit, credit)


def test_a_split_journal_that_balances_on_import_is_posted_balanced(rt, sandbox):
    data, lines = split_journal()
    report = services.import_journal_file(rt, CODE, "loonjournaal-april.csv", data, actor=ACTOR,
                                          company_name="Bakkerij De Gouden Korst B.V.")
    assert report.errors == () and report.imported == ("2026-04 run 1",)

    account = authorize_for(rt, DEMO_MAPPING[CODE], "acc-split")
    map_company(rt, CODE, "acc-split", actor=ACTOR)
    (run_id,) = run_ids(rt, CODE)
    result = services.send_run(rt, run_id, actor=ACTOR)
    assert result.outcome == "sent", result.message

    (voucher,) = sandbox_vouchers(sandbox.url, account.visma_company_id)
    rows = voucher["Rows"]
    total_debit = sum(Decimal(repr(r["DebitAmount"])) for r in rows)
    total_credit = sum(Decimal(repr(r["CreditAmount"])) for r in rows)
    import_debit = sum(d for _, _, d, _ in lines)
    import_credit = sum(c for _, _, _, c in lines)
    assert total_debit == total_credit == round_cents(import_debit) == round_cents(import_credit)
    run = services.get_run(rt, run_id)
    assert run.total_debit == round_cents(import_debit)

    # every row is its exact account / cost-centre total rounded once; a row that took a rounding cent says so
    items = {seed.cost_center_item_id(account.visma_company_id, cc): cc for cc, _ in SPLITS}
    exact: dict[tuple[int, str | None], Decimal] = {}
    for ledger, cost_center, debit, credit in lines:
        key = (int(ledger), cost_center)
        exact[key] = exact.get(key, Decimal(0)) + debit - credit
    posted = {(r["AccountNumber"], items.get(r["CostCenterItemId1"])):
              (Decimal(repr(r["DebitAmount"])) - Decimal(repr(r["CreditAmount"])), r["TransactionText"]) for r in rows}
    assert posted.keys() == exact.keys()
    for key, (amount, text) in posted.items():
        expected = round_cents(abs(exact[key])).copy_sign(exact[key])
        if "afronding" in text:
            assert abs(amount - expected) <= Decimal("0.02"), (key, amount, expected)
        else:
            assert amount == expected, (key, amount, expected)

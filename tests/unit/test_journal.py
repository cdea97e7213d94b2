"""Journal -> voucher: aggregation, netting, rounding once, balance, texts, marker and the Visma JSON."""

from __future__ import annotations

import json
import random
import re
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from core.demo.payroll import DEMO_COMPANIES, demo_runs, generate_bulk
from core.errors import ServiceError
from core.export.texts import MAX_TRANSACTION_TEXT, MAX_VOUCHER_TEXT
from core.export.voucher import (
    JournalError,
    Voucher,
    VoucherRow,
    build_voucher,
    export_marker,
)
from core.money import is_balanced_to_the_cent
from core.payroll.types import JournalLine, PayrollRunData

D = Decimal
CENT = D("0.01")
CC_ACCOUNTS = {4000, 4010, 4100, 4150, 4200}
WHEN = datetime(2026, 3, 25, 16, 0, tzinfo=UTC)


def line(account: str, debit="0", credit="0", component: str = "", cc: str | None = None) -> JournalLine:
    return JournalLine(account, component or f"Comp {account}", "", D(debit), D(credit), cost_center=cc)


def run_of(*lines: JournalLine, period: int = 3, year: int = 2026, code: str = "BAKKERIJ-DGK") -> PayrollRunData:
    return PayrollRunData(code, year, period, 1, WHEN, tuple(lines))


def half_up(x: Decimal) -> Decimal:
    return x.quantize(CENT, ROUND_HALF_UP)


def by_account(voucher: Voucher) -> dict[tuple[int, str | None], tuple[Decimal, Decimal]]:
    return {(r.account_number, r.cost_center_item_id): (r.debit, r.credit) for r in voucher.rows}


# --------------------------------------------------------------------------------------------------- examples


def test_simple_payroll_run_becomes_a_balanced_voucher():
    run = run_of(
        line("4000", "3000.00", component="Salaris", cc="PROD"),
        line("4000", "2000.00", component="Salaris", cc="VERK"),
        line("1500", credit="900.00", component="Loonheffing"),
        line("1520", credit="4100.00", component="Nettoloon"),
    )
    voucher = build_voucher(run, accounts_with_cost_centers=CC_ACCOUNTS, company_name="Bakkerij De Gouden Korst B.V.")
    assert voucher.is_balanced and voucher.total_debit == D("5000.00")
    assert by_account(voucher) == {
        (4000, "PROD"): (D("3000.00"), 0), (4000, "VERK"): (D("2000.00"), 0),
        (1500, None): (0, D("900.00")), (1520, None): (0, D("4100.00")),
    }
    assert [r.account_number for r in voucher.rows] == [4000, 4000, 1500, 1520]  # debits first, by account
    assert voucher.voucher_date == date(2026, 3, 31)
    assert voucher.voucher_text == f"Loonjournaal Bakkerij De Gouden Korst B.V. 2026-03 run 1 {voucher.marker}"


def test_visma_json_shape_and_exact_numbers():
    run = run_of(line("4000", "1234.10", component="Salaris", cc="PROD"), line("4200", "0.20", cc="PROD"),
                 line("1520", credit="1234.30", component="Nettoloon"))
    voucher = build_voucher(run, accounts_with_cost_centers={4000}, cost_center_map={"PROD": "1b4e28ba-2fa1-11d2"})
    body = json.loads(json.dumps(voucher.to_visma_json()))
    assert body["VoucherDate"] == "2026-03-31"
    assert body["VoucherType"] == 2
    assert voucher.marker in body["VoucherText"]
    rows = body["Rows"]
    assert [r["AccountNumber"] for r in rows] == [4000, 4200, 1520]
    assert all(type(r["AccountNumber"]) is int for r in rows)
    assert rows[0]["CostCenterItemId1"] == "1b4e28ba-2fa1-11d2"
    assert "CostCenterItemId1" not in rows[1] and "CostCenterItemId1" not in rows[2]  # 4200 not in the set
    for r, row in zip(rows, voucher.rows, strict=True):
        assert D(repr(r["DebitAmount"])) == row.debit and D(repr(r["CreditAmount"])) == row.credit
        assert r["DebitAmount"] >= 0 and r["CreditAmount"] >= 0
    assert rows[2]["CreditAmount"] == 1234.3  # not 1234.3000000000002


def test_json_refuses_amounts_that_are_not_whole_cents():
    rows = (VoucherRow(4000, D("1.005"), D(0), "x"), VoucherRow(1520, D(0), D("1.005"), "x"))
    bad = Voucher(date(2026, 1, 31), "x", rows, "m#")
    with pytest.raises(JournalError) as err:
        bad.to_visma_json()
    assert err.value.code == "amount-out-of-range"


def test_debit_and_credit_on_one_account_are_netted_and_zero_rows_left_out():
    run = run_of(
        line("4000", "1000.00", component="Salaris"), line("4000", credit="100.00", component="Correctie salaris"),
        line("4200", "50.00"), line("4200", credit="50.00"),
        line("1520", credit="900.00"),
    )
    voucher = build_voucher(run)
    assert by_account(voucher) == {(4000, None): (D("900.00"), 0), (1520, None): (0, D("900.00"))}
    assert voucher.rows[0].transaction_text == "Salaris, Correctie salaris"


def test_account_that_nets_to_the_other_side_moves_there():
    run = run_of(line("4000", "100.00"), line("4000", credit="130.00"), line("1520", "30.00"))
    assert by_account(build_voucher(run)) == {(1520, None): (D("30.00"), 0), (4000, None): (0, D("30.00"))}


def test_cost_centres_only_where_allowed_and_merged_elsewhere():
    run = run_of(line("4000", "10", cc="PROD"), line("4000", "20", cc="VERK"), line("4000", "5"),
                 line("1520", credit="35", cc="PROD"))
    no_cc = build_voucher(run)
    assert by_account(no_cc) == {(4000, None): (D("35.00"), 0), (1520, None): (0, D("35.00"))}
    with_cc = build_voucher(run, accounts_with_cost_centers={4000})
    assert by_account(with_cc) == {(4000, None): (D("5.00"), 0), (4000, "PROD"): (D("10.00"), 0),
                                   (4000, "VERK"): (D("20.00"), 0), (1520, None): (0, D("35.00"))}


def test_unmapped_cost_centre_is_refused_naming_each():
    run = run_of(line("4000", "10", cc="PROD"), line("4000", "20", cc="LOG"), line("4100", "1", cc="XYZ"),
                 line("1520", credit="31"))
    with pytest.raises(JournalError) as err:
        build_voucher(run, accounts_with_cost_centers={4000, 4100}, cost_center_map={"PROD": "id-prod"})
    assert err.value.code == "cost-center-not-mapped"
    assert "LOG" in err.value.message and "XYZ" in err.value.message and "PROD" not in err.value.message


def test_ledger_mapping_and_unmapped_accounts():
    run = run_of(line("LOON", "100"), line("4000", "50"), line("VAKGLD", "8"), line("NETTO", credit="158"))
    with pytest.raises(JournalError) as err:
        build_voucher(run)
    assert err.value.code == "account-not-mapped"
    assert all(name in err.value.message for name in ("'LOON'", "'NETTO'", "'VAKGLD'"))
    assert isinstance(err.value, ServiceError) and err.value.entry_id == "account-not-mapped"

    voucher = build_voucher(run, ledger_map={"LOON": 4000, "VAKGLD": 4010, "NETTO": 1520})
    assert by_account(voucher) == {(4000, None): (D("150.00"), 0), (4010, None): (D("8.00"), 0),
                                   (1520, None): (0, D("158.00"))}
    with pytest.raises(JournalError, match="'VAKGLD'"):
        build_voucher(run, ledger_map={"LOON": 4000, "VAKGLD": None, "NETTO": 1520})  # mapped to nothing


def test_numeric_accounts_can_be_remapped():
    run = run_of(line("4000", "100"), line("1520", credit="100"))
    voucher = build_voucher(run, ledger_map={"4000": 4001})
    assert {r.account_number for r in voucher.rows} == {4001, 1520}


def test_unbalanced_run_is_refused_with_the_amounts():
    run = run_of(line("4000", "100.00"), line("1520", credit="99.99"))
    with pytest.raises(JournalError) as err:
        build_voucher(run)
    assert err.value.code == "voucher-unbalanced"
    assert "€100.00" in err.value.message and "€99.99" in err.value.message and "€0.01" in err.value.message


def test_less_than_half_a_cent_off_is_balanced_to_the_cent():
    assert is_balanced_to_the_cent(D("100.004"), D("100"))
    assert not is_balanced_to_the_cent(D("100.005"), D("100"))
    voucher = build_voucher(run_of(line("4000", "100.004"), line("1520", credit="100")))
    assert voucher.total_debit == voucher.total_credit == D("100.00")


def test_empty_run_is_refused():
    with pytest.raises(JournalError) as err:
        build_voucher(run_of())
    assert err.value.code == "voucher-empty"
    with pytest.raises(JournalError) as err:
        build_voucher(run_of(line("4000", "0.001"), line("1520", credit="0.001")))
    assert err.value.code == "voucher-empty"


def test_rounding_difference_goes_to_the_largest_row_of_that_side_and_is_said():
    # Two debit rows of 10.005 each round to 10.01 + 10.01 = 20.02, but the exact total is 20.01.
    run = run_of(line("4000", "10.005", component="Salaris"), line("4100", "10.005", component="Zvw"),
                 line("1520", credit="20.01", component="Nettoloon"))
    voucher = build_voucher(run)
    rows = by_account(voucher)
    assert rows[(4000, None)] == (D("10.00"), 0)  # equal rows: the first (lowest account) takes it
    assert rows[(4100, None)] == (D("10.01"), 0)
    assert voucher.rows[0].transaction_text == "Salaris (afronding -0,01)"
    assert voucher.total_debit == voucher.total_credit == D("20.01")


def test_many_tiny_rows_fall_back_to_largest_remainder():
    lines = [line(str(5000 + i), "0.005") for i in range(100)] + [line("1520", credit="0.50")]
    voucher = build_voucher(run_of(*lines))
    assert voucher.is_balanced and voucher.total_debit == D("0.50")
    assert all(r.debit in (D(0), D("0.01")) for r in voucher.rows if r.account_number != 1520)


def test_voucher_date_is_the_last_day_of_the_period():
    def date_of(period: int, year: int = 2026) -> date:
        return build_voucher(run_of(line("4000", "1"), line("1520", credit="1"), period=period, year=year)).voucher_date

    assert date_of(2) == date(2026, 2, 28)
    assert date_of(2, 2028) == date(2028, 2, 29)
    assert date_of(12) == date(2026, 12, 31)


def test_transaction_text_is_cut_cleanly_at_60():
    names = ["Werkgeversheffing Zorgverzekeringswet", "Premie Werkloosheidswet (AWf)", "Premie WIA", "Premie Whk"]
    lines = [line("4100", str(100 - i), component=n) for i, n in enumerate(names)] + [line("1500", credit="394")]
    text = build_voucher(run_of(*lines)).rows[0].transaction_text
    assert len(text) <= MAX_TRANSACTION_TEXT
    assert text == "Werkgeversheffing Zorgverzekeringswet e.a."
    long_one = build_voucher(run_of(line("4000", "1", component="X" * 80), line("1520", credit="1")))
    assert len(long_one.rows[0].transaction_text) == MAX_TRANSACTION_TEXT
    assert long_one.rows[0].transaction_text.endswith("…")


def test_voucher_text_keeps_the_marker_within_1000():
    voucher = build_voucher(run_of(line("4000", "1"), line("1520", credit="1")), company_name="B" * 2000)
    assert len(voucher.voucher_text) <= MAX_VOUCHER_TEXT
    assert voucher.voucher_text.endswith(f" 2026-03 run 1 {voucher.marker}")


# --------------------------------------------------------------------------------------------------- marker

MARKER = re.compile(r"ELX-[A-Z0-9-]+-\d{6}-\d+(-G\d+)?-[0-9a-f]{6}#")


def test_marker_format_and_determinism():
    run = run_of(line("4000", "1"), line("1520", credit="1"))
    marker = export_marker(run)
    assert MARKER.fullmatch(marker) and marker.startswith("ELX-BAKKERIJ-DGK-202603-1-")
    assert export_marker(run) == marker
    assert export_marker(run, generation=1) != marker and "-G1-" in export_marker(run, generation=1)
    reprocessed = PayrollRunData(run.company_code, 2026, 3, 1, datetime(2026, 3, 26, tzinfo=UTC), run.lines)
    assert export_marker(reprocessed) != marker
    weird = PayrollRunData("bakkerij 'de korst'/" + "x" * 80, 2026, 3, 123, WHEN, ())
    assert len(export_marker(weird)) <= 60 and MARKER.fullmatch(export_marker(weird))


def test_markers_are_unique_and_never_inside_one_another():
    runs = [r for c in DEMO_COMPANIES for r in demo_runs(c.code)]
    runs += [r for _, rs in generate_bulk(60, 24) for r in rs]
    runs += [PayrollRunData(c, 2026, p, n, WHEN, ()) for c in ("A", "AA", "A-1", "ELX-A") for p in (1, 11)
             for n in (1, 11, 111)]
    markers = [export_marker(r) for r in runs] + [export_marker(r, generation=2) for r in runs[:200]]
    assert len(set(markers)) == len(markers)
    haystack = "\n".join(markers)
    for m in markers:  # a `contains` search for one marker finds exactly its own voucher
        assert haystack.count(m) == 1


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.text("AB-1 é", min_size=1, max_size=12), st.integers(1, 12), st.integers(1, 30)),
                min_size=2, max_size=8, unique=True))
def test_markers_of_distinct_runs_differ(keys):
    markers = [export_marker(PayrollRunData(c, 2026, p, n, WHEN, ())) for c, p, n in keys]
    for i, a in enumerate(markers):
        assert len(a) <= 60 and a.endswith("#")
        assert all(a not in b for j, b in enumerate(markers) if j != i)


# --------------------------------------------------------------------------------------------------- properties

ACCOUNTS = ["4000", "4010", "4100", "4150", "4200", "1500", "1510", "1520", "1530"]
amounts = st.one_of(
    st.integers(0, 10**9).map(lambda n: D(n).scaleb(-2)),  # whole cents, up to 10 million
    st.integers(0, 10**9).map(lambda n: D(n).scaleb(-4)),  # percentage splits: four decimals
)
entries = st.lists(
    st.tuples(st.sampled_from(ACCOUNTS), st.sampled_from([None, "PROD", "VERK", "ADM"]), amounts, st.booleans(),
              st.sampled_from(["Salaris", "Zvw", "Pensioen", "Netto", "Loonheffing"])),
    min_size=1, max_size=40,
)


def balanced_lines(data) -> list[JournalLine]:
    lines = [JournalLine(a, comp, "", amt if is_debit else D(0), D(0) if is_debit else amt, cost_center=cc)
             for a, cc, amt, is_debit, comp in data]
    diff = sum((ln.debit - ln.credit for ln in lines), D(0))
    lines.append(JournalLine("1520", "Netto", "", -diff if diff < 0 else D(0), diff if diff > 0 else D(0)))
    return lines


def exact_nets(lines: list[JournalLine]) -> dict[tuple[int, str | None], Decimal]:
    """The reference: exact net per (account, cost centre where allowed)."""
    nets: dict[tuple[int, str | None], Decimal] = {}
    for ln in lines:
        account = int(ln.ledger_account)
        key = (account, ln.cost_center if account in CC_ACCOUNTS else None)
        nets[key] = nets.get(key, D(0)) + ln.debit - ln.credit
    return nets


def _fallback_side(nets: dict[tuple[int, str | None], Decimal]) -> bool:
    """True when a side's rounding difference cannot go on its largest row (it would reach zero or below), so the
    voucher spreads it by largest remainder instead, without a "(afronding …)" note."""
    for sign in (1, -1):
        exact = [abs(v) for v in nets.values() if v * sign > 0]
        if not exact:
            continue
        rounded = [half_up(v) for v in exact]
        diff = half_up(sum(exact, D(0))) - sum(rounded, D(0))
        if diff and max(rounded) + diff <= 0:
            return True
    return False


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(entries)
# Two half-cent rows on one side: their rounded sum (0.02) is a cent over the rounded total (0.01), a cent the
# largest row (0.01) cannot give up, so the fallback spreads it and no row says "(afronding".
@example(data=[("4000", None, D("0.0050"), True, "Salaris"), ("4000", "PROD", D("0.0050"), True, "Salaris")])
def test_property_balanced_in_balanced_out_totals_kept_rounding_once(data):
    lines = balanced_lines(data)
    nets = exact_nets(lines)
    if not any(half_up(abs(v)) for v in nets.values()) and sum(v for v in nets.values() if v > 0) < D("0.005"):
        with pytest.raises(JournalError):
            build_voucher(run_of(*lines), accounts_with_cost_centers=CC_ACCOUNTS)
        return
    voucher = build_voucher(run_of(*lines), accounts_with_cost_centers=CC_ACCOUNTS)

    # Balanced, whole cents, one side per row, no zero rows.
    assert voucher.is_balanced
    for r in voucher.rows:
        assert r.debit == r.debit.quantize(CENT) and r.credit == r.credit.quantize(CENT)
        assert (r.debit > 0) != (r.credit > 0)
        assert len(r.transaction_text) <= MAX_TRANSACTION_TEXT
    # Totals kept to the cent: the voucher total is the exact netted debit total, rounded once.
    assert voucher.total_debit == half_up(sum((v for v in nets.values() if v > 0), D(0)))
    # Rounding once: every row is its exact net rounded half-up, except at most one row per side that took the
    # rounding difference (and says so); with whole-cent input nothing is adjusted at all.
    got = by_account(voucher)
    adjusted = {"debit": 0, "credit": 0}
    for key, net in nets.items():
        debit, credit = got.get(key, (D(0), D(0)))
        signed = debit - credit
        if signed != half_up(net):
            adjusted["debit" if net > 0 else "credit"] += 1
            assert abs(signed - net) <= D("0.005") * (len(nets) + 1)
    whole_cents = all(ln.debit == ln.debit.quantize(CENT) and ln.credit == ln.credit.quantize(CENT) for ln in lines)
    if whole_cents:
        assert adjusted == {"debit": 0, "credit": 0}
    elif any(v > 1 for v in adjusted.values()) or _fallback_side(nets):  # the largest-remainder fallback
        assert all(abs((got.get(k, (0, 0))[0] - got.get(k, (0, 0))[1]) - n) < CENT for k, n in nets.items())
    else:
        annotated = [r for r in voucher.rows if "(afronding" in r.transaction_text]
        assert len(annotated) == sum(adjusted.values())
    # The JSON carries exactly these amounts.
    for row, body in zip(voucher.rows, voucher.to_visma_json()["Rows"], strict=True):
        assert D(repr(body["DebitAmount"])) == row.debit and D(repr(body["CreditAmount"])) == row.credit


@settings(max_examples=100, deadline=None)
@given(entries, st.randoms(use_true_random=False))
def test_property_line_order_does_not_matter(data, rnd):
    lines = balanced_lines(data)
    shuffled = lines[:]
    rnd.shuffle(shuffled)
    try:
        first = build_voucher(run_of(*lines), accounts_with_cost_centers=CC_ACCOUNTS)
    except JournalError:
        return
    assert build_voucher(run_of(*shuffled), accounts_with_cost_centers=CC_ACCOUNTS) == first


@settings(max_examples=150, deadline=None)
@given(entries, st.integers(1, 10**6).map(lambda n: D(n).scaleb(-2)), st.booleans())
def test_property_unbalanced_in_is_refused(data, off_by, on_debit):
    lines = balanced_lines(data)
    lines.append(JournalLine("4000" if on_debit else "1500", "Fout", "", off_by if on_debit else D(0),
                             D(0) if on_debit else off_by))
    with pytest.raises(JournalError) as err:
        build_voucher(run_of(*lines), accounts_with_cost_centers=CC_ACCOUNTS)
    assert err.value.code == "voucher-unbalanced"


def test_demo_runs_all_build():
    rng = random.Random(1)
    for company in DEMO_COMPANIES:
        for run in rng.sample(demo_runs(company.code), 3):
            voucher = build_voucher(run, accounts_with_cost_centers=CC_ACCOUNTS | {4020}, company_name=company.name)
            assert voucher.is_balanced and voucher.total_debit > 0
            assert {r.account_number for r in voucher.rows} <= {1500, 1510, 1520, 1530, 4000, 4010, 4020, 4100,
                                                                4150, 4200}

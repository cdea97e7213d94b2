"""Fuzzing the journal import (bad input and bad days): whatever bytes or rows arrive, the parser answers with runs
or with errors for people — never an exception, never both, never a run that does not balance."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.money import is_balanced_to_the_cent
from core.payroll.file_import import ImportResult, parse_journal_file
from core.payroll.tables import COLUMNS
from core.payroll.types import journal_difference

CELL = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["", "1", "2026", "4000", "1520", "100,00", "100.00", "1.234,56", "-5", "=1+1", "1e9", "NaN",
                     "  ", "€ 12,50", "0,00"]),
)
ROW = st.lists(CELL, min_size=0, max_size=len(COLUMNS) + 2)


def _checked(result: ImportResult) -> None:
    assert bool(result.runs) != bool(result.errors)  # runs, or errors, never both or neither
    for error in result.errors:
        assert error.message and isinstance(error.row, int)
    for run in result.runs:
        assert is_balanced_to_the_cent(*journal_difference(run.lines))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2_000), st.sampled_from(["journaal.csv", "journaal.xlsx", "journaal.txt"]))
def test_any_bytes_get_an_answer_for_people(data, name):
    _checked(parse_journal_file(name, data, company_code="FUZZ"))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(ROW, max_size=12), st.sampled_from([";", ",", "\t"]))
def test_any_table_under_the_right_header_gets_runs_or_errors(rows, delimiter):
    lines = [delimiter.join(COLUMNS)] + [delimiter.join(cell.replace(delimiter, " ").replace("\n", " ")
                                                        .replace("\r", " ").replace('"', "") for cell in row)
                                         for row in rows]
    _checked(parse_journal_file("journaal.csv", "\r\n".join(lines).encode(), company_code="FUZZ"))

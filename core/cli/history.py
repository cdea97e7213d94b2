"""The export log command, added to the root CLI by `register(app)`.

``history [--csv FILE] [--xlsx FILE] [--company CODE] [--period YYYY-MM] [--status STATUS] [--search TEXT]
[--json]``: one row per run with its company, period, voucher number and date, total debit, status, when it was sent,
by whom and how many attempts it took.

Contract for scripts: ``history --csv FILE [--company CODE]`` writes the export log as CSV (UTF-8 with a BOM, the
same bytes as the dashboard's download) with at least the columns ``company``, ``company_name``, ``period``, ``run``,
``status``, ``voucher_number``, ``voucher_date``, ``total_debit``, ``sent_at``, ``sent_by`` and ``attempts``; text a
spreadsheet could run as a formula starts with ``'``. ``--json`` prints the rows as a list of objects. An unknown
company code is exit code 1.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer

from core import services
from core.cli.common import JsonOption, command, emit, fail, get_runtime


def _human(rows: list[services.ExportLogRow]) -> str:
    if not rows:
        return "No runs."
    lines = [f"{'COMPANY':<22} {'PERIOD':<8} {'RUN':>3}  {'STATUS':<11} {'VOUCHER':<10} {'DATE':<10} "
             f"{'TOTAL DEBIT':>14}  {'SENT BY':<24} ATTEMPTS"]
    for r in rows:
        lines.append(f"{r.company:<22} {r.period:<8} {r.run:>3}  {r.status:<11} {r.voucher_number or '-':<10} "
                     f"{r.voucher_date.isoformat():<10} {r.total_debit:>14}  {r.sent_by or '-':<24} {r.attempts}")
    lines.append(services.count(len(rows), "run"))
    return "\n".join(lines)


def _write(path: Path, make: Callable[[list[services.ExportLogRow]], bytes], rows, as_json: bool) -> None:
    try:
        path.write_bytes(make(rows))
    except OSError as exc:
        fail(f"Could not write {path}: {exc.strerror or exc}. Choose a folder that exists and that you may write to.",
             as_json=as_json, code="file_unwritable")


def _history(
    csv: Annotated[Path | None, typer.Option("--csv", dir_okay=False, help="Write the export log as CSV to FILE.")]
    = None,
    xlsx: Annotated[Path | None, typer.Option("--xlsx", dir_okay=False, help="Write it as an Excel workbook too.")]
    = None,
    company: Annotated[str | None, typer.Option("--company", help="Only this payroll company (its code).")] = None,
    period: Annotated[str | None, typer.Option("--period", help="Only this period, YYYY-MM.")] = None,
    status: Annotated[str | None, typer.Option(
        "--status", help="Only this export status: not_sent, sending, unconfirmed, sent or failed.")] = None,
    search: Annotated[str | None, typer.Option(
        "--search", help="Only runs whose company, voucher number or run contain these words.")] = None,
    as_json: JsonOption = False,
) -> None:
    """The export log: one row per run, to reconcile the books with Visma (voucher number, date, amount, sender)."""
    rows = services.export_log(get_runtime(), company_code=company, period=period, status=status, search=search)
    written = []
    for path, make in ((csv, services.export_log_csv), (xlsx, services.export_log_xlsx)):
        if path is not None:
            _write(path, make, rows, as_json)
            written.append(str(path))
    if written and not as_json:
        typer.echo(f"Wrote {services.count(len(rows), 'run')} to {' and '.join(written)}.")
        return
    emit(rows, as_json, _human)


def register(app: typer.Typer) -> None:
    """Add ``history`` to the root CLI."""
    app.command("history")(command(_history))

"""Payroll and export commands, added to the root CLI by `register(app)`.

``companies list``, ``map COMPANY ACCOUNT``, ``runs list [--company] [--status]``, ``preview RUN``,
``preflight RUN|--company CODE``, ``export RUN|--pending [--company …] [--retry-failed]``,
``resend RUN --reason TEXT``, ``worker [--once] [--interval]``, ``import FILE --company CODE``; all with ``--json``.

Contracts for scripts: ``runs list --json`` prints a list of objects with at least ``id``, ``company``, ``year``,
``period``, ``status`` and ``voucher_number``; ``export … --json`` prints ``{"sent", "failed", "skipped", "results"}``.
Exit code 1 when an export or import did not fully succeed (failed or unknown runs, rejected file), 0 otherwise.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated

import typer

from core import services
from core.cli.common import JsonOption, actor, command, emit, fail, get_runtime, new_app

companies_app = new_app("Payroll companies and their mappings.")
runs_app = new_app("Processed payroll runs and their export status.")


def _companies_human(rows: list[services.CompanyView]) -> str:
    if not rows:
        return "No payroll companies yet. Import runs (`import FILE --company CODE`) or run `demo seed`."
    out = []
    for r in rows:
        target = f"→ {r.visma_company_name or '?'} (account {r.account_name})" if r.mapped else "not mapped"
        auto = ", auto-send on" if r.auto_send else ""
        out.append(f"{r.code:<24} {r.name:<40} {target}{auto}\n"
                   f"{'':<24} runs: {r.runs_total} — not sent {r.runs_not_sent}, unconfirmed {r.runs_unconfirmed}, "
                   f"sent {r.runs_sent}, failed {r.runs_failed}")
    return "\n".join(out)


@companies_app.command("list")
@command
def companies_list(as_json: JsonOption = False) -> None:
    """List payroll companies with their Visma mapping and run counts."""
    emit(services.list_payroll_companies(get_runtime()), as_json, _companies_human)


def _runs_human(rows: list[services.RunView]) -> str:
    if not rows:
        return "No runs."
    lines = [f"{'ID':>6}  {'COMPANY':<22} {'RUN':<14} {'STATUS':<9} {'VOUCHER':<10} NOTE"]
    for r in rows:
        note = f"[{r.error_entry_id}]" if r.error_entry_id else ""
        lines.append(f"{r.id:>6}  {r.company_code:<22} {r.label:<14} {r.status:<9} "
                     f"{r.voucher_number or '-':<10} {note}")
    return "\n".join(lines)


@runs_app.command("list")
@command
def runs_list(
    company: Annotated[str | None, typer.Option("--company", help="Payroll company code.")] = None,
    status: Annotated[str | None, typer.Option("--status", help="not_sent, sending, sent or failed.")] = None,
    as_json: JsonOption = False,
) -> None:
    """List runs with their export status and Visma voucher number."""
    emit(services.list_runs(get_runtime(), company_code=company, status=status), as_json, _runs_human)


def _map(
    company: Annotated[str, typer.Argument(help="Payroll company code.")],
    account: Annotated[str, typer.Argument(help="Name of an authorized Visma account.")],
    auto: Annotated[bool | None, typer.Option("--auto/--no-auto", help="Automatic sending for this mapping.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Map a payroll company to the Visma company of an authorized account."""
    result = services.map_company(get_runtime(), company, account, actor=actor(), auto_send=auto)

    def human(r: services.MappingView) -> str:
        lines = [f"{r.company} → {r.visma_company_name} (account {r.account})"
                 + (", automatic sending on" if r.auto_send else "")]
        lines += [f"warning: {w}" for w in r.warnings]
        return "\n".join(lines)

    emit(result, as_json, human)


def _preview(
    run: Annotated[int, typer.Argument(help="Run id (see `runs list`).", min=1, max=services.MAX_ID)],
    as_json: JsonOption = False,
) -> None:
    """Show the voucher a run becomes (nothing is sent)."""

    def human(p: services.PreviewView) -> str:
        lines = [f"{p.voucher_date}  {p.voucher_text}"]
        for r in p.rows:
            cc = f" [{r.cost_center}]" if r.cost_center else ""
            lines.append(f"  {r.account_number:>6} {(r.account_name or ''):<28} {r.debit:>12} "
                         f"{r.credit:>12}  {r.transaction_text}{cc}")
        lines.append(f"  {'total':>35} {p.total_debit:>12} {p.total_credit:>12}  "
                     + ("balanced" if p.balanced else "NOT BALANCED"))
        return "\n".join(lines)

    emit(services.preview_run(get_runtime(), run), as_json, human)


def _preflight(
    run: Annotated[int | None, typer.Argument(help="Run id; or use --company.", min=1, max=services.MAX_ID)] = None,
    company: Annotated[str | None, typer.Option("--company", help="Check a whole company.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Dry-run a run (or a company's waiting runs) against live Visma data; nothing is written."""
    if run is None and not company:
        fail("Name a run id or --company CODE.", as_json=as_json, code="usage")
    rt = get_runtime()
    findings = services.preflight_run(rt, run) if run is not None else services.preflight_company(rt, company)

    def human(rows: list[dict]) -> str:
        marks = {"ok": "ok  ", "warning": "warn", "error": "FAIL"}
        return "\n".join(f"{marks.get(f['severity'], f['severity'])} {f['message']}"
                         + (f"  [{f['entry_id']}]" if f["entry_id"] else "") for f in rows)

    emit(findings, as_json, human)
    if any(f["severity"] == "error" for f in findings):
        raise typer.Exit(1)


def _summary_human(summary: services.ExportSummaryView) -> str:
    lines = []
    for r in summary.results:
        voucher = f" voucher {r.voucher_number}" if r.voucher_number else ""
        entry = f" [{r.entry_id}]" if r.entry_id else ""
        lines.append(f"{r.run_id or '-':>6} {r.company or '':<22} {r.label or '':<14} "
                     f"{r.outcome}{voucher}{entry}" + (f" — {r.message}" if r.outcome != "sent" else ""))
    lines.append(f"sent {summary.sent}, failed {summary.failed}, unknown {summary.unknown}, skipped {summary.skipped}")
    return "\n".join(lines)


def _export(
    run: Annotated[int | None, typer.Argument(help="Run id to send; or use --pending.", min=1,
                                              max=services.MAX_ID)] = None,
    pending: Annotated[bool, typer.Option("--pending", help="Send every pending run.")] = False,
    company: Annotated[list[str] | None, typer.Option("--company", help="Only these companies (repeatable).")] = None,
    retry_failed: Annotated[bool, typer.Option("--retry-failed", help="Also send runs Visma refused before.")] = False,
    cause: Annotated[list[str] | None, typer.Option(
        "--cause", help="Only the failed runs of this troubleshooting entry (repeatable; 'unknown' for failures no "
                        "entry explains), after a fresh preflight.")] = None,
    preflight: Annotated[bool, typer.Option(
        "--preflight", help="Check failed runs against live Visma first; skip those whose cause is still there.")
    ] = False,
    concurrency: Annotated[int, typer.Option("--concurrency", min=1, max=32)] = 8,
    as_json: JsonOption = False,
) -> None:
    """Send one run, or every pending run, to Visma (exactly once)."""
    if (run is None) == (not pending):
        fail("Name one run id, or --pending (not both).", as_json=as_json, code="usage")
    if cause and not retry_failed:
        fail("--cause retries failed runs: use it with --pending --retry-failed.", as_json=as_json, code="usage")
    rt = get_runtime()
    if run is not None:
        summary = services.summarize([services.send_run(rt, run, actor=actor())])
    else:
        def progress(done: int, total: int, result: services.SendResultView) -> None:
            if not as_json:
                typer.echo(f"[{done}/{total}] run {result.run_id} {result.outcome}", err=True)

        summary = services.send_pending(rt, company_codes=company or None, actor=actor(), progress=progress,
                                        include_failed=retry_failed, causes=cause or None,
                                        preflight=preflight or bool(cause),
                                        options=services.ExportOptions(concurrency=concurrency))
    emit(summary, as_json, _summary_human)
    if summary.failed or summary.unknown:
        raise typer.Exit(1)


def _resend(
    run: Annotated[int, typer.Argument(help="Run id of a sent run.", min=1, max=services.MAX_ID)],
    reason: Annotated[str, typer.Option("--reason", help="Why it is posted again (goes into the audit log).")],
    as_json: JsonOption = False,
) -> None:
    """Post a sent run again on purpose (new marker; the reason is audited)."""
    result = services.resend_run(get_runtime(), run, reason=reason, actor=actor())
    summary = services.summarize([result])
    emit(summary, as_json, _summary_human)
    if summary.failed or summary.unknown:
        raise typer.Exit(1)


def _worker(
    once: Annotated[bool, typer.Option("--once", help="One round, then exit.")] = False,
    interval: Annotated[float, typer.Option("--interval", help="Seconds between rounds (1 to 86400).", min=1,
                                            max=86_400)] = 60.0,
    as_json: JsonOption = False,
) -> None:
    """Send the pending runs of mappings with automatic sending on; loop until SIGINT/SIGTERM."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    totals = services.run_worker(get_runtime(), actor=actor(), once=once, interval=interval,
                        echo=None if as_json else typer.echo)
    emit(totals, as_json, lambda t: f"worker stopped after {services.count(t['rounds'], 'round')}: sent {t['sent']}, "
                                    f"failed {t['failed']}, unknown {t['unknown']}")


def _import(
    file: Annotated[Path, typer.Argument(help="Payroll journal report, CSV or XLSX.", exists=True, dir_okay=False)],
    company: Annotated[str, typer.Option("--company", help="Payroll company code the file belongs to.")],
    name: Annotated[str | None, typer.Option("--name", help="Company name when it is new.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Import processed runs from a file; a file with any bad row imports nothing."""
    result = services.import_journal_file(get_runtime(), company, file.name, file.read_bytes(), actor=actor(),
                                          company_name=name)

    def human(r: services.ImportView) -> str:
        if r.errors:
            lines = [f"Nothing was imported from {file.name}:"]
            lines += [f"  row {e.row}" + (f", {e.column}" if e.column else "") + f": {e.message}"
                      if e.row else f"  {e.message}" for e in r.errors]
            return "\n".join(lines)
        return "\n".join([f"Imported {services.count(len(r.imported), 'run')} for {r.company}: {', '.join(r.imported)}",
                          *(f"  note: {note}" for note in r.notes)])

    emit(result, as_json, human)
    if result.errors:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add the payroll and export commands to the root CLI."""
    app.add_typer(companies_app, name="companies")
    app.add_typer(runs_app, name="runs")
    app.command("map")(command(_map))
    app.command("preview")(command(_preview))
    app.command("preflight")(command(_preflight))
    app.command("export")(command(_export))
    app.command("resend")(command(_resend))
    app.command("worker")(command(_worker))
    app.command("import")(command(_import))

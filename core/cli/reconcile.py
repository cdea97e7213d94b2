"""The reconcile command, added to the root CLI by `register(app)`.

``reconcile [RUN | --all] [--company CODE] [--json]``: checks ``unconfirmed`` runs (and runs left ``sending`` by a
process that died) in Visma by their marker; never posts. Contract for scripts: ``--json`` prints an object with the
counts ``confirmed_sent``, ``confirmed_not_sent``, ``still_unknown`` and ``results`` (one object per run checked).
Exit code 1 while a run's outcome is still unknown.
"""

from __future__ import annotations

from typing import Annotated

import typer

from core import services
from core.cli.common import JsonOption, command, emit, fail, get_runtime
from core.cli.common import actor as cli_actor


def _human(summary: services.ReconcileSummaryView) -> str:
    lines = [f"{r.run_id or '-':>6} {r.company or '':<22} {r.label or '':<14} {r.outcome}"
             + (f" voucher {r.voucher_number}" if r.voucher_number else "") + f" — {r.message}"
             for r in summary.results]
    lines.append(f"confirmed sent {summary.confirmed_sent}, confirmed not sent {summary.confirmed_not_sent}, "
                 f"still unknown {summary.still_unknown}")
    return "\n".join(lines)


def _reconcile(
    run: Annotated[int | None, typer.Argument(help="Run id of an unconfirmed run; or use --all.", min=1,
                                              max=services.MAX_ID)] = None,
    every: Annotated[bool, typer.Option("--all", help="Every unconfirmed run.")] = False,
    company: Annotated[list[str] | None, typer.Option("--company", help="Only these companies (repeatable).")] = None,
    as_json: JsonOption = False,
) -> None:
    """Check unconfirmed runs in Visma by their marker: booked → sent, not booked → failed (send again)."""
    if (run is None) == (not every):
        fail("Name one run id, or --all (not both).", as_json=as_json, code="usage")
    summary = services.reconcile_runs(get_runtime(), None if run is None else [run], company_codes=company or None,
                                      actor=cli_actor())
    emit(summary, as_json, _human)
    if summary.still_unknown:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command("reconcile")(command(_reconcile))

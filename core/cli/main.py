"""The command line: ``python -m core accounts|demo|errors|…``; every command has ``--json``.

Exit codes: 0 ok, 1 a business failure (the message says what to do), 2 bad usage. No command prints a traceback or a
token: commands are wrapped by ``core.cli.common.command`` and ``main`` catches whatever escapes.
"""

from __future__ import annotations

import sys

import typer

from core.cli.accounts import accounts_app
from core.cli.common import close_runtime, handle_exception, new_app
from core.cli.demo import demo_app
from core.cli.errors import errors_app
from core.cli.history import register as register_history
from core.cli.payroll import register as register_payroll
from core.cli.reconcile import register as register_reconcile

app = new_app("eAccounting Link: Visma accounts, payroll companies, journal exports and troubleshooting.")
app.add_typer(accounts_app, name="accounts")
app.add_typer(demo_app, name="demo")
app.add_typer(errors_app, name="errors")
register_payroll(app)  # companies, map, runs, preview, preflight, export, resend, worker, import
register_history(app)  # history
register_reconcile(app)  # reconcile


def main(argv: list[str] | None = None) -> None:
    """Run the CLI; whatever escapes a command becomes one line and exit code 1."""
    as_json = "--json" in (argv if argv is not None else sys.argv[1:])
    try:
        app(args=argv, prog_name="python -m core")
    except SystemExit:
        raise
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except Exception as exc:
        try:
            handle_exception(exc, as_json)
        except typer.Exit as handled:
            sys.exit(handled.exit_code)
    finally:
        close_runtime()

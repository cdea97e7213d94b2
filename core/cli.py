"""The command line: ``python -m core accounts|demo|errors|…``; every command has ``--json``.

Exit codes: 0 ok, 1 a business failure (the message says what to do), 2 bad usage. No command prints a traceback or a
token: commands are wrapped by ``core.cli_common.command`` and ``main`` catches whatever escapes.
"""

from __future__ import annotations

import sys

import typer

from core.cli_accounts import accounts_app
from core.cli_common import close_runtime, handle_exception, new_app
from core.cli_demo import demo_app

app = new_app("eAccounting Link: Visma accounts, payroll companies, journal exports and troubleshooting.")
app.add_typer(accounts_app, name="accounts")
app.add_typer(demo_app, name="demo")

try:  # a colleague's module; the CLI works without it
    from core.cli_errors import errors_app
except ModuleNotFoundError as missing:  # pragma: no cover
    if missing.name != "core.cli_errors":
        raise
    errors_app = None
if errors_app is not None:
    errors_app.pretty_exceptions_enable = False
    app.add_typer(errors_app, name="errors")

try:  # the payroll commands (companies, map, runs, preview, preflight, export, resend, worker, import)
    from core.cli_payroll import register as _register_payroll
except ModuleNotFoundError as missing:  # pragma: no cover
    if missing.name != "core.cli_payroll":
        raise
    _register_payroll = None
if _register_payroll is not None:
    _register_payroll(app)


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

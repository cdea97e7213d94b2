"""What every CLI command shares: ``--json`` output, exit codes, one runtime per command, and no tracebacks.

Exit codes (scripts rely on them): 0 ok, 1 a business failure (the message on stderr says what to do), 2 bad usage
(typer's own). Nothing a command prints ever contains a token; an unexpected exception is logged by type only to
``data_dir/cli.log`` (its message could quote a secret) and reported in one line.
"""

from __future__ import annotations

import contextlib
import functools
import json
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

import typer

from core import services
from core.services import ConfigurationError, ServiceError

JsonOption = Annotated[bool, typer.Option("--json", help="Print the result as JSON (for scripts).")]

_runtime = None
_injected = False


def get_runtime():
    """The runtime of this command: built once (settings, migration, demo sandbox) and closed at exit."""
    global _runtime
    if _runtime is None:
        _runtime = services.build_runtime()
    return _runtime


@contextlib.contextmanager
def use_runtime(rt) -> Iterator[None]:
    """Run commands on a runtime built elsewhere (tests, embedding); it is not closed here."""
    global _runtime, _injected
    previous, was_injected = _runtime, _injected
    _runtime, _injected = rt, True
    try:
        yield
    finally:
        _runtime, _injected = previous, was_injected


def close_runtime() -> None:
    global _runtime
    if _runtime is not None and not _injected:
        with contextlib.suppress(Exception):
            _runtime.close()
        _runtime = None


def actor() -> str:
    return services.default_actor()


def to_jsonable(value: Any) -> Any:
    """Dates as ISO 8601 (UTC, ``Z``), Decimals as strings, dataclasses and sets as plain JSON."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [to_jsonable(v) for v in value]
    if hasattr(value, "__dataclass_fields__"):
        return to_jsonable({k: getattr(value, k) for k in value.__dataclass_fields__})
    if isinstance(value, Path):
        return str(value)
    return value


def emit(data: Any, as_json: bool, human: Callable[[Any], str] | str | None = None) -> None:
    """Print a result: JSON for scripts, else the human rendering."""
    if as_json:
        typer.echo(json.dumps(to_jsonable(data), ensure_ascii=False, indent=2))
    elif human is not None:
        typer.echo(human(data) if callable(human) else human)


def fail(message: str, *, as_json: bool = False, code: str = "error", entry_id: str | None = None) -> None:
    """A business failure: the message on stderr (and as JSON on stdout with ``--json``), exit code 1."""
    if as_json:
        typer.echo(json.dumps({"error": message, "code": code, "entry_id": entry_id}, ensure_ascii=False))
    typer.echo(f"Error: {message}", err=True)
    if entry_id:
        typer.echo(f"See troubleshooting entry '{entry_id}' (python -m core errors show {entry_id}).", err=True)
    raise typer.Exit(1)


def _log_unexpected(exc: BaseException) -> Path | None:
    """The type and place of an unexpected exception, without its message (it could quote a secret)."""
    try:
        data_dir = _runtime.settings.data_dir if _runtime is not None else services.load_settings().data_dir
    except Exception:
        data_dir = Path("data").resolve()
    try:
        services.private_folder(data_dir)
        path = data_dir / "cli.log"
        tb = exc.__traceback__
        where = []
        while tb is not None:
            where.append(f"{Path(tb.tb_frame.f_code.co_filename).name}:{tb.tb_lineno}")
            tb = tb.tb_next
        stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        with services.open_private(path) as log:
            log.write(f"{stamp} unexpected {type(exc).__name__} in {' > '.join(where[-8:])} "
                      f"(command: {' '.join(w for w in sys.argv[1:3] if '=' not in w and '://' not in w)[:80]})\n")
        return path
    except OSError:
        return None


def _database_url():
    try:
        if _runtime is not None:
            return _runtime.engine.url
        return services.load_settings().database_url
    except Exception:
        return "DATABASE_URL"


def handle_exception(exc: BaseException, as_json: bool = False) -> None:
    """Turn any exception into exit code 1 and one line; re-raise typer's own exits."""
    if isinstance(exc, typer.Exit | typer.Abort | SystemExit):
        raise exc
    if isinstance(exc, ServiceError):
        fail(exc.message, as_json=as_json, code=exc.code, entry_id=exc.entry_id)
    if isinstance(exc, ConfigurationError):
        fail(str(exc), as_json=as_json, code="configuration")
    if isinstance(exc, services.SandboxStartError):
        fail(str(exc), as_json=as_json, code="sandbox")
    if services.is_database_failure(exc):
        fail(services.describe_database_error(exc, _database_url()), as_json=as_json, code="database_unavailable")
    log = _log_unexpected(exc)
    where = f" Details (without secrets) are in {log}." if log else ""
    fail(f"An unexpected {type(exc).__name__} stopped the command.{where}", as_json=as_json, code="unexpected")


def command(fn: Callable) -> Callable:
    """Wrap a command: ServiceError and configuration errors → exit 1 with the message; never a traceback."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except (typer.Exit, typer.Abort):
            raise
        except Exception as exc:  # every failure ends as one line and exit 1
            handle_exception(exc, bool(kwargs.get("as_json")))
        finally:
            close_runtime()

    return wrapper


def new_app(help_text: str) -> typer.Typer:
    """A typer app that never shows locals or a pretty traceback (they could show a token)."""
    return typer.Typer(
        help=help_text,
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
        pretty_exceptions_show_locals=False,
    )

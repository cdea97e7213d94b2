"""``accounts`` commands: list, add, authorize, complete, refresh, disconnect, delete Visma accounts.

``accounts list --json`` is a contract for scripts: a JSON list of objects with at least ``name``, ``status``,
``visma_company`` and ``token_expires_at`` (ISO 8601 UTC or null).
"""

from __future__ import annotations

from typing import Annotated

import typer

from core import services
from core.cli.common import JsonOption, actor, command, emit, get_runtime, new_app, to_jsonable

accounts_app = new_app("Visma accounts: one authorization of one Visma user for one Visma company.")

_STATUS_WORDS = {status: look.words for status, look in services.ACCOUNT_STATUS_LOOKS.items()}


def _human_account(a: services.AccountView) -> str:
    expires = to_jsonable(a.token_expires_at) or "-"
    lines = [
        f"{a.name}: {_STATUS_WORDS.get(a.status, a.status)}",
        f"  Visma company: {a.visma_company or '-'}",
        f"  token expires: {expires}",
    ]
    if a.mapped_companies:
        lines.append(f"  mapped payroll companies: {', '.join(a.mapped_companies)}")
    if a.status_reason:
        lines.append(f"  note: {a.status_reason}")
    if isinstance(a, services.AccountChangeView):
        lines += [f"  warning: {warning}" for warning in a.warnings]
    return "\n".join(lines)


def _human_list(rows: list[services.AccountView]) -> str:
    if not rows:
        return "No accounts yet. Add one with: python -m core accounts add NAME"
    return "\n".join(_human_account(r) for r in rows)


@accounts_app.command("list")
@command
def list_cmd(as_json: JsonOption = False) -> None:
    """List the accounts with status, Visma company and token expiry."""
    rows = services.list_accounts(get_runtime())
    emit(rows, as_json, _human_list)


@accounts_app.command("add")
@command
def add_cmd(name: Annotated[str, typer.Argument(help="A name of your choosing (unique).")],
            as_json: JsonOption = False) -> None:
    """Create an account (not authorized yet)."""
    account = services.create_account(get_runtime(), name, actor=actor())
    emit(account, as_json, lambda a: f"Account '{a.name}' created. Authorize it with: "
                                     f"python -m core accounts authorize \"{a.name}\"")


@accounts_app.command("authorize")
@command
def authorize_cmd(
    name: Annotated[str, typer.Argument(help="The account to authorize.")],
    redirect_uri: Annotated[str | None, typer.Option(help="Override the configured redirect URI.")] = None,
    demo_user: Annotated[str | None, typer.Option(
        help="Demo mode only: log in to the sandbox as this demo user and allow, without a browser.")] = None,
    company: Annotated[str | None, typer.Option(help="With --demo-user: the company to choose (name or id).")] = None,
    as_json: JsonOption = False,
) -> None:
    """Print the Visma login URL for the account; open it, allow, then run `accounts complete` with the address
    Visma sends you back to."""
    rt = get_runtime()
    if demo_user is not None:
        account = services.authorize_with_demo_login(rt, name, email=demo_user, company=company, actor=actor(),
                                                     redirect_uri=redirect_uri)
        emit(account, as_json, _human_account)
        return
    url = services.start_authorization(rt, name, actor=actor(), redirect_uri=redirect_uri)
    emit({"name": name, "authorization_url": url, "expires_in_seconds": 600}, as_json,
         lambda d: "Open this address in a browser, log in to Visma, choose the company and click Allow "
                   f"(within 10 minutes):\n\n{d['authorization_url']}\n\nThen run: python -m core accounts "
                   "complete \"<the address your browser was sent back to>\"")


@accounts_app.command("complete")
@command
def complete_cmd(
    callback_url: Annotated[str, typer.Argument(help="The whole address Visma sent the browser back to.")],
    as_json: JsonOption = False,
) -> None:
    """Finish an authorization from the callback address (code and state, or Visma's error)."""
    account = services.complete_authorization(get_runtime(), callback_url, actor=actor())
    emit(account, as_json, _human_account)


@accounts_app.command("refresh")
@command
def refresh_cmd(name: Annotated[str, typer.Argument(help="The account whose token to refresh.")],
                as_json: JsonOption = False) -> None:
    """Refresh the account's access token now."""
    account = services.refresh_account(get_runtime(), name, actor=actor())
    emit(account, as_json, _human_account)


@accounts_app.command("disconnect")
@command
def disconnect_cmd(name: Annotated[str, typer.Argument(help="The account to disconnect.")],
                   as_json: JsonOption = False) -> None:
    """Revoke the account's authorization at Visma and delete its tokens (mappings are kept)."""
    account = services.disconnect_account(get_runtime(), name, actor=actor())
    emit(account, as_json, _human_account)


@accounts_app.command("delete")
@command
def delete_cmd(name: Annotated[str, typer.Argument(help="The account to delete (no mapping may use it).")],
               as_json: JsonOption = False) -> None:
    """Delete an account that no mapping uses."""
    services.delete_account(get_runtime(), name, actor=actor())
    emit({"name": name, "deleted": True}, as_json, f"Account '{name}' deleted.")

"""``demo`` commands (demo mode only): seed, status, reset, and switching a sandbox company into a known error.

``demo status --json`` is a contract for scripts: an object with at least ``sandbox_url``.
"""

from __future__ import annotations

from typing import Annotated

import typer

from core import services
from core.cli.common import JsonOption, actor, command, emit, get_runtime, new_app, to_jsonable

demo_app = new_app("Demo mode: the bundled Visma sandbox, demo accounts and demo payroll.")


def _human_status(s: dict) -> str:
    lines = [f"Sandbox: {s['sandbox_url']} ({'running' if s.get('running') else 'not answering'})"]
    if s.get("clock"):
        lines.append(f"Sandbox clock: {s['clock'].get('now')}")
    if s.get("companies"):
        lines.append("Companies:")
        for c in s["companies"]:
            faults = {k: v for k, v in (c.get("faults") or {}).items() if v}
            extra = f"  faults: {faults}" if faults else ""
            lines.append(f"  {c['name']}  [{c['state']}]  id {c['id']}{extra}")
    lines.append("Accounts:" if s.get("accounts") else "Accounts: none (run: python -m core demo seed)")
    for a in s.get("accounts") or []:
        expires = to_jsonable(a.get("token_expires_at")) or "-"
        lines.append(f"  {a['name']}: {a['status']} (expires {expires})")
    return "\n".join(lines)


def _human_seed(r: dict) -> str:
    lines = [
        f"Accounts created: {len(r['accounts_created'])}, authorized: {len(r['accounts_authorized'])}",
        f"Payroll: {r['payroll'] or '-'}",
        f"Mapped payroll companies: {len(r['mapped'])}",
    ]
    lines += [f"  failed: {f['account']}: {f['error']}" for f in r["accounts_failed"]]
    lines += [f"  warning: {w}" for w in r["warnings"]]
    return "\n".join(lines)


@demo_app.command("status")
@command
def status_cmd(as_json: JsonOption = False) -> None:
    """Where the sandbox runs, its companies' states and faults, and the accounts."""
    emit(services.demo_status(get_runtime()), as_json, _human_status)


@demo_app.command("seed")
@command
def seed_cmd(as_json: JsonOption = False) -> None:
    """Create and authorize one demo account per sandbox company, the demo payroll and its mappings (idempotent)."""
    emit(services.seed_demo(get_runtime(), actor=actor()), as_json, _human_seed)


@demo_app.command("reset")
@command
def reset_cmd(
    seed: Annotated[bool, typer.Option("--seed", help="Seed the demo again after the reset.")] = False,
    stop: Annotated[bool, typer.Option("--stop", help="Stop the sandbox process after the reset.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Reset the sandbox to its seed and empty this product's tables."""
    result = services.reset_demo(get_runtime(), actor=actor(), seed=seed, stop=stop)
    emit(result, as_json, lambda r: f"Demo reset: sandbox back to its seed, {len(r['tables_emptied'])} tables emptied."
         + (f"\n{_human_seed(r['seed'])}" if "seed" in r else ""))


@demo_app.command("state")
@command
def state_cmd(
    company_id: Annotated[str, typer.Argument(help="The sandbox company's id (see `demo status`).")],
    state: Annotated[str, typer.Argument(help="ok, no_fiscal_year, api_module_inactive, ledger_empty, …")],
    as_json: JsonOption = False,
) -> None:
    """Switch a sandbox company into a known error (or back to ok)."""
    company = services.set_company_state(get_runtime(), company_id, state, actor=actor())
    emit(company, as_json, lambda c: f"{c['name']}: state {c['state']}")


@demo_app.command("faults")
@command
def faults_cmd(
    company_id: Annotated[str, typer.Argument(help="The sandbox company's id (see `demo status`).")],
    latency_ms: Annotated[int | None, typer.Option(help="Delay every API answer (ms).")] = None,
    rate_limit_per_minute: Annotated[int | None, typer.Option(help="Rate limit (Visma: 600).")] = None,
    http_error: Annotated[int | None, typer.Option(help="Answer every API call with 500 or 503; 0 = off.")] = None,
    commit_then_drop: Annotated[int | None, typer.Option(
        help="Store the next N vouchers, then drop the connection.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Set faults on a sandbox company (merged into its current faults)."""
    faults = {"latency_ms": latency_ms, "rate_limit_per_minute": rate_limit_per_minute,
              "http_error": http_error, "commit_then_drop": commit_then_drop}
    faults = {k: v for k, v in faults.items() if v is not None}
    if faults.get("http_error") == 0:
        faults["http_error"] = None
    company = services.set_company_faults(get_runtime(), company_id, actor=actor(), **faults)
    emit(company, as_json, lambda c: f"{c['name']}: faults {c['faults']}")

"""The functions the dashboard pages and the CLI call: one per user action.

This module only gathers them; each lives in the module named for what it does. Pages import from here and nothing
else in ``core`` (DESIGN.md: pages → core.services → core.*). Every function takes the ``Runtime`` first, returns plain
data, and raises ``ServiceError`` with a message for people (and a troubleshooting ``entry_id`` when one fits).
"""

from core.accounts.accounts import (
    complete_authorization,
    create_account,
    delete_account,
    disconnect_account,
    get_account,
    list_accounts,
    refresh_account,
    start_authorization,
)
from core.demo.constants import DEMO_PASSWORD
from core.demo.service import (
    demo_status,
    prepare_demo,
    reset_demo,
    sandbox_companies,
    seed_demo,
    set_company_faults,
    set_company_state,
)
from core.errors import ServiceError
from core.export.preflight import preflight_company, preflight_run
from core.export.send import reconcile_stale, resend_run, send_pending, send_run
from core.export.views import (
    company_status_grid,
    export_counts_by_period,
    export_history,
    get_run,
    list_runs,
    preview_run,
    recent_failures,
    run_history,
    support_bundle,
)
from core.mappings.mappings import (
    cost_center_mapping,
    get_chart,
    ledger_mapping,
    map_company,
    refresh_chart,
    save_cost_center_mapping,
    save_ledger_mapping,
    set_auto_send,
    unmap_company,
)
from core.overview import overview
from core.payroll.file_import import to_csv_bytes
from core.payroll.store import import_journal_file, list_payroll_companies, seed_demo_payroll
from core.runtime import Runtime, build_runtime, default_actor
from core.settings import ConfigurationError, redact_url
from core.troubleshooting.troubleshooting import catalogue, classify, find_entry, match, search

__all__ = [
    "DEMO_PASSWORD",
    "ConfigurationError",
    "Runtime",
    "ServiceError",
    "build_runtime",
    "catalogue",
    "classify",
    "company_status_grid",
    "complete_authorization",
    "cost_center_mapping",
    "create_account",
    "default_actor",
    "delete_account",
    "demo_status",
    "disconnect_account",
    "export_counts_by_period",
    "export_history",
    "find_entry",
    "get_account",
    "get_chart",
    "get_run",
    "import_journal_file",
    "ledger_mapping",
    "list_accounts",
    "list_payroll_companies",
    "list_runs",
    "map_company",
    "match",
    "overview",
    "preflight_company",
    "prepare_demo",
    "preflight_run",
    "preview_run",
    "recent_failures",
    "reconcile_stale",
    "redact_url",
    "refresh_account",
    "refresh_chart",
    "resend_run",
    "reset_demo",
    "run_history",
    "sandbox_companies",
    "save_cost_center_mapping",
    "save_ledger_mapping",
    "search",
    "seed_demo",
    "seed_demo_payroll",
    "send_pending",
    "send_run",
    "set_auto_send",
    "set_company_faults",
    "set_company_state",
    "start_authorization",
    "support_bundle",
    "to_csv_bytes",
    "unmap_company",
]

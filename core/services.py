"""The single door of the service layer: the functions the dashboard pages and the CLI call, one per user action.

This module only gathers them; each lives in the package named for what it does (``docs/architecture.md`` lists
them). Pages and ``core/cli`` import from here and nothing else in ``core``. A function that changes something takes
the ``Runtime`` first and ``actor`` (who acts, for the audit log); functions return plain data or read models, never
ORM objects, and raise ``ServiceError`` with a message for people (and a troubleshooting ``entry_id`` when one fits).

Names are re-exported with ``import x as x`` (PEP 484's explicit re-export), one block per package, so that each
package's door can change without touching the others.
"""

# --- the runtime, configuration and errors
from core.errors import ServiceError as ServiceError
from core.runtime import Runtime as Runtime
from core.runtime import build_runtime as build_runtime
from core.runtime import default_actor as default_actor
from core.db.engine import describe_database_error as describe_database_error
from core.db.engine import is_database_failure as is_database_failure
from core.db.files import open_private as open_private
from core.db.files import private_folder as private_folder
from core.demo.sandbox import SandboxStartError as SandboxStartError
from core.settings import ConfigurationError as ConfigurationError
from core.settings import load_settings as load_settings
from core.settings import redact_url as redact_url

# --- accounts
from core.accounts.authorization import complete_authorization as complete_authorization
from core.accounts.authorization import start_authorization as start_authorization
from core.accounts.records import create_account as create_account
from core.accounts.records import list_accounts as list_accounts
from core.accounts.revocation import delete_account as delete_account
from core.accounts.revocation import disconnect_account as disconnect_account
from core.accounts.tokens import refresh_account as refresh_account
from core.accounts.views import AccountChangeView as AccountChangeView
from core.accounts.views import AccountView as AccountView
from core.accounts.views import SharedCompanyWarning as SharedCompanyWarning
from core.accounts.views import shared_company_warnings as shared_company_warnings

# --- payroll
from core.payroll.store import import_journal_file as import_journal_file
from core.payroll.store import list_payroll_companies as list_payroll_companies
from core.payroll.views import CompanyView as CompanyView
from core.payroll.views import ImportView as ImportView

# --- mappings
from core.mappings.companies import map_company as map_company
from core.mappings.companies import set_auto_send as set_auto_send
from core.mappings.companies import unmap_company as unmap_company
from core.mappings.ledger import cost_center_mapping as cost_center_mapping
from core.mappings.ledger import ledger_mapping as ledger_mapping
from core.mappings.ledger import save_cost_center_mapping as save_cost_center_mapping
from core.mappings.ledger import save_ledger_mapping as save_ledger_mapping
from core.mappings.views import CostCenterMappingRow as CostCenterMappingRow
from core.mappings.views import LedgerMappingRow as LedgerMappingRow
from core.mappings.views import MappingView as MappingView

# --- export
from core.export.background import start_background_check as start_background_check
from core.export.check import ReconcileSummaryView as ReconcileSummaryView
from core.export.check import NOT_BOOKED as NOT_BOOKED
from core.export.check import count_unconfirmed as count_unconfirmed
from core.export.check import reconcile_runs as reconcile_runs
from core.export.job import ExportOptions as ExportOptions
from core.export.log import ExportLogRow as ExportLogRow
from core.export.log import export_log as export_log
from core.export.log import export_log_page as export_log_page
from core.export.log_files import export_log_csv as export_log_csv
from core.export.log_files import export_log_xlsx as export_log_xlsx
from core.export.pending import NO_ENTRY as NO_ENTRY
from core.export.pending import failed_counts_by_cause as failed_counts_by_cause
from core.export.pending import pending_counts as pending_counts
from core.export.preflight import preflight_company as preflight_company
from core.export.preflight import preflight_run as preflight_run
from core.export.send import resend_run as resend_run
from core.export.send import send_pending as send_pending
from core.export.send import send_run as send_run
from core.export.results import ExportSummaryView as ExportSummaryView
from core.export.results import ResendResultView as ResendResultView
from core.export.results import SendResultView as SendResultView
from core.export.results import summarize as summarize
from core.export.support import support_bundle as support_bundle
from core.export.views import MAX_ID as MAX_ID
from core.export.views import AttemptView as AttemptView
from core.export.views import PreviewRowView as PreviewRowView
from core.export.views import PreviewView as PreviewView
from core.export.views import RunView as RunView
from core.export.views import company_status_grid as company_status_grid
from core.export.views import export_counts_by_period as export_counts_by_period
from core.export.views import get_run as get_run
from core.export.views import list_runs as list_runs
from core.export.views import preview_run as preview_run
from core.export.views import recent_failures as recent_failures
from core.export.views import run_history as run_history
from core.export.worker import run_worker as run_worker

# --- the status vocabulary (labels, colours, marks, logos of statuses and severities)
from core.status import ACCOUNT_STATUS_LOOKS as ACCOUNT_STATUS_LOOKS
from core.status import EXPORT_STATUS_LOOKS as EXPORT_STATUS_LOOKS
from core.status import FIX_IN_PLACES as FIX_IN_PLACES
from core.status import LANGUAGE_LABELS as LANGUAGE_LABELS
from core.status import SEVERITY_LOOKS as SEVERITY_LOOKS
from core.status import StatusLook as StatusLook
from core.status import unknown_status as unknown_status

# --- how numbers are said (amounts as the tables show them, counted nouns): pages and the CLI say them alike
from core.money import format_amount as format_amount
from core.words import count as count
from core.words import plural as plural

# --- overview
from core.overview import overview as overview

# --- troubleshooting
from core.troubleshooting.catalogue import Entry as Entry
from core.troubleshooting.catalogue import catalogue as catalogue
from core.troubleshooting.catalogue import find_entry as find_entry
from core.troubleshooting.classify import entry_for as entry_for
from core.troubleshooting.confidence import EntryConfidence as EntryConfidence
from core.troubleshooting.confidence import entry_confidence as entry_confidence
from core.troubleshooting.matcher import MATCH_CONFIDENCE as MATCH_CONFIDENCE
from core.troubleshooting.matcher import MatchResult as MatchResult
from core.troubleshooting.matcher import match as match
from core.troubleshooting.search import search as search

# --- demo mode
from core.demo.constants import DEMO_PASSWORD as DEMO_PASSWORD
from core.demo.service import authorize_with_demo_login as authorize_with_demo_login
from core.demo.service import demo_status as demo_status
from core.demo.service import prepare_demo as prepare_demo
from core.demo.service import reset_demo as reset_demo
from core.demo.service import seed_demo as seed_demo
from core.demo.service import seed_demo_payroll as seed_demo_payroll
from core.demo.service import set_company_faults as set_company_faults
from core.demo.service import set_company_state as set_company_state

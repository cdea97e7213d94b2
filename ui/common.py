"""What every page shares: the cached runtime, the acting user, service calls with their errors explained, status
badges with the Visma logo, catalogue entries, and messages carried across a page switch.

UI helpers only: no business logic lives here. Pages import these names; keep their signatures stable.
"""

from __future__ import annotations

import base64
import contextlib
import logging
import re
from collections.abc import Callable, Mapping
from functools import cache
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import streamlit as st

from core import services
from core.services import ConfigurationError, ServiceError

log = logging.getLogger(__name__)
T = TypeVar("T")

STATIC = Path(__file__).parent / "static"
TROUBLESHOOTING_PAGE = "pages/troubleshooting.py"
ACCOUNTS_PAGE = "pages/accounts.py"
ADMINISTRATIONS_PAGE = "pages/administrations.py"
JOURNAL_EXPORT_PAGE = "pages/journal_export.py"
DEMO_PAGE = "pages/demo.py"

FIX_IN_LABELS = {
    "visma_portal": "the Visma portal",
    "dashboard": "this dashboard",
    "payroll_system": "the payroll system",
}


class StateKeys:
    """Session-state keys (per browser session, UI state only: never tokens, clients or database sessions)."""

    FLASH = "flash_messages"  # list of (kind, message, entry_id): shown once, after a switch_page or rerun
    AUTH_LINKS = "accounts_auth_links"  # account name -> (login URL, created at epoch seconds)
    SELECTED_ACCOUNT = "accounts_selected"
    SELECTED_COMPANY = "administrations_selected_company"
    PREFLIGHT = "administrations_preflight"  # company code -> findings of the last *Check now*
    DIALOG = "open_dialog"  # (dialog name, payload) of the confirmation dialog that is open


# ---------------------------------------------------------------------------------------------- runtime and actor


@st.cache_resource(show_spinner="Starting eAccounting Link…", on_release=lambda rt: rt.close())
def _cached_runtime():
    rt = services.build_runtime()
    services.prepare_demo(rt)
    return rt


_SECRET_IN_URL = re.compile(r"(://[^:/@\s]+):[^@\s]+@")


def _redact(text: str) -> str:
    return _SECRET_IN_URL.sub(r"\1:***@", text)


def require_router() -> None:
    """Make sure this page runs inside app.py (sidebar, OAuth callback, navigation), never on its own.

    Because this package is called ``pages/``, a freshly started server treats it as Streamlit's legacy pages folder
    until app.py first calls ``st.navigation``. A bookmark or a link (``/journal_export?run=12``) opened before anyone
    loaded the root would run the page script alone: no sidebar, no Demo page, helper modules listed as pages. Leave
    that mode the way ``st.navigation`` does and rerun: the rerun goes through app.py to the same page (the legacy
    page and the ``st.Page`` share the url path, hence the page hash), query parameters included.
    """
    from streamlit.runtime.pages_manager import PagesManager

    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        st.rerun()


def get_runtime():
    """The process-wide runtime (settings, database, Visma clients), built once.

    A configuration that cannot work is shown as an error saying what to set, and the page stops; never a traceback.
    A failed build is not cached, so fixing the configuration and reloading the page is enough.
    """
    require_router()
    try:
        return _cached_runtime()
    except ConfigurationError as exc:
        st.error(f"**eAccounting Link is not configured correctly.**\n\n{exc}", icon=":material/settings_alert:")
    except ServiceError as exc:
        st.error(f"**eAccounting Link could not start.**\n\n{exc.message}", icon=":material/error:")
    except Exception as exc:  # database unreachable, sandbox not starting: explained, logged, never a traceback
        log.exception("The runtime could not be built")
        st.error(
            "**eAccounting Link could not start.**\n\n"
            f"{type(exc).__name__}: {_redact(str(exc))[:500]}\n\n"
            "Check `DATABASE_URL` (is the database reachable, does the user have access?) and, in demo mode, that "
            "the local Visma sandbox can start (a free port on 127.0.0.1). Then reload this page.",
            icon=":material/error:",
        )
    st.stop()


def app_root(rt) -> str | None:
    """This dashboard's own address (``http://host:port/``) when the embedded demo sandbox can be told about it;
    ``None`` otherwise, so production always uses the redirect URI registered with Visma (``VISMA_REDIRECT_URI``)."""
    if not getattr(rt, "embedded_sandbox", False):
        return None
    url = urlsplit(st.context.url or "")
    return f"{url.scheme}://{url.netloc}/" if url.scheme and url.netloc else None


def actor() -> str:
    """Who acts, for the audit log: the signed-in dashboard user when Streamlit auth is configured."""
    try:
        if st.user.is_logged_in:
            return str(st.user.get("email") or st.user.get("name") or "dashboard")
    except Exception:  # noqa: S110 - auth not configured: st.user has nothing to say
        pass
    return "dashboard"


# ------------------------------------------------------------------------------------------------- service calls


def try_service(fn: Callable[..., T], *args: Any, **kwargs: Any) -> tuple[bool, T | None]:
    """Run a service function; on failure show what happened and what to do. Returns (succeeded, result)."""
    try:
        return True, fn(*args, **kwargs)
    except ServiceError as exc:
        show_error(exc)
    except ConfigurationError as exc:
        st.error(str(exc), icon=":material/settings_alert:")
    except Exception as exc:  # a bug: say so plainly, keep the traceback in the server log
        log.exception("Service call %s failed", getattr(fn, "__name__", fn))
        st.error(
            f"Something unexpected went wrong ({type(exc).__name__}). Nothing more was done. Try again; if it "
            "happens again, send the server log to support.",
            icon=":material/bug_report:",
        )
    return False, None


def service_call(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T | None:
    """Run a service function and return its result, or None after showing the error (see ``try_service``)."""
    return try_service(fn, *args, **kwargs)[1]


def show_error(exc: ServiceError) -> None:
    """A ServiceError for people: its message, then the catalogue entry's cause and solution when it has one."""
    st.error(exc.message, icon=":material/error:")
    if exc.entry_id:
        show_entry(exc.entry_id)


# ------------------------------------------------------------------------------------------ troubleshooting entries


def _field(entry: Any, name: str, default: Any = None) -> Any:
    if isinstance(entry, Mapping):
        return entry.get(name, default)
    return getattr(entry, name, default)


def get_entry(entry_id: str) -> Any | None:
    """The catalogue entry (id, title, cause, solution, fix_in, severity, …), or None when there is none."""
    try:
        return services.find_entry(entry_id)
    except Exception:  # the catalogue failing to load must not hide the error being explained
        log.exception("The troubleshooting catalogue could not be loaded")
        return None


def troubleshooting_link(entry_id: str, label: str | None = None) -> None:
    """A link to the entry on the Troubleshooting page (left out when that page is not registered)."""
    with contextlib.suppress(Exception):  # the page is not part of this navigation
        st.page_link(
            TROUBLESHOOTING_PAGE,
            label=label or "Open in Troubleshooting",
            icon=":material/help:",
            query_params={"entry": entry_id},
        )


def solution_markdown(solution: str) -> str:
    """'**Solution:**' and the catalogue's text; numbered steps start on their own line, so Markdown keeps the list
    (a list cannot interrupt the paragraph the label starts)."""
    solution = (solution or "").strip()
    if "\n" in solution or solution[:3] in ("1. ", "1) "):
        return f"**Solution:**\n\n{solution}"
    return f"**Solution:** {solution}"


def show_entry(entry_id: str, *, title_prefix: str = "") -> None:
    """Render a troubleshooting entry: title, cause, solution, where to fix it, and a link to the full entry."""
    entry = get_entry(entry_id)
    with st.container(border=True):
        if entry is None:
            st.markdown(f"**Troubleshooting entry `{entry_id}`**")
        else:
            st.markdown(f"**{title_prefix}{_field(entry, 'title', entry_id)}**")
            st.markdown(f"**Cause:** {_field(entry, 'cause', '')}")
            st.markdown(solution_markdown(_field(entry, 'solution', '')))
            fix_in = _field(entry, "fix_in")
            if fix_in:
                st.caption(f"Where to fix it: {FIX_IN_LABELS.get(str(fix_in), str(fix_in))}")
        troubleshooting_link(entry_id)


def show_failed_sends(rt, company_code: str, findings: list[dict]) -> None:
    """Below a preflight: the causes of this company's failed sends that the check did not report.

    Some refusals exist only when a voucher is posted (the article's *'Ledger' cannot be empty*, a period locked after
    the check, a rate limit), so "no problems found" next to runs that keep failing would mislead; say so, with the
    entries that explain those failures.
    """
    try:
        failed = services.list_runs(rt, company_code=company_code, status="failed")
    except Exception:  # the check's own result stays readable when this extra read fails
        log.exception("Reading the failed runs of %s failed", company_code)
        return
    seen = {f.get("entry_id") for f in findings if f.get("entry_id")}
    causes: dict[str | None, int] = {}
    for run in failed:
        if run.error_entry_id not in seen:
            causes[run.error_entry_id] = causes.get(run.error_entry_id, 0) + 1
    if not causes:
        return
    total = sum(causes.values())
    st.warning(
        f"{total} run(s) of this company were refused by Visma when sent, for reasons this check cannot see "
        "beforehand (Visma reports them only when a journal entry is posted). Fix these too before sending again:",
        icon=":material/history:",
    )
    for entry_id, count in sorted(causes.items(), key=lambda item: -item[1])[:3]:
        if entry_id:
            show_entry(entry_id, title_prefix=f"{count} run(s): ")
        else:
            st.markdown(f"- {count} run(s) with an error the catalogue does not know yet (see Journal Export).")


# ------------------------------------------------------------------------------------------------ badges and logos


@cache
def logo_uri(color: str) -> str:
    """The Visma logo in ``grey``, ``red``, ``orange`` or ``blue`` as a data URI (for tables and st.image)."""
    svg = (STATIC / f"visma-{color}.svg").read_bytes()
    return "data:image/svg+xml;base64," + base64.b64encode(svg).decode()


# Table cells carry text marks that every system font has (colour emoji are missing on many Linux desktops); the
# colour itself is in the logo column and the badges.
ACCOUNT_STATUS = {
    # status: (label, badge colour, logo colour, mark)
    "not_authorized": ("Not authorized", "gray", "grey", "○"),
    "authorized": ("Authorized", "red", "red", "●"),
    "needs_reauthorization": ("Needs re-authorization", "orange", "orange", "⚠"),
}
EXPORT_STATUS = {
    "not_sent": ("Not sent", "gray", "grey", "○"),
    "sending": ("Sending", "blue", "blue", "◔"),
    "sent": ("Sent", "red", "red", "●"),
    "failed": ("Failed", "orange", "orange", "⚠"),
}


def _describe(table: dict, status: str) -> tuple[str, str, str, str]:
    return table.get(status, (status.replace("_", " ").capitalize(), "gray", "grey", "○"))


def account_status_label(status: str) -> str:
    """Plain label with a mark, for table cells: "● Authorized"."""
    label, _, _, dot = _describe(ACCOUNT_STATUS, status)
    return f"{dot} {label}"


def account_badge(status: str) -> str:
    """Markdown badge for an account status (grey *not authorized*, red *authorized*, orange *needs re-auth*)."""
    label, color, _, _ = _describe(ACCOUNT_STATUS, status)
    return f":{color}-badge[{label}]"


def account_logo(status: str) -> str:
    """The Visma logo data URI in the colour of the account status (grey until authorized, then red)."""
    return logo_uri(_describe(ACCOUNT_STATUS, status)[2])


def export_status_label(status: str, voucher_number: str | None = None) -> str:
    label, _, _, dot = _describe(EXPORT_STATUS, status)
    return f"{dot} {label}" + (f" · voucher {voucher_number}" if status == "sent" and voucher_number else "")


def export_badge(status: str, voucher_number: str | None = None) -> str:
    """Markdown badge for an export: grey *not sent*, blue *sending*, red *sent* + voucher number, orange *failed*."""
    label, color, _, _ = _describe(EXPORT_STATUS, status)
    if status == "sent" and voucher_number:
        label = f"{label} · voucher {voucher_number}"
    return f":{color}-badge[{label}]"


def export_logo(status: str) -> str:
    return logo_uri(_describe(EXPORT_STATUS, status)[2])


def data_changed() -> None:
    """Forget every cached read after an action changed accounts, mappings or runs, so that no page (of any
    session) shows the old state for a cache lifetime. Reads are cheap to redo; a stale "not mapped" is not."""
    st.cache_data.clear()


# ------------------------------------------------------------------------------------------------ dialogs


def open_dialog(dialog: str, /, **payload: Any) -> None:
    """Mark a confirmation dialog open. The page calls the dialog on every run while it is open (see
    ``pending_dialog``), so a click inside it also works after a full rerun (and in AppTest)."""
    st.session_state[StateKeys.DIALOG] = (dialog, payload)


def close_dialog() -> None:
    """Forget the open dialog; pass as ``on_dismiss=close_dialog`` to ``st.dialog`` and call it on confirm/cancel."""
    st.session_state.pop(StateKeys.DIALOG, None)


def pending_dialog(*names: str) -> tuple[str, dict] | None:
    """The open dialog as (name, payload) when it is one of ``names`` (this page's dialogs), else None."""
    pending = st.session_state.get(StateKeys.DIALOG)
    return pending if pending and pending[0] in names else None


# ------------------------------------------------------------------------------------------------ flash messages


def flash(message: str, kind: str = "success", *, entry_id: str | None = None) -> None:
    """Keep a message for the next run of this session (it survives ``st.rerun`` and ``st.switch_page``).

    ``kind`` is ``success``, ``info``, ``warning``, ``error`` (boxes) or ``toast``.
    """
    st.session_state.setdefault(StateKeys.FLASH, []).append((kind, message, entry_id))


def show_flash() -> None:
    """Show and forget the messages kept by ``flash`` (the entrypoint calls this before the page runs)."""
    messages = st.session_state.pop(StateKeys.FLASH, [])
    for kind, message, entry_id in messages:
        if kind == "toast":
            st.toast(message, icon=":material/check_circle:")
            continue
        box = {"success": st.success, "info": st.info, "warning": st.warning}.get(kind, st.error)
        box(message)
        if entry_id:
            show_entry(entry_id)


def format_time(value: Any) -> str:
    """A timestamp for prose (tables use DatetimeColumn): ``2026-03-31 14:05 UTC`` or an em dash."""
    if value is None or value == "":
        return "—"
    try:
        return value.strftime("%Y-%m-%d %H:%M %Z").strip()
    except AttributeError:
        return str(value)

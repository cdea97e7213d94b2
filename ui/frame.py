"""The frame every page runs in: the cached runtime, the router guard, who acts, page paths, session-state keys,
the cache reset after a change, and confirmation dialogs that survive a rerun."""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import streamlit as st
from streamlit.runtime.pages_manager import PagesManager

from core import services
from core.services import ConfigurationError, ServiceError
from ui.text import plain

log = logging.getLogger(__name__)

STATIC = Path(__file__).parent / "static"
TROUBLESHOOTING_PAGE = "pages/troubleshooting.py"
ACCOUNTS_PAGE = "pages/accounts.py"
ADMINISTRATIONS_PAGE = "pages/administrations.py"
JOURNAL_EXPORT_PAGE = "pages/journal_export.py"
DEMO_PAGE = "pages/demo.py"


class StateKeys:
    """Session-state keys (per browser session, UI state only: never tokens, clients or database sessions)."""

    FLASH = "flash_messages"  # list of (kind, message, entry_id): shown once, after a switch_page or rerun
    AUTH_LINKS = "accounts_auth_links"  # account name -> (login URL, created at epoch seconds)
    SELECTED_ACCOUNT = "accounts_selected"
    SELECTED_COMPANY = "administrations_selected_company"
    PREFLIGHT = "administrations_preflight"  # company code -> findings of the last *Check now*
    DIALOG = "open_dialog"  # (dialog name, payload) of the confirmation dialog that is open


# ---------------------------------------------------------------------------------------------- runtime and actor


_BACKGROUND_CHECKS: dict[int, object] = {}  # runtime id -> its background check of unconfirmed runs


def _release_runtime(rt) -> None:
    check = _BACKGROUND_CHECKS.pop(id(rt), None)
    if check is not None:
        check.stop()
    rt.close()


@st.cache_resource(show_spinner="Starting eAccounting Link…", on_release=_release_runtime)
def _cached_runtime():
    rt = services.build_runtime()
    services.prepare_demo(rt)
    # Unconfirmed runs are checked in Visma by themselves as soon as Visma answers (RECONCILE_INTERVAL_SECONDS).
    _BACKGROUND_CHECKS[id(rt)] = services.start_background_check(rt)
    return rt


_SECRET_IN_URL = re.compile(r"(://[^:/@\s]+):[^@\s]+@")


def _redact(text: str) -> str:
    return _SECRET_IN_URL.sub(r"\1:***@", text)


def require_router() -> None:
    """Make sure this page runs inside app.py (sidebar, OAuth callback, navigation), never on its own.

    Because the page scripts live in ``pages/``, a freshly started server treats it as Streamlit's legacy pages folder
    until app.py first calls ``st.navigation``. A bookmark or a link (``/journal_export?run=12``) opened before anyone
    loaded the root would run the page script alone: no sidebar, no Demo page. Leave that mode the way
    ``st.navigation`` does and rerun: the rerun goes through app.py to the same page (the legacy page and the
    ``st.Page`` share the url path, hence the page hash), query parameters included.
    """
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
        st.error(f"**eAccounting Link could not start.**\n\n{plain(exc.message)}", icon=":material/error:")
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
    if not rt.embedded_sandbox:
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


def data_changed() -> None:
    """Forget every cached read after an action changed accounts, mappings or runs, so that no page (of any
    session) shows the old state for a cache lifetime. Reads are cheap to redo; a stale "not mapped" is not."""
    st.cache_data.clear()


# ------------------------------------------------------------------------------------------------------- dialogs


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

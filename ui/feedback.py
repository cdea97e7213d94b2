"""What the user is told: service calls with their errors explained, and messages kept across a page switch."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

import streamlit as st

from core.services import ConfigurationError, ServiceError
from ui.entries import show_entry
from ui.frame import StateKeys
from ui.text import plain

log = logging.getLogger(__name__)
T = TypeVar("T")


def try_service(fn: Callable[..., T], *args: Any, **kwargs: Any) -> tuple[bool, T | None]:
    """Run a service function; on failure show what happened and what to do. Returns (succeeded, result)."""
    try:
        return True, fn(*args, **kwargs)
    except ServiceError as exc:
        show_error(exc)
    except ConfigurationError as exc:
        st.error(str(exc), icon=":material/settings_alert:")  # the product's own words about its settings
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
    st.error(plain(exc.message), icon=":material/error:")
    if exc.entry_id:
        show_entry(exc.entry_id, message=exc.message)


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
            show_entry(entry_id, message=message)

"""Helpers for the dashboard's AppTest tests: run the app, switch pages, authorize through the sandbox, read text.

The fixtures (``app_env``, ``app_rt``, ``mapped``, ``with_failure``) are in ``tests/app/conftest.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import parse_qsl, urlsplit

import streamlit as st
from streamlit.runtime.media_file_manager import MediaFileManager
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "app.py"
TIMEOUT = 30
DEMO_EMAIL = "anna.dekker@demo-bureau.nl"
DEMO_PASSWORD = "Welkom2026!"  # the sandbox's published demo password, not a credential
BAKKERIJ = "Bakkerij De Gouden Korst B.V."
KAPSALON = "Kapsalon Het Knipperlicht"  # the sandbox company without a fiscal year


def clear_streamlit_caches() -> None:
    st.cache_resource.clear()
    st.cache_data.clear()


def new_app() -> AppTest:
    return AppTest.from_file(str(APP), default_timeout=TIMEOUT)


def app_with_query(query: dict[str, str]) -> AppTest:
    """A new session opened at ``/?<query>`` (as the browser arrives from Visma), not run yet."""
    at = new_app()
    for key, value in query.items():
        at.query_params[key] = value
    return at


def open_page(page: str) -> AppTest:
    """The app, run once (so st.navigation registers the pages), then switched to ``page`` and run."""
    at = new_app()
    at.run()
    assert not at.exception, at.exception
    at.switch_page(page).run()
    return at


def callback_query(rt, account_name: str, *, company: str = BAKKERIJ, allow: bool = True,
                   email: str = DEMO_EMAIL) -> dict[str, str]:
    """Drive the real flow at the sandbox: start, log in, choose the company, Allow; the callback's query."""
    from core import services
    from core.demo.login import login_and_consent

    url = services.start_authorization(rt, account_name, actor="test")
    callback = login_and_consent(url, email=email, password=DEMO_PASSWORD, company=company, allow=allow)
    return dict(parse_qsl(urlsplit(callback).query))


def authorize(rt, account_name: str, *, company: str = BAKKERIJ) -> Any:
    """Create (if needed) and authorize an account through the sandbox's login; returns the account."""
    from core import services

    if not any(a.name == account_name for a in services.list_accounts(rt)):
        services.create_account(rt, account_name, actor="test")
    return services.complete_authorization(rt, callback_query(rt, account_name, company=company), actor="test")


class RecordingMediaFileManager(MediaFileManager):
    """AppTest's media file manager, keeping what each download button would serve.

    AppTest builds a new manager per run and drops it afterwards, so a test cannot fetch a download button's file.
    ``app_env`` swaps this class in; :func:`downloaded` then returns the bytes a browser would save.
    """

    files: ClassVar[dict[str, bytes]] = {}  # URL -> bytes (a download button with its data)
    deferred: ClassVar[dict[str, Callable[[], Any]]] = {}  # deferred file id -> callable (``data=lambda: ...``)

    def add(self, path_or_data, mimetype, coordinates, file_name=None, is_for_static_download=False):
        url = super().add(path_or_data, mimetype, coordinates, file_name=file_name,
                          is_for_static_download=is_for_static_download)
        if is_for_static_download and isinstance(path_or_data, bytes):
            self.files[url] = path_or_data
        return url

    def add_deferred(self, data_callable, mimetype, coordinates, file_name=None, *, element_id=""):
        file_id = super().add_deferred(data_callable, mimetype, coordinates, file_name=file_name,
                                       element_id=element_id)
        self.deferred[file_id] = data_callable
        return file_id

    @classmethod
    def forget(cls) -> None:
        cls.files.clear()
        cls.deferred.clear()


def downloaded(at: AppTest, key: str) -> bytes:
    """The bytes the download button ``key`` hands the browser (a deferred one's callable is called, as a click
    in the browser does)."""
    proto = at.download_button(key=key).proto
    if proto.deferred_file_id:
        data = RecordingMediaFileManager.deferred[proto.deferred_file_id]()
        return data.encode() if isinstance(data, str) else bytes(data)
    return RecordingMediaFileManager.files[proto.url]


def texts(elements) -> list[str]:
    return [str(e.value) for e in elements]


def all_text(at: AppTest) -> str:
    """Every markdown, caption, alert and title on the page, joined (for "is this shown" assertions)."""
    parts = []
    for kind in ("title", "header", "subheader", "markdown", "caption", "success", "info", "warning", "error"):
        parts.extend(texts(getattr(at, kind)))
    return "\n".join(parts)

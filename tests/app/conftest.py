"""Fixtures for the dashboard's AppTest tests: the app pointed at the session sandbox and a fresh database.

Helpers are in ``tests/support/apptest.py`` and ``tests/support/pages.py``. The runtime
is read from environment variables, exactly as a deployment configures it; Streamlit's caches are process-wide, so
they are cleared before and after every test.
"""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from streamlit.runtime.pages_manager import PagesManager
from streamlit.testing.v1 import app_test as app_test_module

from core.runtime import build_runtime
from tests.support.apptest import RecordingMediaFileManager, clear_streamlit_caches
from tests.support.pages import ACTOR, set_state, setup_company


class _NavigationPagesManager(PagesManager):
    """AppTest makes a new PagesManager per run, which sees the ``pages/`` folder and runs a switched-to page in the
    legacy folder mode (the page script alone, without app.py). A real server leaves that mode as soon as app.py
    calls ``st.navigation``; this keeps AppTest in navigation mode from the first run, as the server is."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        PagesManager.uses_pages_directory = False


@pytest.fixture
def app_env(monkeypatch, tmp_path, sandbox):
    """Environment for the app: demo client against the (reset) session sandbox, a new SQLite file, a fixed key."""
    monkeypatch.setattr(app_test_module, "PagesManager", _NavigationPagesManager)
    monkeypatch.setattr(app_test_module, "MediaFileManager", RecordingMediaFileManager)
    RecordingMediaFileManager.forget()
    monkeypatch.setenv("VISMA_IDENTITY_URL", sandbox.url)
    monkeypatch.setenv("VISMA_API_URL", f"{sandbox.url}/v2")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'app.db'}")
    monkeypatch.setenv("TOKEN_ENCRYPTION_KEY", Fernet.generate_key().decode())
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("STREAMLIT_SECRETS_PATH", str(tmp_path / "no-secrets.toml"))
    for key in ("VISMA_CLIENT_ID", "VISMA_CLIENT_SECRET", "VISMA_REDIRECT_URI"):
        monkeypatch.delenv(key, raising=False)
    clear_streamlit_caches()
    yield sandbox
    clear_streamlit_caches()


@pytest.fixture
def rt(app_env):
    """A runtime over the same database and sandbox as the app, for arranging data through the services."""
    runtime = build_runtime()
    yield runtime
    runtime.close()




@pytest.fixture
def app_rt(rt):
    """The same runtime under a name that cannot clash with other suites' ``rt`` fixtures."""
    return rt


@pytest.fixture
def mapped(rt):
    """Bakkerij's runs of periods 1-3, authorized and mapped; nothing sent."""
    return setup_company(rt)


@pytest.fixture
def with_failure(rt, mapped):
    """As ``mapped``, with period 1 sent and period 2 failed because the fiscal year is missing."""
    from core import services

    services.send_run(rt, mapped.run_ids[0], actor=ACTOR)
    set_state(rt, "Bakkerij De Gouden Korst B.V.", "no_fiscal_year")
    services.send_run(rt, mapped.run_ids[1], actor=ACTOR)
    set_state(rt, "Bakkerij De Gouden Korst B.V.", "ok")
    return mapped

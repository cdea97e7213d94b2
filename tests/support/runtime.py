"""Fixtures for the service layer against the session's sandbox: a ``Runtime`` in demo mode whose Visma URLs point
at the sandbox, on each test database (``database_url`` runs SQLite, and PostgreSQL when TEST_DATABASE_URL is set).

"""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import httpx
from cryptography.fernet import Fernet

from core.accounts.authorization import complete_authorization, start_authorization
from core.accounts.records import create_account
from core.accounts.views import AccountChangeView
from core.db import models
from core.demo.constants import DEMO_PASSWORD, DEMO_USER_ALL_COMPANIES
from core.demo.login import login_and_consent
from core.runtime import Runtime


def runtime_env(sandbox_url: str, database_url: str, data_dir, key: str | None = None) -> dict[str, str]:
    """Environment variables for a demo-mode runtime pointed at ``sandbox_url`` (also used by CLI subprocesses)."""
    return {
        "VISMA_IDENTITY_URL": sandbox_url,
        "VISMA_API_URL": f"{sandbox_url}/v2",
        "DATABASE_URL": database_url,
        "DATA_DIR": str(data_dir),
        "TOKEN_ENCRYPTION_KEY": key or Fernet.generate_key().decode(),
        "STREAMLIT_SECRETS_PATH": str(data_dir / "no-secrets.toml"),
    }


class Clock:
    """Moves ``core.db.models.utcnow`` (our clock) and optionally the sandbox's clock together."""

    def __init__(self, monkeypatch, sandbox_url: str):
        self.offset = timedelta()
        self._sandbox_url = sandbox_url
        real = models.utcnow
        monkeypatch.setattr(models, "utcnow", lambda: real() + self.offset)

    def advance(self, seconds: float, *, sandbox: bool = True) -> datetime:
        self.offset += timedelta(seconds=seconds)
        if sandbox:
            httpx.post(f"{self._sandbox_url}/_sandbox/clock", json={"advance_seconds": seconds}, timeout=5)
        return models.utcnow()


def authorize(rt: Runtime, name: str, company: str, *, email: str = DEMO_USER_ALL_COMPANIES,
              create: bool = True) -> AccountChangeView:
    """Create (optionally) and authorize an account through the sandbox's own login and consent pages."""
    if create:
        create_account(rt, name, actor="test")
    url = start_authorization(rt, name, actor="test")
    callback = login_and_consent(url, email=email, password=DEMO_PASSWORD, company=company)
    return complete_authorization(rt, callback, actor="test")


def sandbox_stats(sandbox_url: str) -> dict:
    return httpx.get(f"{sandbox_url}/_sandbox/stats", timeout=5).json()


def cli_json(result):
    """The JSON a successful ``--json`` command printed."""
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)

"""Cached reads of the service layer, shared by the pages.

Each takes the runtime as ``_rt`` (left out of the cache key) and the database URL as ``db`` (see :func:`db_key`) so
two databases never share an entry. Actions clear them at once (``ui.frame.data_changed``).
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core import services

CACHE_TTL = 30  # seconds: other sessions and the worker change runs too; actions here clear the caches at once


def db_key(rt) -> str:
    """The cache key part that tells databases apart (never shown; the URL may hold a password)."""
    return str(rt.settings.database_url)


@st.cache_data(ttl=3600, show_spinner=False)
def catalogue_frame() -> pd.DataFrame:
    """The whole troubleshooting catalogue as a table (plain data: it changes only with a release)."""
    rows = []
    for entry in services.catalogue():
        rows.append(
            {
                "id": entry.id,
                "title": entry.title,
                "severity": entry.severity,
                "fix_in": entry.fix_in,
                "message": entry.example,
                "message_nl": entry.example_nl or "",
                "cause": entry.cause,
                "solution": entry.solution,
                "language": ", ".join(services.LANGUAGE_LABELS.get(x, x) for x in entry.language),
                "codes": ", ".join(str(c) for c in entry.codes),
                "source": entry.source,
            }
        )
    return pd.DataFrame(rows)


@st.cache_data(ttl=CACHE_TTL, show_spinner=False, max_entries=64)
def cached_runs(_rt, db: str, company_code: str | None) -> list[services.RunView]:
    return services.list_runs(_rt, company_code=company_code)


@st.cache_data(ttl=CACHE_TTL, show_spinner=False, max_entries=8)
def cached_companies(_rt, db: str) -> list[services.CompanyView]:
    return services.list_payroll_companies(_rt)


@st.cache_data(ttl=CACHE_TTL, show_spinner=False, max_entries=8)
def cached_accounts(_rt, db: str) -> list[services.AccountView]:
    return services.list_accounts(_rt)


@st.cache_data(ttl=CACHE_TTL, show_spinner=False, max_entries=64)
def cached_counts(_rt, db: str, company_code: str | None) -> list[dict]:
    return services.export_counts_by_period(_rt, company_code=company_code)


@st.cache_data(ttl=CACHE_TTL, show_spinner=False, max_entries=8)
def cached_overview(_rt, db: str) -> dict:
    return services.overview(_rt)


@st.cache_data(ttl=CACHE_TTL, show_spinner=False, max_entries=8)
def cached_recent_failures(_rt, db: str) -> list[dict]:
    return services.recent_failures(_rt)


@st.cache_data(ttl=CACHE_TTL, show_spinner=False, max_entries=8)
def cached_failed_runs(_rt, db: str, limit: int = 500) -> list[services.RunView]:
    """Failed runs only (filtered in the database), for pickers that must stay small at a bureau's size."""
    return services.list_runs(_rt, status="failed", limit=limit)


@st.cache_data(ttl=5, show_spinner=False, max_entries=4)
def cached_demo_status(_rt, db: str) -> dict:
    return services.demo_status(_rt)


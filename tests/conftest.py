"""Shared fixtures: databases (SQLite file per test; PostgreSQL when TEST_DATABASE_URL is set) and the sandbox.

Every test that takes ``engine`` runs once per database: ``[sqlite]`` always, ``[postgresql]`` when
``TEST_DATABASE_URL`` points at a PostgreSQL server (``.ci/run`` sets it). With ``CI=true`` a missing PostgreSQL is a
failure, not a skip.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import httpx
import pytest
import sqlalchemy as sa
from sqlmodel import SQLModel
from typer.testing import CliRunner

from core.cli.common import use_runtime
from core.cli.main import app as cli_app
from core.db.engine import make_engine, migrate
from core.runtime import Runtime, build_runtime
from core.settings import load_settings, normalize_database_url
from tests.support.runtime import Clock, runtime_env

PG_URL = os.environ.get("TEST_DATABASE_URL")
DATABASES = ["sqlite", "postgresql"] if PG_URL or os.environ.get("CI") else ["sqlite"]


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session, migrated once, dropped at the end."""
    if not PG_URL:
        pytest.fail("TEST_DATABASE_URL is not set but CI=true: PostgreSQL tests must run in CI.")
    admin = sa.create_engine(normalize_database_url(PG_URL), isolation_level="AUTOCOMMIT")
    name = f"elx_test_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = admin.url.set(database=name).render_as_string(hide_password=False)
    engine = make_engine(url)
    migrate(engine)
    engine.dispose()
    yield url
    with admin.connect() as conn:
        conn.execute(
            sa.text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = :n AND pid <> pg_backend_pid()"
            ),
            {"n": name},
        )
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
    admin.dispose()


def _truncate_all(engine: sa.Engine) -> None:
    names = ", ".join(f'"{t.name}"' for t in SQLModel.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(sa.text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


@pytest.fixture(params=DATABASES)
def database_url(request, tmp_path) -> str:
    """The URL of an empty, migrated database of each kind."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'test.db'}"
        engine = make_engine(url)
        migrate(engine)
        engine.dispose()
        return url
    url = request.getfixturevalue("pg_database")
    engine = make_engine(url)
    _truncate_all(engine)
    engine.dispose()
    return url


@pytest.fixture
def engine(database_url) -> Iterator[sa.Engine]:
    eng = make_engine(database_url)
    yield eng
    eng.dispose()


@pytest.fixture(scope="session")
def sandbox_server():
    """One sandbox for the whole session (reset by ``sandbox`` before each test that uses it)."""
    from sandbox import start_sandbox

    with start_sandbox(port=0) as server:
        yield server


@pytest.fixture
def sandbox(sandbox_server):
    """The session's sandbox, reset to its seed (states, faults, clock, vouchers, tokens) for this test."""
    httpx.post(f"{sandbox_server.url}/_sandbox/reset", timeout=10).raise_for_status()
    return sandbox_server


@pytest.fixture
def rt(sandbox, database_url, tmp_path) -> Iterator[Runtime]:
    """A migrated runtime in demo mode over the session sandbox (reset for this test)."""
    env = runtime_env(sandbox.url, database_url, tmp_path / "data")
    runtime = build_runtime(load_settings(env))
    yield runtime
    runtime.close()


@pytest.fixture
def clock(monkeypatch, sandbox) -> Clock:
    return Clock(monkeypatch, sandbox.url)


@pytest.fixture
def cli(rt):
    """``cli(*args)`` runs ``python -m core *args`` in-process on the test's runtime; returns typer's Result."""
    runner = CliRunner()

    def invoke(*args: str):
        with use_runtime(rt):
            return runner.invoke(cli_app, list(args))

    return invoke

"""A damaged database or a full disk is explained with what to do, in the CLI as in the dashboard; never "an
unexpected DatabaseError" (bad input and bad days)."""

from __future__ import annotations

import sqlite3

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from core.cli.main import app
from core.db.engine import describe_database_error, is_database_failure


def test_the_cli_says_a_damaged_database_file_is_damaged_and_to_restore_it(tmp_path, monkeypatch):
    data = tmp_path / "data"
    data.mkdir()
    (data / "eaccounting-link.db").write_bytes(b"this is no database at all " * 200)
    monkeypatch.setenv("DATA_DIR", str(data))
    monkeypatch.setenv("STREAMLIT_SECRETS_PATH", str(tmp_path / "none.toml"))
    monkeypatch.setenv("VISMA_IDENTITY_URL", "http://127.0.0.1:9")  # demo mode without starting a sandbox
    monkeypatch.setenv("VISMA_API_URL", "http://127.0.0.1:9/v2")
    result = CliRunner().invoke(app, ["accounts", "list", "--json"])
    assert result.exit_code == 1
    assert "damaged" in result.stdout and "Restore it from the last backup" in result.stdout
    assert "unexpected" not in result.stdout


@pytest.mark.parametrize(("driver_error", "expected"), [
    (sqlite3.OperationalError("database or disk is full"), "is full or failing"),
    (sqlite3.OperationalError("disk I/O error"), "Free space on it"),
    (sqlite3.DatabaseError("database disk image is malformed"), "damaged"),
    (sqlite3.OperationalError("unable to open database file"), "can this user read and write"),
])
def test_each_kind_of_database_failure_gets_its_own_advice(driver_error, expected):
    exc = sa.exc.OperationalError("SELECT 1", {}, driver_error)
    assert is_database_failure(exc)
    assert expected in describe_database_error(exc, "sqlite:////srv/data/eaccounting-link.db")


def test_errors_about_the_data_are_not_database_failures():
    assert not is_database_failure(sa.exc.IntegrityError("INSERT", {}, sqlite3.IntegrityError("UNIQUE")))

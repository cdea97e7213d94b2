"""The data folder, the SQLite database, the demo key and the CLI's log are private to the user who runs the product
(0700 folders, 0600 files): payroll names and amounts are not for every local user (bad input and bad days)."""

from __future__ import annotations

import os
import stat

import pytest
import sqlalchemy as sa
import typer

from core.cli.common import handle_exception
from core.db.engine import make_engine
from core.db.files import open_private, private_folder


def mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_new_sqlite_database_and_its_folder_are_private(tmp_path):
    folder = tmp_path / "data" / "nested"
    previous = os.umask(0o022)  # the usual umask, under which SQLite would create the file 0644
    try:
        engine = make_engine(f"sqlite:///{folder / 'eaccounting-link.db'}")
        with engine.connect() as conn:
            conn.execute(sa.text("CREATE TABLE t (x INTEGER)"))
            conn.commit()
        engine.dispose()
    finally:
        os.umask(previous)
    assert mode(folder) == 0o700
    assert mode(folder / "eaccounting-link.db") == 0o600


def test_an_existing_open_folder_of_ours_is_made_private(tmp_path):
    folder = tmp_path / "data"
    folder.mkdir(mode=0o755)
    folder.chmod(0o755)
    private_folder(folder)
    assert mode(folder) == 0o700


def test_files_written_by_the_product_are_created_private(tmp_path):
    with open_private(tmp_path / "cli.log") as log:
        log.write("line\n")
    assert mode(tmp_path / "cli.log") == 0o600


def test_the_clis_log_of_an_unexpected_error_is_private(tmp_path, monkeypatch):
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("STREAMLIT_SECRETS_PATH", str(tmp_path / "none.toml"))
    with pytest.raises(typer.Exit):  # exit code 1: the command failed, as it should
        handle_exception(RuntimeError("boom"))
    assert mode(tmp_path / "data") == 0o700
    assert mode(tmp_path / "data" / "cli.log") == 0o600

"""Configuration: demo vs production, secrets.toml and the environment, the encryption key, database URLs."""

from __future__ import annotations

import hashlib
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from core.db.crypto import TokenCipher, demo_key_file, resolve_encryption_key
from core.demo.constants import DEMO_CLIENT_ID
from core.runtime import build_runtime
from core.settings import (
    PRODUCTION_API_URL,
    PRODUCTION_IDENTITY_URL,
    ConfigurationError,
    load_settings,
    normalize_database_url,
    redact_url,
)

PROJECT = Path(__file__).resolve().parents[2]


@pytest.fixture
def no_secrets(tmp_path):
    return tmp_path / "absent-secrets.toml"


def test_no_client_id_is_demo_mode_with_defaults(tmp_path, no_secrets):
    s = load_settings({"DATA_DIR": str(tmp_path / "d")}, secrets_path=no_secrets)
    assert s.demo_mode and s.environment == "demo"
    assert s.client_id == DEMO_CLIENT_ID
    assert s.identity_url == PRODUCTION_IDENTITY_URL and s.api_url == PRODUCTION_API_URL  # build_runtime repoints
    assert s.database_url == f"sqlite:///{tmp_path / 'd' / 'eaccounting-link.db'}"
    assert s.redirect_uri == "http://localhost:8501/"
    assert s.token_encryption_key is None


def test_production_mode_needs_the_secret_too(no_secrets):
    s = load_settings({"VISMA_CLIENT_ID": "abc", "VISMA_CLIENT_SECRET": "shh-value"}, secrets_path=no_secrets)
    assert not s.demo_mode and s.client_id == "abc"
    assert "shh-value" not in repr(s) and "shh-value" not in str(s)
    with pytest.raises(ConfigurationError) as err:
        load_settings({"VISMA_CLIENT_ID": "abc"}, secrets_path=no_secrets)
    assert "VISMA_CLIENT_SECRET" in str(err.value)


def test_secrets_toml_is_read_and_the_environment_wins(tmp_path):
    secrets = tmp_path / "secrets.toml"
    secrets.write_text(
        'VISMA_CLIENT_ID = "from-file"\nVISMA_CLIENT_SECRET = "file-secret"\n'
        'VISMA_REDIRECT_URI = "https://link.example/"\nVISMA_API_URL = "https://api.example/v2/"\n'
        '[auth]\nVISMA_CLIENT_ID = "a section is Streamlit\'s own"\n'
    )
    s = load_settings({}, secrets_path=secrets)
    assert s.client_id == "from-file" and s.client_secret == "file-secret"
    assert s.redirect_uri == "https://link.example/" and s.api_url == "https://api.example/v2"
    s = load_settings({"VISMA_CLIENT_ID": "from-env", "VISMA_REDIRECT_URI": "http://localhost:9000/"},
                      secrets_path=secrets)
    assert s.client_id == "from-env" and s.client_secret == "file-secret"
    assert s.redirect_uri == "http://localhost:9000/"
    # the secrets path can come from the environment too
    assert load_settings({"STREAMLIT_SECRETS_PATH": str(secrets)}).client_id == "from-file"


def test_broken_secrets_toml_says_which_file(tmp_path):
    secrets = tmp_path / "secrets.toml"
    secrets.write_text("VISMA_CLIENT_ID = \n")
    with pytest.raises(ConfigurationError) as err:
        load_settings({}, secrets_path=secrets)
    assert str(secrets) in str(err.value)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgres://u:p@db:5432/x", "postgresql+psycopg://u:p@db:5432/x"),
        ("postgresql://u@db/x", "postgresql+psycopg://u@db/x"),
        ("postgresql+psycopg://u@db/x", "postgresql+psycopg://u@db/x"),
        ("sqlite:////tmp/x.db", "sqlite:////tmp/x.db"),
    ],
)
def test_database_url_normalisation(given, expected, no_secrets):
    assert normalize_database_url(given) == expected
    assert load_settings({"DATABASE_URL": given}, secrets_path=no_secrets).database_url == expected


def test_database_password_is_redacted():
    assert redact_url("postgresql+psycopg://user:pw@host/db") == "postgresql+psycopg://user:***@host/db"


def test_production_without_key_refuses_with_how_to_make_one(tmp_path, no_secrets):
    env = {"VISMA_CLIENT_ID": "abc", "VISMA_CLIENT_SECRET": "s", "DATA_DIR": str(tmp_path / "d")}
    s = load_settings(env, secrets_path=no_secrets)
    with pytest.raises(ConfigurationError) as err:
        resolve_encryption_key(s)
    assert "TOKEN_ENCRYPTION_KEY" in str(err.value) and "Fernet.generate_key()" in str(err.value)
    with pytest.raises(ConfigurationError):
        build_runtime(s)
    assert not (tmp_path / "d" / "eaccounting-link.db").exists()  # refused before touching the database
    with pytest.raises(ConfigurationError) as bad:
        TokenCipher("not-a-key")
    assert "Fernet.generate_key()" in str(bad.value)


def test_demo_mode_makes_a_key_only_its_owner_can_read(tmp_path, no_secrets):
    s = load_settings({"DATA_DIR": str(tmp_path / "d")}, secrets_path=no_secrets)
    key = resolve_encryption_key(s)
    path = demo_key_file(s.data_dir)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert resolve_encryption_key(s) == key  # kept, not remade
    TokenCipher(key).decrypt(TokenCipher(key).encrypt("x"))
    configured = Fernet.generate_key().decode()
    s2 = load_settings({"DATA_DIR": str(tmp_path / "d"), "TOKEN_ENCRYPTION_KEY": configured}, secrets_path=no_secrets)
    assert resolve_encryption_key(s2) == configured


_KEY_SCRIPT = (
    "import sys; from pathlib import Path; from core.db.crypto import resolve_encryption_key as r; "
    "from core.settings import load_settings as l; d = sys.argv[1]; "
    "k = r(l({'DATA_DIR': d}, secrets_path=Path(d) / 'absent.toml')); "
    "import hashlib; print(hashlib.sha256(k.encode()).hexdigest())"
)


def test_processes_starting_together_share_one_demo_key(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(PROJECT)}
    procs = [subprocess.Popen([sys.executable, "-c", _KEY_SCRIPT, str(tmp_path / "d")], stdout=subprocess.PIPE,
                              text=True, env=env, cwd=PROJECT) for _ in range(3)]
    digests = {p.communicate(timeout=30)[0].strip() for p in procs}
    assert all(p.returncode == 0 for p in procs)
    key = resolve_encryption_key(load_settings({"DATA_DIR": str(tmp_path / "d")}, secrets_path=tmp_path / "x.toml"))
    assert digests == {hashlib.sha256(key.encode()).hexdigest()}


def test_refresh_token_lifetime_defaults_to_30_days_and_reads_env_and_secrets(tmp_path, no_secrets):
    from core.settings import configured_refresh_token_lifetime_days

    assert load_settings({}, secrets_path=no_secrets).refresh_token_lifetime_days == 30
    assert configured_refresh_token_lifetime_days({}, secrets_path=no_secrets) == 30
    secrets = tmp_path / "secrets.toml"
    secrets.write_text("VISMA_REFRESH_TOKEN_LIFETIME_DAYS = 90\n")
    assert load_settings({}, secrets_path=secrets).refresh_token_lifetime_days == 90
    assert configured_refresh_token_lifetime_days({}, secrets_path=secrets) == 90
    env = {"VISMA_REFRESH_TOKEN_LIFETIME_DAYS": "0"}  # unknown: no deadline; the environment wins
    assert load_settings(env, secrets_path=secrets).refresh_token_lifetime_days == 0
    assert configured_refresh_token_lifetime_days(env, secrets_path=secrets) == 0


@pytest.mark.parametrize("value", ["-1", "thirty", "3651", "1.5"])
def test_refresh_token_lifetime_must_be_whole_days(no_secrets, value):
    with pytest.raises(ConfigurationError) as err:
        load_settings({"VISMA_REFRESH_TOKEN_LIFETIME_DAYS": value}, secrets_path=no_secrets)
    assert "VISMA_REFRESH_TOKEN_LIFETIME_DAYS" in str(err.value) and "0 to 3650" in str(err.value)


def test_sqlite_engine_has_wal_busy_timeout_and_foreign_keys(tmp_path):
    import sqlalchemy as sa

    from core.db.engine import make_engine, migrate

    engine = make_engine(f"sqlite:///{tmp_path / 'new-folder' / 't.db'}")  # the folder is created
    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 10000
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        migrate(engine)
        with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:  # a token of an account that doesn't exist
            conn.exec_driver_sql(
                "INSERT INTO account_token (account_id, access_token_enc, expires_at, version, updated_at) "
                "VALUES (999, 'x', '2026-01-01 00:00:00', 1, '2026-01-01 00:00:00')")
    finally:
        engine.dispose()


@pytest.mark.parametrize("url", ["nonsense://u:pw-Secret-9@db/x", "no url at all", "postgresql+nodriver://u@db/x"])
def test_a_database_url_that_cannot_work_is_a_configuration_error(url):
    from core.db.engine import make_engine

    with pytest.raises(ConfigurationError) as err:
        make_engine(url)
    assert "DATABASE_URL" in str(err.value) and "pw-Secret-9" not in str(err.value)


def test_an_unreachable_database_says_what_to_check_without_the_password():
    from core.db.engine import DatabaseUnavailableError, make_engine, migrate

    engine = make_engine("postgresql://app:pw-Secret-7@127.0.0.1:1/links")
    with pytest.raises(DatabaseUnavailableError) as err:
        migrate(engine)
    assert isinstance(err.value, ConfigurationError)
    message = str(err.value)
    assert "127.0.0.1:1/links cannot be used" in message and "Connection refused" in message
    assert "DATABASE_URL" in message and "pw-Secret-7" not in message and "SELECT" not in message


def test_demo_key_file_made_readable_by_others_is_tightened(tmp_path, no_secrets):
    s = load_settings({"DATA_DIR": str(tmp_path / "d")}, secrets_path=no_secrets)
    key = resolve_encryption_key(s)
    path = demo_key_file(s.data_dir)
    path.chmod(0o644)
    assert resolve_encryption_key(s) == key
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_demo_mode_in_a_data_folder_that_cannot_be_written_says_so(no_secrets):
    s = load_settings({"DATA_DIR": "/proc/no-such-folder/data"}, secrets_path=no_secrets)
    with pytest.raises(ConfigurationError) as err:
        resolve_encryption_key(s)
    assert "DATA_DIR" in str(err.value) and "TOKEN_ENCRYPTION_KEY" in str(err.value)


def test_data_dir_and_database_url_from_secrets_toml(tmp_path):
    secrets = tmp_path / "secrets.toml"
    secrets.write_text(f'DATA_DIR = "{tmp_path / "from-file"}"\nTOKEN_ENCRYPTION_KEY = "k"\n')
    s = load_settings({}, secrets_path=secrets)
    assert s.data_dir == tmp_path / "from-file" and s.token_encryption_key == "k"
    assert s.database_url == f"sqlite:///{tmp_path / 'from-file' / 'eaccounting-link.db'}"
    secrets.write_text('DATABASE_URL = "postgres://u:p@db/x"\n')
    assert load_settings({}, secrets_path=secrets).database_url == "postgresql+psycopg://u:p@db/x"

"""Encryption at rest: no token (nor the PKCE verifier) is readable in the database file or in PostgreSQL's rows."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import sqlalchemy as sa
from sqlmodel import Session, select

from core.accounts.authorization import start_authorization
from core.accounts.records import get_account
from core.accounts.tokens import token_provider
from core.db.models import AccountToken, OAuthState
from tests.support.runtime import authorize


def _secrets(rt) -> list[str]:
    with Session(rt.engine) as s:
        rows = s.exec(select(AccountToken)).all()
    out = []
    for row in rows:
        access = rt.cipher.decrypt(row.access_token_enc)
        refresh = rt.cipher.decrypt(row.refresh_token_enc)
        out += [access, refresh, access.split(".")[-1]]  # the whole JWT and its signature part
    return out


def _all_rows_as_text(rt) -> str:
    metadata = sa.MetaData()
    metadata.reflect(bind=rt.engine)
    chunks = []
    with rt.engine.connect() as conn:
        for table in metadata.sorted_tables:
            for row in conn.execute(sa.select(table)):
                chunks.append(" ".join(str(v) for v in row))
    return "\n".join(chunks)


def test_tokens_and_verifier_are_encrypted_at_rest(rt):
    authorize(rt, "a", "Bakkerij De Gouden Korst B.V.")
    authorize(rt, "b", "Transportbedrijf Visser B.V.")
    url = start_authorization(rt, "a", actor="test")  # a pending state: its verifier is stored too
    state = parse_qs(urlsplit(url).query)["state"][0]
    with Session(rt.engine) as s:
        verifier = rt.cipher.decrypt(s.get(OAuthState, state).code_verifier_enc)
    secrets = [*_secrets(rt), verifier]
    assert len(secrets) == 7 and all(len(x) > 20 for x in secrets)

    text = _all_rows_as_text(rt)
    assert "gAAAA" in text  # the Fernet ciphertexts are there
    for secret in secrets:
        assert secret not in text

    if rt.engine.dialect.name == "sqlite":
        db_file = Path(rt.engine.url.database)
        raw = b"".join(p.read_bytes() for p in db_file.parent.glob(db_file.name + "*"))  # the file, -wal and -shm
        assert b"gAAAA" in raw
        for secret in secrets:
            assert secret.encode() not in raw


def test_wrong_key_cannot_read_tokens(rt):
    from cryptography.fernet import Fernet

    from core.db.crypto import TokenCipher, TokenDecryptionError

    authorize(rt, "a", "Bakkerij De Gouden Korst B.V.")
    with Session(rt.engine) as s:
        row = s.exec(select(AccountToken)).one()
    other = TokenCipher(Fernet.generate_key().decode())
    try:
        other.decrypt(row.access_token_enc)
    except TokenDecryptionError as exc:
        assert "authorize the account again" in str(exc)
    else:  # pragma: no cover
        raise AssertionError("a token decrypted with another key")


def test_a_changed_key_is_explained_not_unexpected(rt):
    """With another TOKEN_ENCRYPTION_KEY the account cannot be used; the user is told to restore the key or
    authorize again (a ServiceError with the re-authorization entry), never an unexpected error."""
    from dataclasses import replace

    from cryptography.fernet import Fernet

    from core.db.crypto import TokenCipher
    from core.errors import ServiceError

    authorize(rt, "a", "Bakkerij De Gouden Korst B.V.")
    other = replace(rt, cipher=TokenCipher(Fernet.generate_key().decode()))
    provider = token_provider(other, get_account(rt, "a").id)
    try:
        provider(False)
    except ServiceError as exc:
        assert exc.entry_id == "reauthorize-needed" and "TOKEN_ENCRYPTION_KEY" in exc.message
    else:  # pragma: no cover
        raise AssertionError("a token decrypted with another key")


def _with_another_key(rt):
    from dataclasses import replace

    from cryptography.fernet import Fernet

    from core.db.crypto import TokenCipher

    return replace(rt, cipher=TokenCipher(Fernet.generate_key().decode()))


def test_a_sender_with_another_key_stops_before_any_run_is_touched(rt, sandbox):
    """Started with another valid TOKEN_ENCRYPTION_KEY, a sender used to fail every pending run as 're-authorization
    needed' for good. Now it is a configuration error that names the key, and every run is left as it was."""
    import pytest

    from core import services
    from core.settings import ConfigurationError
    from tests.support.export import setup_company

    setup = setup_company(rt, periods=(1, 2))
    other = _with_another_key(rt)
    for send in (lambda: services.send_pending(other, actor="t"), lambda: services.send_run(other, setup.run_ids[0],
                                                                                             actor="t"),
                 lambda: services.run_worker(other, actor="t", once=True)):
        with pytest.raises(ConfigurationError) as refused:
            send()
        assert "TOKEN_ENCRYPTION_KEY" in str(refused.value) and "No run was touched" in str(refused.value)
    assert {r.status for r in services.list_runs(rt)} == {"not_sent"}
    assert services.send_pending(rt, actor="t").sent == 2  # the right key back: everything goes


def test_the_cli_says_the_key_is_wrong_and_exits_1(rt, sandbox):
    from typer.testing import CliRunner

    from core.cli.common import use_runtime
    from core.cli.main import app
    from tests.support.export import setup_company

    setup_company(rt, periods=(1,))
    with use_runtime(_with_another_key(rt)):
        result = CliRunner().invoke(app, ["export", "--pending", "--json"])
    assert result.exit_code == 1
    assert '"code": "configuration"' in result.stdout and "TOKEN_ENCRYPTION_KEY" in result.stdout

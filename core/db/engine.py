"""Database engine, sessions and migrations: SQLite by default (WAL, busy timeout, foreign keys on), PostgreSQL
through ``DATABASE_URL``. One engine per process; one short session per unit of work."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session, create_engine

from core.db.files import private_file, private_folder
from core.settings import ConfigurationError, redact_url

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
_migrate_lock = threading.Lock()
# A fixed key for PostgreSQL's advisory lock, so that two processes starting at once migrate one after the other.
_PG_MIGRATION_LOCK_KEY = 0x4541_4C4B


class DatabaseUnavailableError(ConfigurationError):
    """The database of ``DATABASE_URL`` cannot be reached or opened; the message says what to check.

    A ``ConfigurationError``: the dashboard shows it as a setup problem and the CLI exits 1 with it, never a traceback.
    """


def describe_database_error(exc: BaseException, url: str | sa.engine.URL) -> str:
    """Why the database could not be used, in words, without the password and without any SQL or parameters.

    Only the driver's first line is quoted (``Connection refused``, ``password authentication failed``, ``unable to
    open database file``): SQLAlchemy's own text carries the statement and its parameters.
    """
    shown_url = url.render_as_string(hide_password=True) if isinstance(url, sa.engine.URL) else redact_url(str(url))
    password = url.password if isinstance(url, sa.engine.URL) else _password_of(str(url))
    driver = getattr(exc, "orig", None) or exc
    first = (str(driver).strip().splitlines() or [""])[0][:300]
    if password:
        first = first.replace(str(password), "***")
    said = f" ({type(driver).__name__}: {first})" if first else f" ({type(driver).__name__})"
    lowered = first.lower()
    if any(words in lowered for words in _DAMAGED):
        return (f"The database at {shown_url} is damaged or is not an eAccounting Link database{said}. Restore it "
                "from the last backup (docs/operations.md), or point DATABASE_URL at the right database.")
    if any(words in lowered for words in _FULL):
        return (f"The disk that holds the database at {shown_url} is full or failing{said}. Free space on it "
                "(df -h shows how much is left) and try again; nothing was half-written.")
    if shown_url.startswith("sqlite"):
        check = "can this user read and write the database file and its folder (DATA_DIR)?"
    else:
        check = ("is the server running and reachable from here, are the user name, password and database name right, "
                 "may this user connect?")
    return f"The database at {shown_url} cannot be used{said}. Check DATABASE_URL: {check}"


_DAMAGED = ("file is not a database", "malformed", "not a database", "file is encrypted")
_FULL = ("disk is full", "disk i/o error", "no space left")


def is_database_failure(exc: BaseException) -> bool:
    """The database itself failed (unreachable, gone away, damaged, disk full): a driver-level failure that
    ``describe_database_error`` explains. Errors about the data (integrity, values, SQL) are not this."""
    if isinstance(exc, sa.exc.IntegrityError | sa.exc.DataError | sa.exc.ProgrammingError):
        return False
    return isinstance(exc, sa.exc.DBAPIError | sa.exc.InterfaceError)


def _password_of(url: str) -> str | None:
    try:
        return sa.engine.make_url(url).password
    except Exception:
        return None


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def make_engine(url: str, **kwargs) -> Engine:
    """An engine for ``url``; SQLite files get their folder created and the pragmas above on every connection.

    A URL SQLAlchemy cannot use, or a SQLite folder that cannot be created, is a ``ConfigurationError`` that names
    ``DATABASE_URL`` (without its password), not a driver's exception.
    """
    try:
        if url.startswith("sqlite"):
            db_path = sa.engine.make_url(url).database
            if db_path and db_path != ":memory:":
                try:
                    private_folder(Path(db_path).parent)
                except OSError as exc:
                    raise ConfigurationError(
                        f"The folder of the SQLite database {db_path} cannot be created ({type(exc).__name__}). Set "
                        "DATA_DIR (or DATABASE_URL) to a place this user can write."
                    ) from None
            engine = create_engine(url, connect_args={"timeout": 10}, **kwargs)
            event.listen(engine, "connect", _sqlite_pragmas)
            if db_path and db_path != ":memory:":
                event.listen(engine, "connect", lambda *_: private_file(Path(db_path)))
            return engine
        kwargs.setdefault("pool_pre_ping", True)
        kwargs.setdefault("pool_size", 10)
        kwargs.setdefault("max_overflow", 20)
        return create_engine(url, **kwargs)
    except sa.exc.ArgumentError as exc:  # also NoSuchModuleError: an unknown scheme or driver
        raise ConfigurationError(
            f"DATABASE_URL '{redact_url(url)}' is not a database URL eAccounting Link can use "
            f"({type(exc).__name__}). Use sqlite:////absolute/path/file.db, or "
            "postgresql://user:password@host:5432/database for PostgreSQL; leave it unset for the SQLite file in "
            "the data folder."
        ) from None


def alembic_config(engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%"))
    return cfg


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest migration (``alembic upgrade head``); safe when processes start together.

    A database that cannot be reached raises ``DatabaseUnavailableError`` (what to check, no password)."""
    with _migrate_lock, _connect(engine) as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(sa.text("SELECT pg_advisory_lock(:k)"), {"k": _PG_MIGRATION_LOCK_KEY})
            connection.commit()
        try:
            cfg = alembic_config(engine)
            cfg.attributes["connection"] = connection
            command.upgrade(cfg, "head")
            connection.commit()
        finally:
            if connection.dialect.name == "postgresql":
                connection.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": _PG_MIGRATION_LOCK_KEY})
                connection.commit()


def _connect(engine: Engine) -> sa.Connection:
    try:
        return engine.connect()
    except sa.exc.DBAPIError as exc:
        if not is_database_failure(exc):
            raise
        raise DatabaseUnavailableError(describe_database_error(exc, engine.url)) from None


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A session that commits on success and rolls back on error (nothing half-written)."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise

"""The Alembic migrations are the schema: they must produce exactly the tables the models declare."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlmodel import SQLModel

import core.db.models  # noqa: F401  (registers every table)
from core.db.engine import MIGRATIONS_DIR, alembic_config, migrate


def test_migrated_schema_matches_the_models(engine):
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), SQLModel.metadata)
    assert diff == [], f"models and migrations differ; add a migration: {diff}"


def test_one_head_and_migrate_is_idempotent(engine):
    heads = ScriptDirectory.from_config(alembic_config(engine)).get_heads()
    assert len(heads) == 1, f"several migration heads {heads}: merge them"
    migrate(engine)  # a second start must not fail or change anything
    assert MIGRATIONS_DIR.is_dir()


def test_0004_fills_reauthorize_by_of_accounts_authorized_before_it(engine, monkeypatch):
    """Accounts authorized before ``reauthorize_by`` existed get authorized_at + the configured lifetime."""
    from datetime import UTC, datetime, timedelta

    import sqlalchemy as sa
    from alembic import command

    from core.db.models import Account

    cfg = alembic_config(engine)
    authorized_at = datetime(2026, 11, 1, 9, 30, tzinfo=UTC)
    monkeypatch.setenv("VISMA_REFRESH_TOKEN_LIFETIME_DAYS", "45")
    with engine.connect() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0003_chart_cache")
        conn.commit()
        account = sa.table("account", sa.column("name"), sa.column("status"), sa.column("authorized_at"),
                           sa.column("created_at"), sa.column("updated_at"))
        conn.execute(sa.insert(account), [
            {"name": n, "status": s, "authorized_at": a, "created_at": authorized_at, "updated_at": authorized_at}
            for n, s, a in (("old", "authorized", authorized_at), ("never", "not_authorized", None))])
        conn.commit()
    migrate(engine)
    with engine.connect() as conn:
        got = dict(conn.execute(sa.select(Account.name, Account.reauthorize_by)).all())
    assert got == {"old": authorized_at + timedelta(days=45), "never": None}

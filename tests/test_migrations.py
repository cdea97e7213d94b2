"""The Alembic migrations are the schema: they must produce exactly the tables the models declare."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlmodel import SQLModel

import core.models  # noqa: F401  (registers every table)
from core.db import MIGRATIONS_DIR, alembic_config, migrate


def test_migrated_schema_matches_the_models(engine):
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), SQLModel.metadata)
    assert diff == [], f"models and migrations differ; add a migration: {diff}"


def test_one_head_and_migrate_is_idempotent(engine):
    heads = ScriptDirectory.from_config(alembic_config(engine)).get_heads()
    assert len(heads) == 1, f"several migration heads {heads}: merge them"
    migrate(engine)  # a second start must not fail or change anything
    assert MIGRATIONS_DIR.is_dir()

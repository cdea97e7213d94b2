"""journal_line amounts stored exactly as imported: NUMERIC(22, 10) on PostgreSQL, decimal text on SQLite

Numeric(16, 4) rounded six-decimal percentage splits to four decimals on the way in (and SQLite kept them as binary
floats), so a run that balanced on import could be refused as unbalanced when its voucher was built. The new columns
hold every value the old ones did (12 digits before the point) plus 10 decimals; see ``core.db.models.ExactDecimal``.
SQLite stores the value's decimal text (a VARCHAR, TEXT affinity): batch mode copies the table and SQLite turns each
old float into its text (at most 14 significant digits were stored, so the text is the value written).

Revision ID: 0006_journal_amount_precision
Revises: 0005_rate_limit_slot
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_journal_amount_precision"
down_revision = "0005_rate_limit_slot"
branch_labels = None
depends_on = None

_OLD = {"debit": (sa.Numeric(16, 4), False), "credit": (sa.Numeric(16, 4), False),
        "percentage": (sa.Numeric(7, 4), True)}
_NEW_PG = {"debit": sa.Numeric(22, 10), "credit": sa.Numeric(22, 10), "percentage": sa.Numeric(13, 10)}
_NEW_SQLITE = {"debit": sa.String(24), "credit": sa.String(24), "percentage": sa.String(15)}


def _new_types() -> dict:
    return _NEW_SQLITE if op.get_bind().dialect.name == "sqlite" else _NEW_PG


def upgrade() -> None:
    new = _new_types()
    with op.batch_alter_table("journal_line", schema=None) as batch_op:
        for name, (old_type, nullable) in _OLD.items():
            batch_op.alter_column(name, existing_type=old_type, type_=new[name], existing_nullable=nullable)


def downgrade() -> None:
    new = _new_types()
    with op.batch_alter_table("journal_line", schema=None) as batch_op:
        for name, (old_type, nullable) in _OLD.items():
            batch_op.alter_column(name, existing_type=new[name], type_=old_type, existing_nullable=nullable)

"""rate_limit_slot: voucher POSTs granted per OAuth client, URL and time bucket (fleet-wide pacing, core.visma.pacing)

Revision ID: 0005_rate_limit_slot
Revises: 0004_reauthorize_by
Create Date: 2026-11-24
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel.sql.sqltypes


revision = "0005_rate_limit_slot"
down_revision = "0004_reauthorize_by"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rate_limit_slot",
        sa.Column("client_id", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("path_key", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("bucket_start_ms", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("used", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("client_id", "path_key", "bucket_start_ms"),
    )


def downgrade() -> None:
    op.drop_table("rate_limit_slot")

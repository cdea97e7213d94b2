"""visma chart cache (fiscal years, accounts, cost centres per Visma company)

Revision ID: 0003_chart_cache
Revises: 0002
Create Date: 2026-11-24
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel.sql.sqltypes


revision = "0003_chart_cache"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "visma_chart_cache",
        sa.Column("visma_company_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.Column("fetched_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("visma_company_id"),
    )


def downgrade() -> None:
    op.drop_table("visma_chart_cache")

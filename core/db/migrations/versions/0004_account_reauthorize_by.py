"""account.reauthorize_by: when the last authorization's refresh token is assumed to die

Accounts authorized before this revision get ``authorized_at`` + the configured lifetime
(``VISMA_REFRESH_TOKEN_LIFETIME_DAYS``, default 30 days; 0 leaves them empty), the same value a new authorization gets.

Revision ID: 0004_reauthorize_by
Revises: 0003_chart_cache
Create Date: 2026-11-24
"""

from datetime import timedelta

from alembic import op
import sqlalchemy as sa
import sqlmodel.sql.sqltypes


revision = "0004_reauthorize_by"
down_revision = "0003_chart_cache"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("account", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reauthorize_by", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))

    from core.settings import configured_refresh_token_lifetime_days

    days = configured_refresh_token_lifetime_days()
    if not days:
        return
    account = sa.table(
        "account",
        sa.column("id", sa.Integer()),
        sa.column("status", sa.String()),
        sa.column("authorized_at", sqlmodel.sql.sqltypes.UTCDateTime()),
        sa.column("reauthorize_by", sqlmodel.sql.sqltypes.UTCDateTime()),
    )
    bind = op.get_bind()
    rows = bind.execute(
        sa.select(account.c.id, account.c.authorized_at)
        .where(account.c.status == "authorized", account.c.authorized_at.is_not(None))
    ).all()
    for account_id, authorized_at in rows:
        bind.execute(
            sa.update(account).where(account.c.id == account_id)
            .values(reauthorize_by=authorized_at + timedelta(days=days))
        )


def downgrade() -> None:
    with op.batch_alter_table("account", schema=None) as batch_op:
        batch_op.drop_column("reauthorize_by")

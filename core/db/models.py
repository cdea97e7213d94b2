"""The database tables (SQLModel). Alembic migrations in ``core/db/migrations`` own the schema.

Times are timezone-aware UTC datetimes (``utcnow()``); SQLModel's ``UTCDateTime`` stores them alike on SQLite and
PostgreSQL and refuses naive ones.
Money columns are ``Numeric(14, 2)``: amounts arrive as ``Decimal`` and are never floats in the database. Journal line
amounts keep every decimal they were imported with (``ExactDecimal``): the voucher rounds to cents once.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    """The current time, timezone-aware in UTC (the form every timestamp column takes)."""
    return datetime.now(UTC)


def _places(value: Decimal) -> tuple[int, int]:
    """(digits before the point, decimals) of a finite Decimal, trailing zeros not counted: 1234.5000 -> (4, 1)."""
    _, digits, exponent = value.as_tuple()
    if not any(digits):
        return 0, 0
    n = len(digits)
    while exponent < 0 and digits[n - 1] == 0:
        n -= 1
        exponent += 1
    return max(n + exponent, 0), max(-exponent, 0)


class ExactDecimal(sa.types.TypeDecorator):
    """A ``Decimal`` column that gives back exactly the value it was given, on SQLite and PostgreSQL, or refuses it.

    ``ExactDecimal(precision, scale)`` holds up to ``precision - scale`` digits before the point and ``scale`` after.

    * PostgreSQL: ``NUMERIC(precision, scale)``, exact, but it would round extra decimals silently.
    * SQLite has no decimal type: SQLAlchemy's ``Numeric`` goes through a binary float there (``Numeric(22, 10)``
      gives 1234567890.123457 back as 1234567890.1234569550), and a NUMERIC column turns number-like text into a
      float too. So on SQLite the value is stored as its decimal text in a ``VARCHAR`` column (TEXT affinity keeps
      text as written) and read back with ``Decimal(text)``: exact. Amounts are compared and summed in Python, never
      in SQL (text compares as text there).
    * Both dialects refuse, on write, a value with more decimals or more integer digits than the column holds
      (``ValueError``): nothing is ever rounded on the way in. Importers ask ``refusal(value)`` first, so a user
      is told which row and value instead.
    """

    impl = sa.Numeric
    cache_ok = True

    def __init__(self, precision: int, scale: int) -> None:
        super().__init__(precision=precision, scale=scale, asdecimal=True)
        self.precision = precision
        self.scale = scale

    def load_dialect_impl(self, dialect: sa.Dialect) -> sa.types.TypeEngine:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(sa.String(self.precision + 2))  # digits, point and a sign
        return dialect.type_descriptor(sa.Numeric(self.precision, self.scale, asdecimal=True))

    def refusal(self, value: Decimal) -> str | None:
        """Why ``value`` cannot be stored exactly in this column, or None when it can."""
        if not value.is_finite():
            return f"{value} is not a number"
        _, digits, exponent = value.as_tuple()
        if exponent >= -self.scale and len(digits) + exponent <= self.precision - self.scale:
            return None  # the common case, without counting trailing zeros (bulk imports call this per amount)
        integer_digits, decimals = _places(value)
        if decimals > self.scale:
            return f"{value:f} has {decimals} decimals; at most {self.scale} can be stored"
        if integer_digits > self.precision - self.scale:
            return (f"{value:f} has {integer_digits} digits before the decimal point; at most "
                    f"{self.precision - self.scale} can be stored")
        return None

    def process_bind_param(self, value: Any, dialect: sa.Dialect) -> Any:
        if value is None:
            return None
        if isinstance(value, float | bool):
            raise TypeError(f"{value!r}: an exact decimal column takes Decimal, int or str, never a float")
        amount = value if isinstance(value, Decimal) else Decimal(value)
        problem = self.refusal(amount)
        if problem:
            raise ValueError(f"cannot be stored exactly: {problem}")
        if dialect.name != "sqlite":
            return amount
        text = format(amount, "f")
        if "." in text:
            text = text.rstrip("0").rstrip(".")
        return "0" if text in ("", "-0") else text

    def process_result_value(self, value: Any, dialect: sa.Dialect) -> Decimal | None:
        if value is None or isinstance(value, Decimal):
            return value
        return Decimal(value if isinstance(value, str | int) else repr(value))


# Journal line amounts: 12 digits before the point (what Numeric(16, 4) held, so migration 0006 never refuses a stored
# line; imports stop at 10, Visma's limit per row) and 10 after: a cent amount split by a percentage with 6 decimals
# (2 + 6 + 2 decimals) is held exactly. Percentages: at most 100, 10 decimals. The import checks against these columns.
JOURNAL_AMOUNT = ExactDecimal(22, 10)
JOURNAL_PERCENTAGE = ExactDecimal(13, 10)


# Account status values (DESIGN.md: "Account").
NOT_AUTHORIZED = "not_authorized"
AUTHORIZED = "authorized"
NEEDS_REAUTHORIZATION = "needs_reauthorization"
ACCOUNT_STATUSES = (NOT_AUTHORIZED, AUTHORIZED, NEEDS_REAUTHORIZATION)

# Export status values (DESIGN.md: "Export").
NOT_SENT = "not_sent"
SENDING = "sending"
UNCONFIRMED = "unconfirmed"  # posted (or maybe posted) but Visma's answer was lost: reconciled by its marker
SENT = "sent"
FAILED = "failed"
EXPORT_STATUSES = (NOT_SENT, SENDING, UNCONFIRMED, SENT, FAILED)


class Account(SQLModel, table=True):
    """One authorization of one Visma user for one Visma company, named freely by the user."""

    __tablename__ = "account"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100, sa_column_kwargs={"unique": True}, nullable=False)
    status: str = Field(default=NOT_AUTHORIZED, max_length=32, index=True)
    status_reason: str | None = Field(default=None, max_length=500)
    status_entry_id: str | None = Field(default=None, max_length=64)
    visma_company_id: str | None = Field(default=None, max_length=64, index=True)
    visma_company_name: str | None = Field(default=None, max_length=200)
    scope: str | None = Field(default=None, max_length=500)
    token_expires_at: datetime | None = None
    last_refreshed_at: datetime | None = None
    authorized_at: datetime | None = None
    # When the refresh token of the last authorization is assumed to die (authorized_at + the configured absolute
    # lifetime, VISMA_REFRESH_TOKEN_LIFETIME_DAYS); refreshes do not move it. None: lifetime unknown or not authorized.
    reauthorize_by: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class AccountToken(SQLModel, table=True):
    """The encrypted tokens of one account, with the single-flight refresh lease.

    ``version`` grows on every write, ``refresh_lease_until``/``refresh_lease_owner`` let exactly one thread or
    process refresh at a time (a conditional UPDATE takes the lease), across machines sharing PostgreSQL.
    """

    __tablename__ = "account_token"

    account_id: int = Field(foreign_key="account.id", primary_key=True, ondelete="CASCADE")
    access_token_enc: str = Field(sa_type=sa.Text)
    refresh_token_enc: str | None = Field(default=None, sa_type=sa.Text)
    expires_at: datetime
    version: int = Field(default=1)
    refresh_lease_owner: str | None = Field(default=None, max_length=100)
    refresh_lease_until: datetime | None = None
    updated_at: datetime = Field(default_factory=utcnow)


class OAuthState(SQLModel, table=True):
    """A pending authorization: the ``state`` sent to Visma and the PKCE verifier, kept server-side for 10 minutes.

    The browser comes back in a new Streamlit session, so nothing of this may live in session state.
    """

    __tablename__ = "oauth_state"

    state: str = Field(primary_key=True, max_length=128)
    account_id: int = Field(foreign_key="account.id", index=True, ondelete="CASCADE")
    code_verifier_enc: str = Field(sa_type=sa.Text)
    redirect_uri: str = Field(max_length=500)
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    used_at: datetime | None = None


class PayrollCompany(SQLModel, table=True):
    """A company of the payroll system (its code is the payroll system's own identifier)."""

    __tablename__ = "payroll_company"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=64, sa_column_kwargs={"unique": True}, nullable=False)
    name: str = Field(max_length=200)
    source: str = Field(default="import", max_length=32)
    created_at: datetime = Field(default_factory=utcnow)


class CompanyMapping(SQLModel, table=True):
    """Payroll company ↔ the Visma company of one authorized account (one mapping per payroll company)."""

    __tablename__ = "company_mapping"

    id: int | None = Field(default=None, primary_key=True)
    payroll_company_id: int = Field(
        foreign_key="payroll_company.id", sa_column_kwargs={"unique": True}, nullable=False, ondelete="CASCADE"
    )
    account_id: int = Field(foreign_key="account.id", index=True, ondelete="RESTRICT")
    visma_company_id: str | None = Field(default=None, max_length=64)
    auto_send: bool = Field(default=False)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class LedgerMapping(SQLModel, table=True):
    """Payroll general-ledger account → Visma account number (identity when absent)."""

    __tablename__ = "ledger_mapping"
    __table_args__ = (sa.UniqueConstraint("mapping_id", "payroll_account"),)

    id: int | None = Field(default=None, primary_key=True)
    mapping_id: int = Field(foreign_key="company_mapping.id", index=True, ondelete="CASCADE")
    payroll_account: str = Field(max_length=32)
    visma_account_number: int


class CostCenterMapping(SQLModel, table=True):
    """Payroll cost centre code → Visma cost-centre item (``CostCenterItemId1``)."""

    __tablename__ = "cost_center_mapping"
    __table_args__ = (sa.UniqueConstraint("mapping_id", "payroll_cost_center"),)

    id: int | None = Field(default=None, primary_key=True)
    mapping_id: int = Field(foreign_key="company_mapping.id", index=True, ondelete="CASCADE")
    payroll_cost_center: str = Field(max_length=64)
    visma_cost_center_item_id: str = Field(max_length=64)


class PayrollRun(SQLModel, table=True):
    """A processed payroll run; its export state lives on the same row so one conditional UPDATE claims it."""

    __tablename__ = "payroll_run"
    __table_args__ = (
        sa.UniqueConstraint("company_id", "year", "period", "run_number"),
        sa.Index("ix_payroll_run_status_company", "status", "company_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    company_id: int = Field(foreign_key="payroll_company.id", index=True, ondelete="CASCADE")
    year: int
    period: int
    run_number: int = Field(default=1)
    processed_at: datetime
    source: str = Field(default="import", max_length=32)
    total_debit: Decimal = Field(default=Decimal("0"), sa_type=sa.Numeric(14, 2))
    total_credit: Decimal = Field(default=Decimal("0"), sa_type=sa.Numeric(14, 2))
    line_count: int = Field(default=0)
    # export state
    status: str = Field(default=NOT_SENT, max_length=16)
    marker: str | None = Field(default=None, max_length=64, sa_column_kwargs={"unique": True})
    generation: int = Field(default=1)
    claimed_by: str | None = Field(default=None, max_length=100)
    claimed_at: datetime | None = None
    voucher_id: str | None = Field(default=None, max_length=64)
    voucher_number: str | None = Field(default=None, max_length=32)
    visma_company_id: str | None = Field(default=None, max_length=64)
    sent_at: datetime | None = None
    error_message: str | None = Field(default=None, sa_type=sa.Text)
    error_entry_id: str | None = Field(default=None, max_length=64)
    attempt_count: int = Field(default=0)
    updated_at: datetime = Field(default_factory=utcnow)


class JournalLineRow(SQLModel, table=True):
    """One line of a run's payroll journal, as the payroll system produced it."""

    __tablename__ = "journal_line"

    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="payroll_run.id", index=True, ondelete="CASCADE")
    ledger_account: str = Field(max_length=32)
    component: str = Field(default="", max_length=200)
    description: str = Field(default="", max_length=200)
    debit: Decimal = Field(default=Decimal("0"), sa_type=JOURNAL_AMOUNT)  # exactly as imported; see ExactDecimal
    credit: Decimal = Field(default=Decimal("0"), sa_type=JOURNAL_AMOUNT)
    department: str | None = Field(default=None, max_length=64)
    cost_center: str | None = Field(default=None, max_length=64)
    cost_unit: str | None = Field(default=None, max_length=64)
    employee: str | None = Field(default=None, max_length=200)
    percentage: Decimal | None = Field(default=None, sa_type=JOURNAL_PERCENTAGE)


class ExportAttempt(SQLModel, table=True):
    """Every attempt to post (or reconcile) a run's voucher: when, who, how long, and what Visma answered."""

    __tablename__ = "export_attempt"

    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="payroll_run.id", index=True, ondelete="CASCADE")
    generation: int = Field(default=1)
    started_at: datetime = Field(default_factory=utcnow)
    duration_ms: int = Field(default=0)
    actor: str = Field(default="system", max_length=100)
    kind: str = Field(default="post", max_length=16)  # post | reconcile | preflight
    outcome: str = Field(max_length=16)  # sent | failed | unknown | reconciled
    http_status: int | None = None
    visma_error_code: int | None = None
    visma_error_id: str | None = Field(default=None, max_length=64)
    error_message: str | None = Field(default=None, sa_type=sa.Text)
    entry_id: str | None = Field(default=None, max_length=64)
    request_json: str | None = Field(default=None, sa_type=sa.Text)
    response_text: str | None = Field(default=None, sa_type=sa.Text)


class AuditEvent(SQLModel, table=True):
    """An audit-log row: who did what to which account, mapping or run (never a token or a secret)."""

    __tablename__ = "audit_event"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, index=True)
    actor: str = Field(default="system", max_length=100)
    action: str = Field(max_length=64, index=True)
    account_id: int | None = Field(default=None, index=True)
    run_id: int | None = Field(default=None, index=True)
    mapping_id: int | None = None
    detail: str | None = Field(default=None, sa_type=sa.Text)


class VismaChartCache(SQLModel, table=True):
    """The last chart read from one Visma company (JSON; see `Chart`)."""

    __tablename__ = "visma_chart_cache"

    visma_company_id: str = Field(primary_key=True, max_length=64)
    data: str = Field(sa_type=sa.Text)
    fetched_at: datetime = Field(default_factory=utcnow)


class RateLimitSlot(SQLModel, table=True):
    """Calls granted per (OAuth client, URL key, time bucket), shared by every process on this database.

    ``core.visma.pacing.FleetRateLimiter`` paces voucher POSTs fleet-wide with it. ``bucket_start_ms`` is the start of a
    bucket in epoch milliseconds; the row with ``bucket_start_ms = -1`` is the per-(client, key) lock row that
    serializes grants (its ``used`` counts grant attempts, nothing reads it). Buckets older than the window are pruned.
    """

    __tablename__ = "rate_limit_slot"

    client_id: str = Field(primary_key=True, max_length=100)
    path_key: str = Field(primary_key=True, max_length=100)
    bucket_start_ms: int = Field(primary_key=True, sa_type=sa.BigInteger, sa_column_kwargs={"autoincrement": False})
    used: int = Field(default=0)

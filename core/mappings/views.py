"""What the mapping services return: typed read models whose field names are the CLI's ``--json`` field names."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class MappingView:
    """A payroll company's mapping to the Visma company of an account, and what to watch out for."""

    id: int
    company: str
    company_name: str
    account: str
    account_id: int
    account_status: str
    visma_company_id: str | None
    visma_company_name: str | None
    auto_send: bool
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class AutoSendView:
    """Whether the worker sends a mapped company's runs by itself."""

    company: str
    auto_send: bool


@dataclass(frozen=True, slots=True)
class LedgerMappingRow:
    """One payroll ledger account, its Visma account and the check against the chart.

    ``check`` is ``ok``, ``unknown`` (no such account in Visma), ``inactive``, ``unmapped`` (a non-numeric payroll
    account without a row) or ``unchecked`` (Visma could not be read).
    """

    payroll_account: str
    components: str
    visma_account_number: int | None
    visma_account_name: str | None
    explicit: bool
    check: str


@dataclass(frozen=True, slots=True)
class CostCenterMappingRow:
    """One payroll cost centre and the Visma cost-centre item it goes to.

    ``check``: ``ok``, ``inactive`` (Visma refuses it: 5006), ``unknown`` (no such item) or ``unchecked``.
    """

    payroll_cost_center: str
    visma_cost_center_item_id: str | None
    visma_cost_center_short_name: str | None
    visma_cost_center_name: str | None
    explicit: bool
    check: str

"""What the accounts services return: read models, never ORM rows.

Their field names are the ``--json`` field names of ``python -m core accounts …`` (the CLI turns a dataclass into its
fields), so a field is renamed only together with that contract.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from core.db.models import AUTHORIZED, NEEDS_REAUTHORIZATION


@dataclass(frozen=True, slots=True)
class AccountView:
    """One account: its status, the Visma company it is authorized for, its token's expiry and re-authorization
    deadline, and the payroll companies mapped to it (names sorted).

    ``visma_company`` is derived, not stored: the company's name, or its id when Visma gave no name (what scripts
    show; the ``--json`` contract has carried it beside ``visma_company_name`` from the start)."""

    id: int
    name: str
    status: str
    status_reason: str | None
    status_entry_id: str | None
    visma_company_id: str | None
    visma_company_name: str | None
    visma_company: str | None = field(init=False)
    scope: str | None
    token_expires_at: datetime | None
    last_refreshed_at: datetime | None
    authorized_at: datetime | None
    reauthorize_by: datetime | None
    created_at: datetime
    mapped_companies: tuple[str, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "visma_company", self.visma_company_name or self.visma_company_id)


@dataclass(frozen=True, slots=True)
class AccountChangeView(AccountView):
    """An account after an authorization or a disconnect, with what the user should know about it (``warnings``)."""

    warnings: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class SharedCompanyWarning:
    """Two or more accounts authorized for one Visma company: the company, the accounts (sorted) and what to say."""

    visma_company_id: str
    visma_company: str
    accounts: tuple[str, ...]
    message: str


def shared_company_warnings(accounts: Iterable[AccountView]) -> list[SharedCompanyWarning]:
    """The Visma companies that more than one account is authorized for (authorized or awaiting re-authorization;
    a disconnected account no longer holds an authorization), by company name.

    The equivalent of the warning for two payroll companies mapped onto one Visma company: one Visma login for one
    company needs one account, and a second is usually a leftover or a mistake (two sets of tokens, payroll companies
    split over them), sometimes intended (two Visma users).
    """
    by_company: dict[str, list[AccountView]] = {}
    for account in accounts:
        if account.visma_company_id and account.status in (AUTHORIZED, NEEDS_REAUTHORIZATION):
            by_company.setdefault(account.visma_company_id, []).append(account)
    warnings = []
    for company_id, group in by_company.items():
        if len(group) < 2:
            continue
        names = tuple(sorted(a.name for a in group))
        company = next((a.visma_company_name for a in group if a.visma_company_name), None) or company_id
        warnings.append(SharedCompanyWarning(
            visma_company_id=company_id, visma_company=company, accounts=names,
            message=(f"Visma company {company} is authorized through {len(names)} accounts: {', '.join(names)}. "
                     "Payroll companies mapped to any of them post into the same administration; check that this "
                     "is intended, or disconnect the account you do not need."),
        ))
    return sorted(warnings, key=lambda w: w.visma_company.casefold())

"""What the accounts services return: read models, never ORM rows.

Their field names are the ``--json`` field names of ``python -m core accounts …`` (the CLI turns a dataclass into its
fields), so a field is renamed only together with that contract.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


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

"""The audit log: who did what, when, to which account, mapping or run.

Written in the same session (transaction) as the change it describes, so a change and its audit row commit together.
Details are JSON; keys that could hold a secret are dropped, so that no token, code or password ever lands here.
"""

from __future__ import annotations

import json
import re
from typing import Any

from sqlmodel import Session, col, select

from core.db.models import AuditEvent

_SECRET_KEY = re.compile(r"token|secret|password|verifier|^code$|authorization|cookie", re.IGNORECASE)


def _clean(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items() if not _SECRET_KEY.search(str(k))}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value


def record(
    session: Session,
    *,
    actor: str,
    action: str,
    account_id: int | None = None,
    run_id: int | None = None,
    mapping_id: int | None = None,
    detail: dict | None = None,
) -> AuditEvent:
    """Add an audit row to ``session`` (committed with the caller's unit of work)."""
    event = AuditEvent(
        actor=(actor or "system")[:100],
        action=action[:64],
        account_id=account_id,
        run_id=run_id,
        mapping_id=mapping_id,
        detail=json.dumps(_clean(detail), default=str, ensure_ascii=False) if detail else None,
    )
    session.add(event)
    return event


def recent(
    session: Session, *, account_id: int | None = None, action: str | None = None, limit: int = 100
) -> list[dict]:
    """The newest audit rows as plain dicts (detail parsed), newest first."""
    query = select(AuditEvent).order_by(col(AuditEvent.id).desc()).limit(limit)
    if account_id is not None:
        query = query.where(AuditEvent.account_id == account_id)
    if action is not None:
        query = query.where(AuditEvent.action == action)
    rows = session.exec(query).all()
    return [
        {
            "id": r.id,
            "at": r.at,
            "actor": r.actor,
            "action": r.action,
            "account_id": r.account_id,
            "run_id": r.run_id,
            "mapping_id": r.mapping_id,
            "detail": json.loads(r.detail) if r.detail else None,
        }
        for r in rows
    ]

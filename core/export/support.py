"""The support bundle of one run's export: everything support needs, as JSON-ready data, and nothing that opens an
account (no token, no secret): the voucher sent, Visma's answers and ErrorIds, the mapping and the catalogue entry."""

from __future__ import annotations

import json
from dataclasses import asdict

from sqlmodel import select

from core.db.engine import session_scope
from core.db.models import Account, AuditEvent, ExportAttempt, PayrollCompany, PayrollRun
from core.errors import ServiceError
from core.export.context import load_context
from core.export.views import attempt_view, iso, money
from core.payroll.store import run_label
from core.troubleshooting.catalogue import find_entry

__all__ = ["support_bundle"]


def _attempt_with_bodies(a: ExportAttempt) -> dict:
    out = asdict(attempt_view(a))
    out["request"] = json.loads(a.request_json) if a.request_json else None
    out["response"] = a.response_text
    return out


def support_bundle(rt, run_id: int) -> dict:
    """Everything support needs about one run's export, as JSON-ready data (no token, no secret)."""
    with session_scope(rt.engine) as session:
        run = session.get(PayrollRun, run_id)
        if run is None:
            raise ServiceError(f"There is no run with id {run_id}. See `runs list`.", code="run-unknown")
        company = session.get(PayrollCompany, run.company_id)
        ctx = load_context(session, company)
        account = session.get(Account, ctx.account_id) if ctx.account_id else None
        attempts = session.exec(select(ExportAttempt).where(ExportAttempt.run_id == run_id)
                                .order_by(ExportAttempt.id)).all()
        attempt_dicts = [_attempt_with_bodies(a) for a in attempts]
        audit_rows = session.exec(select(AuditEvent).where(AuditEvent.run_id == run_id).order_by(AuditEvent.id)).all()
        audit_dicts = [{"at": iso(e.at), "actor": e.actor, "action": e.action,
                        "detail": json.loads(e.detail) if e.detail else None} for e in audit_rows]
    last_post = next((a for a in reversed(attempt_dicts) if a["kind"] == "post"), None)
    last_error = next((a for a in reversed(attempt_dicts) if a["visma_error_id"] or a["error_message"]), None)
    entry = find_entry(run.error_entry_id) if run.error_entry_id else None
    return {
        "run": {
            "id": run.id, "company": company.name, "company_code": company.code,
            "label": run_label(run.year, run.period, run.run_number), "processed_at": iso(run.processed_at),
            "status": run.status, "marker": run.marker, "generation": run.generation,
            "voucher_id": run.voucher_id, "voucher_number": run.voucher_number, "sent_at": iso(run.sent_at),
            "error_message": run.error_message, "error_entry_id": run.error_entry_id,
            "attempt_count": run.attempt_count, "total_debit": str(money(run.total_debit)),
        },
        "mapping": {
            "account": ctx.account_name, "account_status": account.status if account else None,
            "visma_company_id": ctx.visma_company_id, "visma_company_name": ctx.visma_company_name,
            "auto_send": ctx.auto_send, "ledger_rows": ctx.ledger_map, "cost_center_rows": ctx.cost_center_rows,
        },
        "voucher_sent": last_post["request"] if last_post else None,
        "visma_response": last_post["response"] if last_post else None,
        "visma_error_id": last_error["visma_error_id"] if last_error else None,
        "visma_error_code": last_error["visma_error_code"] if last_error else None,
        "entry": entry.to_dict() if entry else None,
        "attempts": attempt_dicts,
        "audit": audit_dicts,
    }

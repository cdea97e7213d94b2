"""The export state machine of a run, as conditional UPDATEs on its own row (one winner, across processes).

States (``payroll_run.status``): ``not_sent`` → ``sending`` → ``sent`` | ``failed`` | ``unconfirmed``. A run is
``sending`` only while a live process holds its claim; one whose outcome is unknown (Visma did not answer, the answer
was lost, or the process that claimed it gave up or died) is ``unconfirmed`` until its marker is looked up in Visma:
found → ``sent``, certainly not there → ``failed`` (a passing Visma problem: sent again).

Every transition is a single ``UPDATE … WHERE`` that names the state it expects, so two sessions, threads, processes
or machines racing for the same run have exactly one winner — the database decides, on SQLite (one writer at a time)
and on PostgreSQL (row lock, WHERE re-checked after the other transaction commits) alike.

The claim:

* ``claimed_by`` is a token unique to one claim (host, pid, random), ``claimed_at`` the start of its **lease**.
  Finishing (``sent``/``failed``) requires ``claimed_by`` to still be ours — a fence against a sender whose lease
  was taken over.
* A claim is **stale**, and may be taken over by any sender, when its lease has expired (``claimed_at`` older than
  ``LEASE``) or when it was released as settled (``claimed_by`` NULL: its POST has certainly ended, only the
  outcome is unknown). Whoever takes a stale claim over must reconcile (look the marker up in Visma) before it may
  post.
* ``LEASE`` (15 minutes) is longer than the longest a POST can still be in flight: the client's timeouts (connect 5 s,
  read/write 20 s) over at most five tries for 429s with at most 60 s waits between them stay under 8 minutes. So
  when a lease expires, the POST made under it has ended, on our side and — for any server that answers within
  minutes — on Visma's; a reconcile that then finds nothing means nothing was posted.
"""

from __future__ import annotations

import json
import os
import socket
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from core.db import models
from core.db.engine import session_scope
from core.db.models import FAILED, NOT_SENT, SENDING, SENT, UNCONFIRMED, ExportAttempt, PayrollRun

LEASE = timedelta(minutes=15)
# Failures that are Visma's passing state, not the voucher's: retried by the worker with backoff, never the others.
TRANSIENT_ENTRIES = frozenset({"rate-limited", "visma-unavailable"})
RETRY_BASE = timedelta(minutes=1)
RETRY_MAX = timedelta(minutes=30)
RESPONSE_LIMIT = 20_000


def new_claim_token() -> str:
    """Unique per claim: which host and process hold it (shown to users), plus randomness."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:10]}"


def _settled(now: datetime, lease: timedelta):
    """SQL: no POST of this claim can still be in flight (released as settled, or its lease has run out)."""
    return sa.or_(PayrollRun.claimed_by.is_(None), PayrollRun.claimed_at.is_(None), PayrollRun.claimed_at < now - lease)


def stale_condition(now: datetime, lease: timedelta = LEASE):
    """SQL: a run a sender may take over (reconcile first, then post if its marker is not in Visma): ``unconfirmed``
    or left ``sending`` by a process that died, once no POST of it can still be in flight."""
    return sa.and_(PayrollRun.status.in_((SENDING, UNCONFIRMED)), _settled(now, lease))


def abandoned_condition(now: datetime, lease: timedelta = LEASE):
    """SQL: a ``sending`` run whose claimer gave up or died (its lease ran out without a final transition)."""
    return sa.and_(PayrollRun.status == SENDING, _settled(now, lease))


def settled_unconfirmed(now: datetime, lease: timedelta = LEASE):
    """SQL: an ``unconfirmed`` run whose marker look-up is conclusive (no POST of it can still be in flight)."""
    return sa.and_(PayrollRun.status == UNCONFIRMED, _settled(now, lease))


ABANDONED_MESSAGE = ("The process sending this run stopped before Visma's answer was recorded; the voucher may or may "
                     "not be booked. It is checked in Visma by its marker before anything is sent again.")


def release_abandoned(engine: Engine, *, now: datetime, lease: timedelta = LEASE) -> int:
    """``sending`` runs whose claimer gave up or died → ``unconfirmed`` (never left *sending*). Returns how many."""
    with session_scope(engine) as session:
        result = session.execute(
            sa.update(PayrollRun).where(abandoned_condition(now, lease))
            .values(status=UNCONFIRMED, claimed_by=None, error_message=ABANDONED_MESSAGE,
                    error_entry_id="visma-unavailable", updated_at=now)
            .execution_options(synchronize_session=False)
        )
        return result.rowcount or 0


def retry_due(updated_at: datetime | None, attempt_count: int, now: datetime) -> bool:
    """Exponential backoff for transient failures: 1, 2, 4 … 30 minutes after the last attempt."""
    if updated_at is None:
        return True
    delay = min(RETRY_BASE * (2 ** max(0, attempt_count - 1)), RETRY_MAX)
    return updated_at + delay <= now


@dataclass(frozen=True)
class Claim:
    run_id: int
    token: str
    marker: str
    generation: int
    claimed_at: datetime
    took_over: bool = False  # a stale claim: reconcile before posting


def claim(engine: Engine, run_id: int, *, token: str, marker: str, generation: int, expect: str,
          now: datetime) -> Claim | None:
    """``expect`` (not_sent or failed) → sending, if the run is still in that state and generation; else None."""
    with session_scope(engine) as session:
        result = session.execute(
            sa.update(PayrollRun)
            .where(PayrollRun.id == run_id, PayrollRun.status == expect, PayrollRun.generation == generation)
            .values(status=SENDING, claimed_by=token, claimed_at=now, marker=marker,
                    attempt_count=PayrollRun.attempt_count + 1, updated_at=now,
                    # a new attempt: the previous one's error is history (run_history), not this one's state
                    error_message=None, error_entry_id=None)
        )
        if result.rowcount != 1:
            return None
    return Claim(run_id, token, marker, generation, now)


def take_over(engine: Engine, run_id: int, *, token: str, now: datetime, lease: timedelta = LEASE) -> Claim | None:
    """Take an ``unconfirmed`` run (or a stale ``sending`` claim) over → ``sending`` (one winner); the caller
    reconciles before anything else."""
    with session_scope(engine) as session:
        result = session.execute(
            sa.update(PayrollRun)
            .where(PayrollRun.id == run_id, stale_condition(now, lease))
            .values(status=SENDING, claimed_by=token, claimed_at=now, updated_at=now)
        )
        if result.rowcount != 1:
            return None
        run = session.get(PayrollRun, run_id)
        return Claim(run_id, token, run.marker or "", run.generation, now, took_over=True)


def renew(engine: Engine, c: Claim, now: datetime) -> bool:
    """Restart the lease of a claim we hold (before a POST that follows a reconcile)."""
    with session_scope(engine) as session:
        result = session.execute(
            sa.update(PayrollRun)
            .where(PayrollRun.id == c.run_id, PayrollRun.status == SENDING, PayrollRun.claimed_by == c.token)
            .values(claimed_at=now, attempt_count=PayrollRun.attempt_count + 1, updated_at=now)
        )
        return result.rowcount == 1


@dataclass
class AttemptRecord:
    """One row of ``export_attempt`` in the making."""

    kind: str  # post | reconcile | build | lookup
    outcome: str  # sent | failed | unknown | reconciled | not_found
    started_at: datetime
    duration_ms: int = 0
    http_status: int | None = None
    visma_error_code: int | None = None
    visma_error_id: str | None = None
    error_message: str | None = None
    entry_id: str | None = None
    request_json: str | None = None
    response_text: str | None = None

    def row(self, run_id: int, generation: int, actor: str) -> ExportAttempt:
        return ExportAttempt(
            run_id=run_id, generation=generation, started_at=self.started_at, duration_ms=self.duration_ms,
            actor=actor[:100], kind=self.kind, outcome=self.outcome, http_status=self.http_status,
            visma_error_code=self.visma_error_code, visma_error_id=self.visma_error_id,
            error_message=self.error_message, entry_id=self.entry_id, request_json=self.request_json,
            response_text=(self.response_text or None) and self.response_text[:RESPONSE_LIMIT],
        )


def _finish(engine: Engine, c: Claim, actor: str, attempts: list[AttemptRecord], values: dict,
            extra: Callable | None = None) -> bool:
    """Apply the final UPDATE (fenced by our claim token) and write the attempts, in one transaction."""
    with session_scope(engine) as session:
        result = session.execute(
            sa.update(PayrollRun)
            .where(PayrollRun.id == c.run_id, PayrollRun.status == SENDING, PayrollRun.claimed_by == c.token)
            .values(**values)
        )
        for a in attempts:
            session.add(a.row(c.run_id, c.generation, actor))
        if extra is not None:
            extra(session)
        return result.rowcount == 1


def finish_sent(engine: Engine, c: Claim, actor: str, attempts: list[AttemptRecord], *, voucher_id: str,
                voucher_number: str | None, visma_company_id: str | None, now: datetime) -> bool:
    return _finish(engine, c, actor, attempts, {
        "status": SENT, "voucher_id": voucher_id, "voucher_number": voucher_number,
        "visma_company_id": visma_company_id, "sent_at": now, "claimed_by": None, "error_message": None,
        "error_entry_id": None, "updated_at": now,
    })


def finish_failed(engine: Engine, c: Claim, actor: str, attempts: list[AttemptRecord], *, message: str,
                  entry_id: str | None, now: datetime) -> bool:
    return _finish(engine, c, actor, attempts, {
        "status": FAILED, "claimed_by": None, "error_message": message, "error_entry_id": entry_id,
        "updated_at": now,
    })


def release_unknown(engine: Engine, c: Claim, actor: str, attempts: list[AttemptRecord], *, message: str,
                    entry_id: str | None, settled: bool, now: datetime) -> bool:
    """``sending`` → ``unconfirmed``: the outcome is unknown until the marker is looked up.

    ``settled``: our POST has certainly ended (Visma answered), so a look-up that finds nothing is conclusive at once
    (claim released); otherwise the claim's lease must run out first, so that a request Visma may still be
    processing cannot be missed by the look-up and posted again.
    """
    values = {"status": UNCONFIRMED, "error_message": message, "error_entry_id": entry_id, "updated_at": now}
    if settled:
        values["claimed_by"] = None
    return _finish(engine, c, actor, attempts, values)


def reset_for_resend(engine: Engine, run_id: int, *, now: datetime, extra: Callable) -> dict | None:
    """sent → not_sent with the next generation (so a new marker); returns the previous voucher, or None."""
    with session_scope(engine) as session:
        run = session.get(PayrollRun, run_id)
        if run is None or run.status != SENT:
            return None
        previous = {"voucher_id": run.voucher_id, "voucher_number": run.voucher_number, "marker": run.marker,
                    "generation": run.generation, "sent_at": run.sent_at}
        result = session.execute(
            sa.update(PayrollRun)
            .where(PayrollRun.id == run_id, PayrollRun.status == SENT, PayrollRun.generation == run.generation)
            .values(status=NOT_SENT, generation=run.generation + 1, marker=None, voucher_id=None,
                    voucher_number=None, sent_at=None, error_message=None, error_entry_id=None, claimed_by=None,
                    claimed_at=None, updated_at=now)
        )
        if result.rowcount != 1:
            return None
        extra(session, previous)
        return previous


def dumps(data) -> str:
    return json.dumps(data, ensure_ascii=False, default=str)


def now_utc() -> datetime:
    """Now, through ``core.db.models.utcnow`` looked up at call time (tests move that one clock)."""
    return models.utcnow()

"""A database restored from a backup must never post a voucher twice.

Restoring a copy (the natural recovery from a damaged database) brings runs back as *not sent* that were sent after
the copy was made; their vouchers are in Visma, and sending them again as usual would post each a second time.
Normal sending posts a *not sent* run without looking its marker up (one Visma call per run), so the database has to
notice that it went back in time:

* every process that sends keeps, beside the database in its data folder, the highest export-attempt id it has seen
  for that database (``send-watermark.json``), raised after every run it handles;
* a sender that starts and finds the database's highest attempt id below that mark knows the database went back in
  time. It writes an audit event ``database.restored`` with the highest run id the database holds then;
* from then on every run up to that id is looked up by its marker before it is posted (a voucher found in Visma
  marks the run sent, as after a lost answer); runs imported after the restore are sent as usual.

The mark is per database URL, so one data folder can serve several databases; a machine that never sent against a
database has no mark and detects nothing, which is why every machine that sends keeps its own.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import sqlalchemy as sa

from core.db import audit
from core.db.engine import session_scope
from core.db.files import open_private, private_folder
from core.db.models import AuditEvent, ExportAttempt, PayrollRun

WATERMARK_FILE = "send-watermark.json"
RESTORED = "database.restored"
_lock = threading.Lock()


def _path(rt) -> Path:
    return rt.settings.data_dir / WATERMARK_FILE


def _key(rt) -> str:
    """The database's entry in the file: a hash of its URL (no password in a file)."""
    return hashlib.sha256(rt.engine.url.render_as_string(hide_password=False).encode()).hexdigest()[:16]


def _read(path: Path) -> dict[str, int]:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return {k: v for k, v in data.items() if isinstance(v, int)} if isinstance(data, dict) else {}


def _highest_attempt(rt) -> int:
    with session_scope(rt.engine) as session:
        return session.scalar(sa.select(sa.func.max(ExportAttempt.id))) or 0


@contextlib.contextmanager
def _exclusive(path: Path) -> Iterator[None]:
    """One writer at a time, across the threads of this process and the processes of this machine."""
    private_folder(path.parent)
    with _lock, open(path.with_name(f".{path.name}.lock"), "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def note_progress(rt) -> None:
    """Raise this database's mark to its highest attempt id (never lower it): called after every run handled."""
    highest = _highest_attempt(rt)
    path = _path(rt)
    with _exclusive(path):
        marks = _read(path)
        if marks.get(_key(rt), 0) >= highest:
            return
        marks[_key(rt)] = highest
        _write(path, marks)


def forget(rt) -> None:
    """This database is emptied on purpose (the demo reset): its mark no longer means anything."""
    path = _path(rt)
    with _exclusive(path):
        marks = _read(path)
        if marks.pop(_key(rt), None) is not None:
            _write(path, marks)


def _write(path: Path, marks: dict[str, int]) -> None:
    """Replace the file at once (a reader sees the old marks or the new ones), private like the database."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    with open_private(tmp, "w") as handle:
        handle.write(json.dumps(marks))
    tmp.replace(path)


def look_up_before_posting(rt, *, actor: str) -> int:
    """Run ids at or below the returned one must be looked up by marker before they are posted (0: none).

    Detects a database that went back in time (and records it once), then answers from the audit log, so every
    sender on this database looks up those runs, whichever machine noticed."""
    seen = _read(_path(rt)).get(_key(rt), 0)
    with session_scope(rt.engine) as session:
        highest = session.scalar(sa.select(sa.func.max(ExportAttempt.id))) or 0
        if seen > highest:
            highest_run = session.scalar(sa.select(sa.func.max(PayrollRun.id))) or 0
            audit.record(session, actor=actor, action=RESTORED, detail={
                "highest_run_id": highest_run, "attempts_seen": seen, "attempts_found": highest,
                "what": "The database holds fewer export attempts than this machine saw: it was restored from a "
                        "copy. Runs up to this id are looked up in Visma by their marker before any post.",
            })
        details = session.scalars(sa.select(AuditEvent.detail).where(AuditEvent.action == RESTORED)).all()
    if seen > highest:
        forget(rt)  # start counting again from the restored database
    return max((json.loads(d).get("highest_run_id", 0) for d in details if d), default=0)

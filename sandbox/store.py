"""The sandbox's state: one SQLite database of JSON documents, guarded by a lock.

Why SQLite and not dicts: ``--db FILE`` must keep state across restarts and let several processes (a dashboard, a
worker, a test runner) share one sandbox. In memory (the default) it is a single ``:memory:`` connection; with a
file it is WAL + a busy timeout so that processes wait for each other instead of failing. Every mutation runs in one
``BEGIN IMMEDIATE`` transaction, so a voucher and its number, or a refresh-token rotation, are all-or-nothing.

Documents are ``(kind, id) -> JSON`` with an optional ``company`` column for the per-company kinds; insertion order
(rowid) is kept on update, which gives lists a stable order (vouchers in the order they were created).
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS docs (
    kind TEXT NOT NULL,
    id TEXT NOT NULL,
    company TEXT,
    data TEXT NOT NULL,
    PRIMARY KEY (kind, id)
);
CREATE INDEX IF NOT EXISTS docs_kind_company ON docs (kind, company);
CREATE TABLE IF NOT EXISTS rate (key TEXT NOT NULL, ts REAL NOT NULL);
CREATE INDEX IF NOT EXISTS rate_key_ts ON rate (key, ts);
CREATE TABLE IF NOT EXISTS stats (name TEXT NOT NULL, key TEXT NOT NULL, n INTEGER NOT NULL, PRIMARY KEY (name, key));
"""


class Tx:
    """One transaction's view of the store (only valid inside ``Store.tx()``)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._c = conn

    def get(self, kind: str, id_: str) -> dict[str, Any] | None:
        row = self._c.execute("SELECT data FROM docs WHERE kind=? AND id=?", (kind, id_)).fetchone()
        return json.loads(row[0]) if row else None

    def put(self, kind: str, id_: str, data: dict[str, Any], company: str | None = None) -> None:
        self._c.execute(
            "INSERT INTO docs (kind, id, company, data) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (kind, id) DO UPDATE SET data=excluded.data, company=excluded.company",
            (kind, id_, company, json.dumps(data)),
        )

    def delete(self, kind: str, id_: str) -> None:
        self._c.execute("DELETE FROM docs WHERE kind=? AND id=?", (kind, id_))

    def list(self, kind: str, company: str | None = None) -> list[dict[str, Any]]:
        if company is None:
            rows = self._c.execute("SELECT data FROM docs WHERE kind=? ORDER BY rowid", (kind,)).fetchall()
        else:
            rows = self._c.execute(
                "SELECT data FROM docs WHERE kind=? AND company=? ORDER BY rowid", (kind, company)
            ).fetchall()
        return [json.loads(r[0]) for r in rows]

    def items(self, kind: str) -> list[tuple[str, dict[str, Any]]]:
        rows = self._c.execute("SELECT id, data FROM docs WHERE kind=? ORDER BY rowid", (kind,)).fetchall()
        return [(r[0], json.loads(r[1])) for r in rows]

    def setting(self, key: str, default: Any = None) -> Any:
        doc = self.get("setting", key)
        return default if doc is None else doc["value"]

    def set_setting(self, key: str, value: Any) -> None:
        self.put("setting", key, {"value": value})

    def bump(self, name: str, key: str, n: int = 1) -> None:
        self._c.execute(
            "INSERT INTO stats (name, key, n) VALUES (?, ?, ?) ON CONFLICT (name, key) DO UPDATE SET n = n + ?",
            (name, key, n, n),
        )

    def stats(self) -> dict[str, dict[str, int]]:
        out: dict[str, dict[str, int]] = {}
        for name, key, n in self._c.execute("SELECT name, key, n FROM stats ORDER BY name, key"):
            out.setdefault(name, {})[key] = n
        return out

    def reset_stats(self) -> None:
        self._c.execute("DELETE FROM stats")

    # -- rate-limit log (sliding window) --------------------------------------------------------------------------
    def rate_hits(self, key: str, since: float) -> list[float]:
        self._c.execute("DELETE FROM rate WHERE key=? AND ts<=?", (key, since))
        return [r[0] for r in self._c.execute("SELECT ts FROM rate WHERE key=? ORDER BY ts", (key,))]

    def rate_add(self, key: str, ts: float) -> None:
        self._c.execute("INSERT INTO rate (key, ts) VALUES (?, ?)", (key, ts))

    def clear_all(self) -> None:
        self._c.execute("DELETE FROM docs")
        self._c.execute("DELETE FROM rate")
        self._c.execute("DELETE FROM stats")


class Store:
    """Thread-safe access to the database. ``path=None`` keeps everything in memory for this process."""

    def __init__(self, path: str | None = None) -> None:
        self.path = path
        self._lock = threading.RLock()
        if path is None:
            self._conn = sqlite3.connect(":memory:", check_same_thread=False, isolation_level=None)
        else:
            self._conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=30)
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA busy_timeout=30000")
            self._conn.execute("PRAGMA synchronous=NORMAL")
        with self._lock:
            self._conn.executescript(SCHEMA)

    @contextmanager
    def tx(self, write: bool = True) -> Iterator[Tx]:
        """A transaction: ``BEGIN IMMEDIATE`` for writes (takes the write lock up front, so no upgrade deadlocks)."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            try:
                yield Tx(self._conn)
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            else:
                self._conn.execute("COMMIT")

    def close(self) -> None:
        with self._lock:
            self._conn.close()

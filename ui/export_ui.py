"""UI helpers of the Journal Export, Overview, Troubleshooting and Demo pages: status colours, the exports chart,
tables as DataFrames, cached reads, the support-bundle download and a progress relay for bulk sending.

No business logic lives here; every number comes from ``core.services``. The cached reads take the runtime as
``_rt`` (left out of the cache key) and the database URL as ``db`` so two databases never share an entry.
"""

from __future__ import annotations

import json
import queue
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import altair as alt
import pandas as pd
import streamlit as st

from core import services

# ----------------------------------------------------------------------------------------------- status vocabulary

STATUS_ORDER = ("not_sent", "sending", "sent", "failed")
STATUS_LABELS = {"not_sent": "Not sent", "sending": "Sending", "sent": "Sent", "failed": "Failed"}
# Visma red for sent (the red logo), orange for failed, grey for not sent, blue while sending.
STATUS_COLORS = {"sent": "#c8102e", "failed": "#f08c00", "not_sent": "#9e9e9e", "sending": "#1c7ed6"}

SEVERITY_LABELS = {"error": "Error", "warning": "Warning", "info": "Info"}
SEVERITY_COLORS = {"error": "red", "warning": "orange", "info": "blue"}
FIX_IN_LABELS = {"visma_portal": "Visma portal", "dashboard": "This dashboard", "payroll_system": "Payroll system"}
LANGUAGE_LABELS = {"en": "English", "nl": "Dutch"}

CACHE_TTL = 30  # seconds: other sessions and the worker change runs too; actions here clear the caches at once


STATUS_CELL_STYLE = {
    "sent": "background-color: #c8102e; color: white",
    "failed": "background-color: #f08c00; color: black",
    "not_sent": "background-color: #e9ecef; color: #333",
    "sending": "background-color: #1c7ed6; color: white",
}


def status_text(status: str | None, voucher_number: str | None = None) -> str:
    """Plain words for a status cell (the colour comes from a Styler): "Sent · 2026-0042", "Failed", "Not sent"."""
    status = status or "not_sent"
    text = STATUS_LABELS.get(status, status)
    return f"{text} · {voucher_number}" if status == "sent" and voucher_number else text


def style_for(text: str) -> str:
    """The cell style for a status text made by :func:`status_text`."""
    for status, label in STATUS_LABELS.items():
        if text == label or text.startswith(label + " ·"):
            return STATUS_CELL_STYLE[status]
    return ""


def when(value: Any) -> str:
    """An ISO timestamp (as the services return them) for people: ``2026-03-25 16:00 UTC``; em dash when empty."""
    if not value:
        return "—"
    try:
        moment = pd.Timestamp(value)
    except (ValueError, TypeError):
        return str(value)
    if moment.tzinfo is not None:
        moment = moment.tz_convert("UTC")
        return moment.strftime("%Y-%m-%d %H:%M UTC")
    return moment.strftime("%Y-%m-%d %H:%M")


def period_label(year: int, period: int) -> str:
    return f"{int(year)}-{int(period):02d}"


def db_key(rt) -> str:
    """The cache key part that tells databases apart (never shown; the URL may hold a password)."""
    return str(rt.settings.database_url)


def field_of(obj: Any, name: str, default: Any = None) -> Any:
    """A field of a dict or an object (catalogue entries are dataclasses, service results dicts)."""
    if isinstance(obj, Mapping):
        return obj.get(name, default)
    return getattr(obj, name, default)


def find_entry(entry_id: str | None):
    """The catalogue entry with this id, or None (``services.find_entry`` when re-exported, else a scan)."""
    if not entry_id:
        return None
    find = getattr(services, "find_entry", None)
    if find is not None:
        return find(entry_id)
    return next((e for e in services.catalogue() if e.id == entry_id), None)


# ------------------------------------------------------------------------------------------------------ cached reads


@st.cache_data(ttl=3600, show_spinner=False)
def catalogue_frame() -> pd.DataFrame:
    """The whole troubleshooting catalogue as a table (plain data: it changes only with a release)."""
    rows = []
    for entry in services.catalogue():
        rows.append(
            {
                "id": entry.id,
                "title": entry.title,
                "severity": entry.severity,
                "fix_in": entry.fix_in,
                "message": entry.example,
                "message_nl": entry.example_nl or "",
                "cause": entry.cause,
                "solution": entry.solution,
                "language": ", ".join(LANGUAGE_LABELS.get(x, x) for x in entry.language),
                "codes": ", ".join(str(c) for c in entry.codes),
                "source": entry.source,
            }
        )
    return pd.DataFrame(rows)


@st.cache_data(ttl=CACHE_TTL, show_spinner=False, max_entries=64)
def cached_runs(_rt, db: str, company_code: str | None) -> list[services.RunView]:
    return services.list_runs(_rt, company_code=company_code)


@st.cache_data(ttl=CACHE_TTL, show_spinner=False, max_entries=8)
def cached_companies(_rt, db: str) -> list[dict]:
    return services.list_payroll_companies(_rt)


@st.cache_data(ttl=CACHE_TTL, show_spinner=False, max_entries=8)
def cached_accounts(_rt, db: str) -> list[dict]:
    return services.list_accounts(_rt)


@st.cache_data(ttl=CACHE_TTL, show_spinner=False, max_entries=64)
def cached_counts(_rt, db: str, company_code: str | None) -> list[dict]:
    return services.export_counts_by_period(_rt, company_code=company_code)


@st.cache_data(ttl=CACHE_TTL, show_spinner=False, max_entries=8)
def cached_overview(_rt, db: str) -> dict:
    return services.overview(_rt)


@st.cache_data(ttl=CACHE_TTL, show_spinner=False, max_entries=8)
def cached_recent_failures(_rt, db: str) -> list[dict]:
    return services.recent_failures(_rt)


@st.cache_data(ttl=CACHE_TTL, show_spinner=False, max_entries=8)
def cached_failed_runs(_rt, db: str, limit: int = 500) -> list[services.RunView]:
    """Failed runs only (filtered in the database), for pickers that must stay small at a bureau's size."""
    return services.list_runs(_rt, status="failed", limit=limit)


@st.cache_data(ttl=5, show_spinner=False, max_entries=4)
def cached_demo_status(_rt, db: str) -> dict:
    return services.demo_status(_rt)


# ------------------------------------------------------------------------------------------------------------ grid

WORST_FIRST = ("failed", "sending", "not_sent", "sent")


def status_pivot(grid: pd.DataFrame) -> pd.DataFrame:
    """Company × period (columns ``YYYY-MM``) with the worst status of the period's runs, plus ``failed`` and
    ``not sent`` counts; companies with failed runs first, then those with runs waiting."""
    frame = grid.copy()
    # one label per distinct (year, period), mapped onto the rows: tens of labels for tens of thousands of rows
    periods = frame["year"].astype("int64") * 100 + frame["period"].astype("int64")
    frame["period_label"] = periods.map({k: period_label(k // 100, k % 100) for k in periods.unique()})
    rank = {s: i for i, s in enumerate(WORST_FIRST)}
    frame["rank"] = frame["status"].map(rank).fillna(len(rank))
    worst = frame.sort_values("rank", kind="stable").drop_duplicates(["company_code", "period_label"])
    table = worst.pivot(index=["company_code", "company"], columns="period_label", values="status")
    table = table.reindex(sorted(table.columns), axis=1)
    table.columns.name = None
    failed = (table == "failed").sum(axis=1)
    waiting = (table == "not_sent").sum(axis=1)
    table.insert(0, "failed", failed)
    table.insert(1, "not sent", waiting)
    table = table.sort_values(["failed", "not sent"], ascending=False, kind="stable")
    return table.reset_index()


# ------------------------------------------------------------------------------------------------------------ chart


def exports_chart(counts: Iterable[Mapping[str, Any]]) -> alt.Chart | None:
    """Exports per period, stacked by outcome (sent red, failed orange, not sent grey); None when there is nothing."""
    frame = pd.DataFrame(list(counts))
    if frame.empty:
        return None
    frame["period"] = [period_label(y, p) for y, p in zip(frame["year"], frame["period"], strict=True)]
    frame["outcome"] = frame["status"].map(lambda s: STATUS_LABELS.get(s, s))
    frame["order"] = frame["status"].map(lambda s: STATUS_ORDER.index(s) if s in STATUS_ORDER else 9)
    present = [s for s in STATUS_ORDER if s in set(frame["status"])]
    scale = alt.Scale(domain=[STATUS_LABELS[s] for s in present], range=[STATUS_COLORS[s] for s in present])
    return (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            x=alt.X("period:O", title="Period", sort="ascending"),
            y=alt.Y("sum(count):Q", title="Runs"),
            color=alt.Color("outcome:N", title="Outcome", scale=scale, sort=[STATUS_LABELS[s] for s in present]),
            order=alt.Order("order:Q"),
            tooltip=[alt.Tooltip("period:O", title="Period"), alt.Tooltip("outcome:N", title="Outcome"),
                     alt.Tooltip("sum(count):Q", title="Runs")],
        )
        .properties(height=260)
    )


# ------------------------------------------------------------------------------------------------------ downloads


def history_csv(rows: Iterable[services.CompanyAttemptView]) -> bytes:
    """The export history as CSV (UTF-8 with BOM so Excel opens accents correctly)."""
    frame = pd.DataFrame([asdict(r) for r in rows])
    return frame.to_csv(index=False).encode("utf-8-sig")


_SECRET_WORDS = ("token", "secret", "password", "authorization", "code_verifier", "cookie", "api_key")


def scrub(value: Any) -> Any:
    """Belt and braces for the support bundle: drop any key that names a token or a secret, at every depth.

    The service already builds the bundle without them; this makes a slip there harmless in a ticket.
    """
    if isinstance(value, Mapping):
        return {
            k: ("[removed]" if any(w in str(k).lower() for w in _SECRET_WORDS) else scrub(v))
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [scrub(v) for v in value]
    return value


def bundle_bytes(bundle: Mapping[str, Any]) -> bytes:
    """The support bundle as pretty JSON, scrubbed of secrets, ready to attach to a ticket."""
    return json.dumps(scrub(bundle), indent=2, ensure_ascii=False, default=str).encode("utf-8")


# ------------------------------------------------------------------------------------------- bulk-send progress


@dataclass
class ProgressRelay:
    """Carries progress from the thread that sends to the script thread that draws.

    Streamlit elements may only be touched from the script thread, while the service may report progress from its
    worker threads. The service gets :meth:`callback` (thread-safe: it only puts on a queue); the page runs the send
    in a helper thread and drains the queue in the script thread with :meth:`pump`.
    """

    events: queue.Queue = field(default_factory=queue.Queue)
    done: int = 0
    total: int = 0
    last: dict = field(default_factory=dict)

    def callback(self, *args: Any, **kwargs: Any) -> None:
        self.events.put((args, kwargs))

    def _absorb(self, args: tuple, kwargs: dict) -> None:
        event: dict[str, Any] = {}
        if args and isinstance(args[0], Mapping):
            event = dict(args[0])
        else:
            names = ("done", "total", "result")
            event = {name: value for name, value in zip(names, args, strict=False)}
        event.update(kwargs)
        self.done = int(event.get("done", self.done + 1) or 0)
        self.total = int(event.get("total", self.total) or self.total)
        self.last = event

    def pump(self, on_update: Callable[[ProgressRelay], None], *, wait: float = 0.1) -> bool:
        """Apply queued events (waiting up to ``wait`` s for the first); True when something arrived."""
        try:
            args, kwargs = self.events.get(timeout=wait)
        except queue.Empty:
            return False
        self._absorb(args, kwargs)
        while True:
            try:
                args, kwargs = self.events.get_nowait()
            except queue.Empty:
                break
            self._absorb(args, kwargs)
        on_update(self)
        return True


def run_with_progress(fn: Callable[[Callable[..., None]], Any], on_update: Callable[[ProgressRelay], None]) -> Any:
    """Run ``fn(progress_callback)`` in a helper thread; draw progress from this (the script) thread.

    Returns ``fn``'s result or re-raises its exception here, so pages handle errors as for any service call.
    """
    relay = ProgressRelay()
    outcome: dict[str, Any] = {}

    def work() -> None:
        try:
            outcome["result"] = fn(relay.callback)
        except BaseException as exc:  # re-raised in the script thread below
            outcome["error"] = exc

    worker = threading.Thread(target=work, name="bulk-send", daemon=True)
    worker.start()
    while worker.is_alive():
        relay.pump(on_update)
    worker.join()
    while relay.pump(on_update, wait=0):
        pass
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("result")


# ------------------------------------------------------------------------------------------------------ demo words

STATE_EXPLANATIONS = {
    "ok": "Healthy: journal entries are accepted and get a voucher number.",
    "no_fiscal_year": "This year's fiscal year was never created in Visma: sending a run of this year fails with "
    "“Resource not found: fiscalYearId” (article error 1); last year's runs still go through.",
    "api_module_inactive": "The API module is off (or a default company is set): Visma answers “De API module is "
    "nog niet geactiveerd” (article error 2).",
    "ledger_empty": "The organisation's General Ledger fields are empty: Visma answers “'Ledger' cannot be empty” "
    "(article error 3).",
    "period_locked": "The accounting period is locked in Visma: the voucher date falls in a closed period.",
    "year_locked": "The whole fiscal year is locked for accounting in Visma.",
    "no_user_access": "The Visma user that authorized the account lost access to this company.",
    "inactive": "The company is no longer active in Visma eAccounting.",
    "read_only": "The authorizing Visma user is read-only: Visma refuses to create the voucher.",
}
FAULT_EXPLANATIONS = {
    "rate_limit_per_minute": "Visma's call quota per minute (normally 600); a low number makes it answer “quota "
    "exceeded” (HTTP 429).",
    "http_error": "Visma down: every call answers HTTP 500 or 503.",
    "latency_ms": "Extra delay on every call, to show a slow Visma.",
    "commit_then_drop": "The next N vouchers are stored by Visma but the connection drops before the answer: the "
    "dashboard must reconcile instead of posting twice.",
}

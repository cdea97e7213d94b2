"""Benchmark: server time of each dashboard page at the size of a payroll bureau (target: median under 0.3 s).

Run from the repository root: `.venv/bin/python -m benchmarks.bench_pages [--companies 2000] [--runs 12] [--repeat 7]`.
It seeds a fresh SQLite database directly (SQLAlchemy core bulk inserts, not timed): 2,000 companies × 12 monthly runs
from ``core.demo.payroll.generate_bulk`` with their journal lines, one authorized account and mapping per company,
every run's export state (sent / failed with a catalogue entry / not sent) and its attempts. The bulk accounts hold
placeholder tokens (no timed page decrypts them); the payroll company Administrations opens on is then re-mapped to one
account really authorized at the sandbox (``authorize_default_mapping``), so that page's live chart call works. The
app runs in-process under Streamlit's AppTest against a local sandbox; each page is run once to warm up, then timed
``--repeat`` times:

* **cold** — ``st.cache_data`` cleared before every run (every read goes to the database);
* **warm** — the normal case within the cache TTL (what a user clicking around sees).

Server time is the wall time of ``AppTest.run()``. Then the export log itself (``time_export_log``), outside
Streamlit: ``core.export.log.export_log`` for the whole bureau (every run: what the panel of Overview and of Journal
Export's *All companies* reads before it draws its first 1,000 rows), for one company, by status, by search; the
panel's table built from those rows; and the CSV and XLSX files of one page and of every row (made when a download
button is pressed). Prints figures; it is not a test.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
import warnings
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

from core.db.engine import make_engine, migrate  # noqa: E402
from core.db.models import (  # noqa: E402
    Account,
    AccountToken,
    CompanyMapping,
    ExportAttempt,
    JournalLineRow,
    PayrollCompany,
    PayrollRun,
)
from core.demo.payroll import generate_bulk  # noqa: E402

TARGET_SECONDS = 0.3
FAILURE_ENTRIES = ("fiscal-year-missing", "api-module-inactive", "ledger-empty", "period-locked", "rate-limited",
                   "visma-unavailable", "account-not-found", "cost-center-not-allowed")
BATCH = 5_000


def _chunks(rows: list[dict], size: int = BATCH):
    for i in range(0, len(rows), size):
        yield rows[i: i + size]


ORDER = (Account, AccountToken, PayrollCompany, CompanyMapping, PayrollRun, JournalLineRow, ExportAttempt)
COUNTED = {Account: "accounts", PayrollCompany: "companies", PayrollRun: "runs", JournalLineRow: "lines",
           ExportAttempt: "attempts"}


def _flush(conn, pending: dict, counts: dict) -> None:
    """Insert what is pending, parents before children (foreign keys are on)."""
    for table in ORDER:
        rows = pending[table]
        for chunk in _chunks(rows):
            conn.execute(sa.insert(table.__table__), chunk)
        if table in COUNTED:
            counts[COUNTED[table]] += len(rows)
        rows.clear()


def seed(engine, n_companies: int, n_runs: int, *, year: int = 2026) -> dict[str, int]:
    """Bulk-insert a payroll bureau: accounts, companies, mappings, runs with lines, attempts. Deterministic."""
    rng = random.Random(f"bench-pages/{n_companies}/{n_runs}")
    # a separate stream, so that the rest of the seed stays what it was before accounts had a re-authorization date
    auth_rng = random.Random(f"bench-pages/authorized/{n_companies}")
    now = datetime(year, 12, 20, 12, 0, tzinfo=UTC)
    wall = datetime.now(UTC).replace(microsecond=0)
    counts = {"companies": 0, "runs": 0, "lines": 0, "attempts": 0, "accounts": 0}
    with engine.begin() as conn:
        pending: dict = {table: [] for table in ORDER}
        accounts, tokens, companies = pending[Account], pending[AccountToken], pending[PayrollCompany]
        mappings, runs, lines, attempts = (pending[CompanyMapping], pending[PayrollRun], pending[JournalLineRow],
                                           pending[ExportAttempt])
        run_id = line_id = 0
        for cid, (company, run_data) in enumerate(generate_bulk(n_companies, n_runs, year=year), start=1):
            roll = rng.random()
            status = "authorized" if roll < 0.95 else ("needs_reauthorization" if roll < 0.98 else "not_authorized")
            visma_id = str(uuid.UUID(int=rng.getrandbits(128)))
            expires = now + timedelta(minutes=rng.randint(-30, 60))
            # authorized within the 30 days before the run (wall clock: the Overview compares with the real now;
            # refresh tokens live 30 days from the authorization), so about a quarter of the accounts are due for
            # re-authorization within the Overview's week
            authorized_at = wall - timedelta(days=auth_rng.randint(0, 29), hours=auth_rng.randint(0, 23))
            accounts.append({
                "id": cid, "name": f"acc-{company.code}", "status": status, "visma_company_id": visma_id,
                "visma_company_name": company.name, "token_expires_at": expires if status != "not_authorized" else None,
                "last_refreshed_at": now - timedelta(days=rng.randint(0, 80)),
                "authorized_at": authorized_at,
                "reauthorize_by": authorized_at + timedelta(days=30) if status == "authorized" else None,
                "created_at": now - timedelta(days=100), "updated_at": now,
                "status_reason": "Visma refused the refresh token (invalid_grant)." if status != "authorized" else None,
                "status_entry_id": "reauthorize-needed" if status == "needs_reauthorization" else None,
            })
            if status != "not_authorized":
                tokens.append({"account_id": cid, "access_token_enc": "x", "refresh_token_enc": "x",
                               "expires_at": expires, "version": 1, "updated_at": now})
            companies.append({"id": cid, "code": company.code, "name": company.name, "source": "bulk",
                              "created_at": now - timedelta(days=365)})
            mapped = rng.random() < 0.97
            if mapped:
                mappings.append({"id": cid, "payroll_company_id": cid, "account_id": cid, "visma_company_id": visma_id,
                                 "auto_send": rng.random() < 0.3, "created_at": now, "updated_at": now})
            for run in run_data:
                run_id += 1
                debit = sum((ln.debit for ln in run.lines), Decimal(0))
                credit = sum((ln.credit for ln in run.lines), Decimal(0))
                late = run.period >= 12
                r = rng.random()
                if not mapped or (late and r < 0.7):
                    state = "not_sent"
                elif r < (0.15 if late else 0.04):
                    state = "failed"
                else:
                    state = "sent"
                entry = rng.choice(FAILURE_ENTRIES) if state == "failed" else None
                processed = run.processed_at
                runs.append({
                    "id": run_id, "company_id": cid, "year": run.year, "period": run.period,
                    "run_number": run.run_number, "processed_at": processed, "source": "bulk",
                    "total_debit": debit.quantize(Decimal("0.01")), "total_credit": credit.quantize(Decimal("0.01")),
                    "line_count": len(run.lines), "status": state,
                    "marker": f"ELX-B{run_id:08d}" if state != "not_sent" else None, "generation": 1,
                    "voucher_id": str(uuid.UUID(int=rng.getrandbits(128))) if state == "sent" else None,
                    "voucher_number": f"{run.year}-{run_id:05d}" if state == "sent" else None,
                    "visma_company_id": visma_id if state != "not_sent" else None,
                    "sent_at": processed + timedelta(hours=2) if state == "sent" else None,
                    "error_message": f"Visma refused the voucher ({entry})." if entry else None,
                    "error_entry_id": entry, "attempt_count": 0 if state == "not_sent" else (2 if entry else 1),
                    "updated_at": processed + timedelta(hours=2),
                })
                for ln in run.lines:
                    line_id += 1
                    lines.append({
                        "id": line_id, "run_id": run_id, "ledger_account": ln.ledger_account,
                        "component": ln.component, "description": ln.description, "debit": ln.debit,
                        "credit": ln.credit, "department": ln.department, "cost_center": ln.cost_center,
                        "cost_unit": ln.cost_unit, "employee": ln.employee, "percentage": ln.percentage,
                    })
                n_attempts = 0 if state == "not_sent" else (2 if entry else 1)
                for a in range(n_attempts):
                    ok = state == "sent"
                    attempts.append({
                        "run_id": run_id, "generation": 1, "started_at": processed + timedelta(hours=2, minutes=a),
                        "duration_ms": rng.randint(80, 900), "actor": "worker@bench", "kind": "post",
                        "outcome": "sent" if ok else "failed", "http_status": 201 if ok else 400,
                        "visma_error_code": None if ok else 3001,
                        "visma_error_id": None if ok else str(uuid.UUID(int=rng.getrandbits(128))),
                        "error_message": None if ok else f"Visma refused the voucher ({entry}).",
                        "entry_id": None if ok else entry, "request_json": None, "response_text": None,
                    })
            if len(lines) >= 50_000:
                _flush(conn, pending, counts)
        _flush(conn, pending, counts)
    return counts


LIVE_ACCOUNT = "bench-live"
LIVE_LOGIN = {"email": "anna.dekker@demo-bureau.nl", "password": "Welkom2026!",
              "company": "Bakkerij De Gouden Korst B.V."}


def authorize_default_mapping() -> dict[str, str]:
    """Give the mapping Administrations opens on a real authorization at the sandbox, so its live chart call works.

    The bulk accounts hold placeholder tokens (nothing else timed decrypts them). Administrations selects the first
    mapped payroll company (by name, then code) and reads the live Visma chart of that mapping's account, so that
    company is re-mapped to an account authorized the way a user does it: ``create_account``, ``start_authorization``,
    the sandbox's login and consent, ``complete_authorization``, ``map_company``. The runtime is built from the
    environment the pages use (same database, sandbox and TOKEN_ENCRYPTION_KEY). Not timed.
    """
    from core import services
    from core.demo.login import login_and_consent

    rt = services.build_runtime()
    try:
        mapped = [c for c in services.list_payroll_companies(rt) if c.mapped]
        if not mapped:
            raise RuntimeError("the seed has no mapped payroll company")
        first = mapped[0]  # what pages/administrations.py selects when nothing is selected yet
        services.create_account(rt, LIVE_ACCOUNT, actor="bench")
        login_url = services.start_authorization(rt, LIVE_ACCOUNT, actor="bench")
        callback = login_and_consent(login_url, **LIVE_LOGIN)
        account = services.complete_authorization(rt, callback, actor="bench")
        if account.status != "authorized":
            raise RuntimeError(f"{LIVE_ACCOUNT} is {account.status}: {account.status_reason}")
        result = services.map_company(rt, first.code, LIVE_ACCOUNT, actor="bench")
        unexpected = [w for w in result.warnings if "could not be read" in w]
        if unexpected:
            raise RuntimeError(unexpected[0])
        return {"account": LIVE_ACCOUNT, "visma_company": account.visma_company_name or "?",
                "company": first.name, "code": first.code}
    finally:
        rt.close()


# --------------------------------------------------------------------------------------------------- timing

PAGES = [
    # (label, page, query params, session state)
    ("Overview", "pages/overview.py", {}, {}),
    ("Accounts", "pages/accounts.py", {}, {}),
    ("Administrations", "pages/administrations.py", {}, {}),
    ("Journal Export · runs", "pages/journal_export.py", {}, {}),
    ("Journal Export · ?run= (preview, attempts)", "pages/journal_export.py", {"run": "FAILED_RUN"}, {}),
    ("Journal Export · send pending", "pages/journal_export.py", {}, {"je_tab": "Send pending"}),
    ("Journal Export · history and chart", "pages/journal_export.py", {}, {"je_tab": "History and chart"}),
    ("Journal Export · history, all companies", "pages/journal_export.py", {},
     {"je_tab": "History and chart", "je_hist_all": True}),
    ("Troubleshooting · paste an error", "pages/troubleshooting.py", {}, {}),
    ("Troubleshooting · catalogue", "pages/troubleshooting.py", {}, {"ts_tab": "Catalogue"}),
    ("Troubleshooting · recent failures", "pages/troubleshooting.py", {}, {"ts_tab": "Recent failures"}),
    ("Troubleshooting · support bundle", "pages/troubleshooting.py", {}, {"ts_tab": "Support bundle"}),
    ("Demo", "pages/demo.py", {}, {}),
]


def time_page(page: str, query: dict, state: dict, repeat: int, *, cold: bool) -> list[float]:
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
    at.run()
    for k, v in query.items():
        at.query_params[k] = v
    at.switch_page(page)
    for k, v in state.items():
        at.session_state[k] = v
    at.run()  # warm-up (and the runtime, built once per process)
    if at.exception:
        raise RuntimeError(f"{page}: {at.exception[0].message}")
    unexpected = [e.value for e in at.error if "unexpected" in str(e.value) or "could not" in str(e.value)]
    if unexpected:
        raise RuntimeError(f"{page} shows an error: {unexpected[0]}")
    # a mapping page that could not read Visma (e.g. undecryptable tokens) would be timed without its live call
    unchecked = [df for df in at.dataframe if "check" in getattr(df.value, "columns", ())
                 and df.value["check"].astype(str).str.startswith("? Not checked").any()]
    if unchecked:
        raise RuntimeError(f"{page} could not check the mapping against Visma (rows 'Not checked')")
    timings = []
    for _ in range(repeat):
        if cold:
            st.cache_data.clear()
        t0 = time.perf_counter()
        at.run()
        timings.append(time.perf_counter() - t0)
        if at.exception:
            raise RuntimeError(f"{page}: {at.exception[0].message}")
    return timings


def export_log_cases(rt) -> list[tuple[str, object]]:
    """(label, call) of each export-log figure, on the seeded bureau."""
    from core.export.log import export_log
    from core.export.log_files import export_log_csv, export_log_xlsx
    from ui.export_log import PAGE_SIZE, _frame

    everything = export_log(rt)
    page = everything[:PAGE_SIZE]
    company = everything[len(everything) // 2].company  # a company in the middle of the code order
    voucher = next(r.voucher_number for r in reversed(everything) if r.voucher_number)
    word = everything[0].company_name.split()[0]  # a word of a company name (several companies share it)
    n = f"{len(everything):,}"
    return [
        (f"export_log · whole bureau ({n} rows)", lambda: export_log(rt)),
        ("export_log · one company", lambda: export_log(rt, company_code=company)),
        ("export_log · status failed", lambda: export_log(rt, status="failed")),
        ("export_log · one period, status sent", lambda: export_log(rt, period="2026-06", status="sent")),
        (f"export_log · search '{word}'", lambda: export_log(rt, search=word)),
        (f"export_log · search a voucher ({voucher})", lambda: export_log(rt, search=voucher)),
        ("export_log · status failed + search", lambda: export_log(rt, status="failed", search=word)),
        (f"panel table (pandas) · {n} rows", lambda: _frame(everything)),
        (f"CSV · one page ({len(page):,} rows)", lambda: export_log_csv(page)),
        (f"CSV · every row ({n})", lambda: export_log_csv(everything)),
        (f"XLSX · one page ({len(page):,} rows)", lambda: export_log_xlsx(page)),
        (f"XLSX · every row ({n})", lambda: export_log_xlsx(everything)),
    ]


def time_export_log(repeat: int) -> list[tuple[str, list[float]]]:
    """Each export-log figure: run once to warm up, then timed ``repeat`` times (wall time of the call)."""
    from core import services

    rt = services.build_runtime()
    try:
        results = []
        for label, call in export_log_cases(rt):
            call()
            timings = []
            for _ in range(repeat):
                t0 = time.perf_counter()
                call()
                timings.append(time.perf_counter() - t0)
            results.append((label, timings))
        return results
    finally:
        rt.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--companies", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=12)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--only", help="time only pages whose label contains this text ('export log': only the "
                                       "export log's own figures)")
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    import logging

    logging.disable(logging.WARNING)

    from cryptography.fernet import Fernet

    from sandbox import start_sandbox

    workdir = Path(tempfile.mkdtemp(prefix="bench-pages-"))
    url = f"sqlite:///{workdir / 'bench.db'}"
    engine = make_engine(url)
    migrate(engine)
    t0 = time.perf_counter()
    counts = seed(engine, args.companies, args.runs)
    print(f"seeded {counts['companies']:,} companies, {counts['runs']:,} runs, {counts['lines']:,} journal lines, "
          f"{counts['attempts']:,} attempts, {counts['accounts']:,} accounts in {time.perf_counter() - t0:.1f} s "
          f"(not timed)")
    with engine.connect() as conn:
        failed_run = conn.execute(sa.text("SELECT min(id) FROM payroll_run WHERE status = 'failed'")).scalar()
    engine.dispose()

    with start_sandbox(port=0) as sandbox:
        # the environment the pages' runtime is built from; set before the live authorization below, which must
        # encrypt its tokens with this same TOKEN_ENCRYPTION_KEY
        os.environ.update({
            "VISMA_IDENTITY_URL": sandbox.url, "VISMA_API_URL": f"{sandbox.url}/v2", "DATABASE_URL": url,
            "DATA_DIR": str(workdir / "data"), "TOKEN_ENCRYPTION_KEY": Fernet.generate_key().decode(),
            "STREAMLIT_SECRETS_PATH": str(workdir / "none.toml"),
        })
        for key in ("VISMA_CLIENT_ID", "VISMA_CLIENT_SECRET"):
            os.environ.pop(key, None)
        t0 = time.perf_counter()
        live = authorize_default_mapping()
        print(f"authorized {live['account']} at the sandbox ({live['visma_company']}) and mapped {live['company']} "
              f"({live['code']}), the company Administrations opens on, to it in {time.perf_counter() - t0:.1f} s "
              f"(not timed)")
        print(f"\n{'page':46} {'cold median':>11} {'cold worst':>10} {'warm median':>11} {'warm worst':>10}  target")
        missed = []
        for label, page, query, state in PAGES:
            if args.only and (args.only.lower() not in label.lower() or args.only.lower() == "export log"):
                continue
            query = {k: (str(failed_run) if v == "FAILED_RUN" else v) for k, v in query.items()}
            try:
                cold = time_page(page, query, state, args.repeat, cold=True)
                warm = time_page(page, query, state, args.repeat, cold=False)
            except Exception as exc:  # a page that fails is reported, the others still timed
                print(f"{label:46} ERROR {type(exc).__name__}: {str(exc)[:200]}", flush=True)
                missed.append(label)
                continue
            met = statistics.median(cold) < TARGET_SECONDS
            if not met:
                missed.append(label)
            print(f"{label:46} {statistics.median(cold):>10.3f}s {max(cold):>9.3f}s {statistics.median(warm):>10.3f}s "
                  f"{max(warm):>9.3f}s  {'MET' if met else 'NOT MET'}", flush=True)
        if not args.only or args.only.lower() == "export log":
            print(f"\n{'export log (outside Streamlit)':46} {'median':>11} {'best':>10} {'worst':>11}")
            for label, timings in time_export_log(args.repeat):
                print(f"{label:46} {statistics.median(timings):>10.3f}s {min(timings):>9.3f}s "
                      f"{max(timings):>10.3f}s", flush=True)
            print("(the panel reads every filtered row, for its count, its pages and its downloads, and draws 1,000 "
                  "at a time: the whole bureau's export_log and table are part of every Overview run)")
    print(f"\ntarget: median < {TARGET_SECONDS} s with caches cleared (cold); "
          + ("met by every page." if not missed else f"NOT met by: {', '.join(missed)}"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Benchmark: one payroll run of 400,000 journal lines -> one Visma voucher (target: at most 0.5 s).

Run from the repository root: `.venv/bin/python -m benchmarks.bench_journal [--lines N] [--repeat 5]`
(or `.venv/bin/python benchmarks/bench_journal.py`). The lines are generated deterministically
(`core.demo.payroll.large_run`: every cost line split over three cost centres with six-decimal amounts, so the
builder has to sum exactly and round once); only `build_voucher` is timed. Prints figures; it is not a test.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.demo.payroll import large_run  # noqa: E402
from core.export.voucher import build_voucher  # noqa: E402

TARGET_SECONDS = 0.5
COST_CENTRE_ACCOUNTS = {4000, 4010, 4020, 4100, 4150, 4200}
COST_CENTRE_ITEMS = {"PROD": "0d8f1c7e-0000-4000-8000-000000000001", "VERK": "0d8f1c7e-0000-4000-8000-000000000002",
                     "ADM": "0d8f1c7e-0000-4000-8000-000000000003"}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=400_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    started = time.perf_counter()
    run = large_run(args.lines, seed=7)
    generated = time.perf_counter() - started
    print(f"generated {len(run.lines):,} journal lines in {generated:.2f} s (not timed)")

    timings = []
    voucher = None
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        voucher = build_voucher(run, accounts_with_cost_centers=COST_CENTRE_ACCOUNTS,
                                cost_center_map=COST_CENTRE_ITEMS, company_name="Benchmark B.V.")
        timings.append(time.perf_counter() - t0)
    assert voucher is not None and voucher.is_balanced
    best, median = min(timings), statistics.median(timings)
    print(f"build_voucher: best {best:.3f} s, median {median:.3f} s over {args.repeat} runs "
          f"({len(run.lines) / best / 1e6:.2f} M lines/s)")
    print(f"voucher: {len(voucher.rows)} rows, total {voucher.total_debit:,} debit = credit, "
          f"{sum('(afronding' in r.transaction_text for r in voucher.rows)} row(s) took a rounding difference")
    met = median <= TARGET_SECONDS
    print(f"target <= {TARGET_SECONDS} s (median): {'MET' if met else 'NOT MET'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Two processes exporting the same pending runs at once (``python -m core export --pending``), over one database and
the sandbox: every run ends sent, each voucher exists once in Visma, with dropped connections after commit on the way
(429s, 5xx and timeouts: test_export_faults)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from core import export
from tests.core_fixtures import rt, runtime_env  # noqa: F401
from tests.export_fixtures import marker_counts, set_faults, setup_company

ROOT = Path(__file__).resolve().parents[1]


def _spawn(env: dict, *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "core", *args], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def test_two_processes_export_the_same_pending_runs_exactly_once(rt, sandbox, database_url, tmp_path):  # noqa: F811
    a = setup_company(rt, "BAKKERIJ-DGK", periods=(1, 2, 3, 4))
    b = setup_company(rt, "TRANSPORT-VISSER", periods=(1, 2, 3, 4))
    set_faults(sandbox.url, a.visma_company_id, latency_ms=60, commit_then_drop=1)
    set_faults(sandbox.url, b.visma_company_id, latency_ms=60, commit_then_drop=2)
    env = {**os.environ, **runtime_env(sandbox.url, database_url, tmp_path / "data",
                                       key=rt.settings.token_encryption_key)}
    procs = [_spawn(env, "export", "--pending", "--json", "--concurrency", "4") for _ in range(2)]
    outputs = [p.communicate(timeout=120) for p in procs]
    summaries = [json.loads(out) for out, _err in outputs]
    for (_out, err), p in zip(outputs, procs, strict=True):
        assert "Traceback" not in err and p.returncode in (0, 1), err
    # Each run was handled by one process only: the other skipped it or never saw it pending.
    posted = [r["run_id"] for s in summaries for r in s["results"] if r["outcome"] in ("sent", "reconciled")]
    assert len(posted) == len(set(posted))
    counts = {**marker_counts(sandbox.url, a.visma_company_id), **marker_counts(sandbox.url, b.visma_company_id)}
    assert set(counts.values()) == {1}
    runs = export.list_runs(rt)
    assert [r["status"] for r in runs] == ["sent"] * 8 and len(counts) == 8
    reconciled = [r for s in summaries for r in s["results"] if r["outcome"] == "reconciled"]
    assert len(reconciled) == 3  # the dropped connections were looked up, not posted again

"""Running the sandbox: in-process servers are independent, ``--db`` shares state across processes and restarts,
and ``python -m sandbox`` serves a login page a person can use."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from sandbox import seed, start_sandbox
from sandbox.__main__ import main as cli_main
from sandbox.testing import Browser

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(url: str, proc: subprocess.Popen, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"python -m sandbox exited with {proc.returncode}")
        try:
            if httpx.get(f"{url}/_sandbox/health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError("python -m sandbox did not start")


class Cli:
    """``python -m sandbox`` subprocesses: ``launch`` starts one (not waiting), ``run`` starts one and waits."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.procs: list[subprocess.Popen] = []

    def launch(self, *args: str) -> tuple[str, subprocess.Popen]:
        port = free_port()
        log = open(self.tmp_path / f"sandbox-{port}.log", "w")  # noqa: SIM115 - closed with the process
        proc = subprocess.Popen([sys.executable, "-m", "sandbox", "--port", str(port), "--log-level", "warning", *args],
                                cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        self.procs.append(proc)
        return f"http://127.0.0.1:{port}", proc

    def run(self, *args: str) -> str:
        url, proc = self.launch(*args)
        wait_ready(url, proc)
        return url

    def stop(self, proc: subprocess.Popen) -> None:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(10)


@pytest.fixture
def cli(tmp_path):
    runner = Cli(tmp_path)
    yield runner
    for proc in runner.procs:
        runner.stop(proc)


def test_url_shape_and_clean_stop():
    sb = start_sandbox(port=0)
    assert sb.url.startswith("http://127.0.0.1:") and not sb.url.endswith("/")
    assert httpx.get(f"{sb.url}/_sandbox/health").json() == {"ok": True}
    sb.stop()
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{sb.url}/_sandbox/health", timeout=1)


def test_two_sandboxes_in_one_process_are_independent():
    with start_sandbox() as a, start_sandbox() as b:
        assert a.url != b.url
        httpx.put(f"{a.url}/_sandbox/companies/{seed.BAKKERIJ}/state", json={"state": "inactive"}).raise_for_status()
        state = {c["id"]: c["state"] for c in httpx.get(f"{b.url}/_sandbox/companies").json()}
        assert state[seed.BAKKERIJ] == "ok"


def test_cli_serves_a_login_page_a_person_can_use(cli):
    url = cli.run("--redirect-uri", "http://127.0.0.1:8600/")
    home = httpx.get(url)
    assert home.status_code == 200 and "Try the login" in home.text
    b = Browser(url, redirect_uri="http://127.0.0.1:8600/")
    try:
        page = b.authorize()
        assert "Log in to Visma eAccounting" in page.text
        assert b.code(seed.EVA)["code"]
    finally:
        b.close()


def companies_of(url: str) -> dict[str, dict]:
    return {c["id"]: c for c in httpx.get(f"{url}/_sandbox/companies").json()}


def test_two_cli_processes_share_one_db_file_and_it_survives_restart(cli, tmp_path):
    """Two ``python -m sandbox --db same.db`` started together on a fresh file (both race to seed it): what one
    writes, the other reads, a code from one is redeemed at the other; after both stop, the file still holds it all.
    ``--fault``/``--state`` make states and faults part of the seed."""
    db = str(tmp_path / "same.db")
    (a, pa), (b, pb) = cli.launch("--db", db, "--fault", "TRANSPORT:http_error=503"), cli.launch(
        "--db", db, "--state", f"{seed.BAKKERIJ}=read_only")
    wait_ready(a, pa)
    wait_ready(b, pb)
    assert len(companies_of(a)) == len(seed.COMPANIES)  # seeded once, not twice
    for url in (a, b):
        seen = companies_of(url)
        assert seen[seed.TRANSPORT]["faults"]["http_error"] == 503 and seen[seed.BAKKERIJ]["state"] == "read_only"
    r = httpx.put(f"{a}/_sandbox/companies/{seed.HOVENIER}/faults", json={"latency_ms": 1})
    assert r.status_code == 200
    assert companies_of(b)[seed.HOVENIER]["faults"]["latency_ms"] == 1
    browser = Browser(a)
    try:
        code = browser.code(seed.EVA)["code"]
    finally:
        browser.close()
    tok = httpx.post(f"{b}/connect/token", auth=(seed.CLIENT_ID, seed.CLIENT_SECRET),
                     data={"grant_type": "authorization_code", "code": code, "redirect_uri": "http://localhost:8501/"})
    assert tok.status_code == 200
    bearer = {"Authorization": f"Bearer {tok.json()['access_token']}"}
    posted = httpx.post(f"{b}/v2/vouchers", headers=bearer, json={
        "VoucherDate": "2026-03-31", "VoucherText": "Loonjournaal maart 2026",
        "Rows": [{"AccountNumber": 4000, "DebitAmount": 10}, {"AccountNumber": 1520, "CreditAmount": 10}]})
    assert posted.status_code == 201
    listed = httpx.get(f"{a}/v2/vouchers", headers=bearer).json()["Data"]
    assert [v["Id"] for v in listed] == [posted.json()["Id"]]
    assert posted.json()["NumberAndNumberSeries"] == "A1"
    cli.stop(pa)
    cli.stop(pb)
    with start_sandbox(db_path=db) as again:
        seen = companies_of(again.url)
        assert seen[seed.TRANSPORT]["faults"]["http_error"] == 503 and seen[seed.HOVENIER]["faults"]["latency_ms"] == 1
        assert [v["Id"] for v in httpx.get(f"{again.url}/_sandbox/vouchers").json()] == [posted.json()["Id"]]
        assert httpx.get(f"{again.url}/v2/vouchers", headers=bearer).status_code == 200  # the token survived too
        httpx.post(f"{again.url}/_sandbox/reset").raise_for_status()  # back to the seed, overrides included
        seen = companies_of(again.url)
        assert seen[seed.TRANSPORT]["faults"]["http_error"] == 503 and seen[seed.BAKKERIJ]["state"] == "read_only"
        assert seen[seed.HOVENIER]["faults"]["latency_ms"] == 0


@pytest.mark.parametrize("args", [["--state", "BAKKERIJ=on_fire"], ["--fault", "TRANSPORT:http_error=404"],
                                  ["--fault", "x"], ["--state", "nobody=ok"]])
def test_cli_refuses_a_bad_state_or_fault(args, capsys):
    with pytest.raises(SystemExit) as exit_:
        cli_main(["--port", "1", *args])
    assert exit_.value.code == 2 and "error:" in capsys.readouterr().err

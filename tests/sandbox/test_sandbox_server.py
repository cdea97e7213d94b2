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


@pytest.fixture
def cli(tmp_path):
    procs: list[subprocess.Popen] = []

    def run(*args: str) -> str:
        port = free_port()
        log = open(tmp_path / f"sandbox-{port}.log", "w")  # noqa: SIM115 - closed with the process
        proc = subprocess.Popen([sys.executable, "-m", "sandbox", "--port", str(port), "--log-level", "warning", *args],
                                cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        procs.append(proc)
        url = f"http://127.0.0.1:{port}"
        wait_ready(url, proc)
        return url

    yield run
    for proc in procs:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(10)


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
    url = cli("--redirect-uri", "http://127.0.0.1:8600/")
    home = httpx.get(url)
    assert home.status_code == 200 and "Try the login" in home.text
    b = Browser(url, redirect_uri="http://127.0.0.1:8600/")
    try:
        page = b.authorize()
        assert "Log in to Visma eAccounting" in page.text
        assert b.code(seed.EVA)["code"]
    finally:
        b.close()


def test_db_file_is_shared_between_processes_and_survives_restart(cli, tmp_path):
    db = str(tmp_path / "sandbox.db")
    other = cli("--db", db)
    with start_sandbox(db_path=db) as here:
        r = httpx.put(f"{here.url}/_sandbox/companies/{seed.TRANSPORT}/faults", json={"http_error": 503})
        assert r.status_code == 200
        seen = {c["id"]: c["faults"]["http_error"] for c in httpx.get(f"{other}/_sandbox/companies").json()}
        assert seen[seed.TRANSPORT] == 503
        # a token issued by one process works on the other
        b = Browser(here.url)
        try:
            code = b.code(seed.EVA)["code"]
        finally:
            b.close()
        tok = httpx.post(f"{other}/connect/token", auth=(seed.CLIENT_ID, seed.CLIENT_SECRET),
                         data={"grant_type": "authorization_code", "code": code, "redirect_uri": "http://localhost:8501/"})
        assert tok.status_code == 200
        api = httpx.get(f"{here.url}/v2/fiscalyears", headers={"Authorization": f"Bearer {tok.json()['access_token']}"})
        assert api.status_code == 200
    with start_sandbox(db_path=db) as again:
        seen = {c["id"]: c["faults"]["http_error"] for c in httpx.get(f"{again.url}/_sandbox/companies").json()}
        assert seen[seed.TRANSPORT] == 503

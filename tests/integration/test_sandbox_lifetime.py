"""The embedded demo sandbox ends with the dashboard that started it, even when the dashboard is killed (SIGKILL):
no orphan keeps holding its port (issue 12). One started by a CLI command outlives the command on purpose, for the
next commands to reuse."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from core.demo.sandbox import answers, stop_sandbox
from core.settings import load_settings

PROJECT = Path(__file__).resolve().parents[2]

_PARENT = (
    "import sys, time; from pathlib import Path; from core.demo.sandbox import ensure_sandbox; "
    "from core.settings import load_settings; d = sys.argv[1]; tie = {'yes': True, 'no': False}[sys.argv[2]]; "
    "s = load_settings({'DATA_DIR': d, 'VISMA_REDIRECT_URI': 'http://localhost:8599/'}, "
    "secrets_path=Path(d) / 'absent.toml'); "
    "print(ensure_sandbox(s, exit_with_parent=tie), flush=True); time.sleep(600)"
)


def _settings(data_dir: Path):
    return load_settings({"DATA_DIR": str(data_dir), "VISMA_REDIRECT_URI": "http://localhost:8599/"},
                         secrets_path=data_dir / "absent.toml")


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def _gone(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return True
    return "\nState:\tZ" in status  # exited, waiting for init to reap it


def _wait_until(check, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.1)
    return check()


def _start_parent(data_dir: Path, tie: str) -> tuple[subprocess.Popen, dict]:
    parent = subprocess.Popen([sys.executable, "-c", _PARENT, str(data_dir), tie], stdout=subprocess.PIPE, text=True,
                              env={**os.environ, "PYTHONPATH": str(PROJECT)}, cwd=PROJECT)
    url = parent.stdout.readline().strip()
    assert url.startswith("http://127.0.0.1:"), url
    state = json.loads((data_dir / "sandbox.json").read_text())
    assert state["url"] == url and answers(url)
    return parent, state


@pytest.mark.timeout(90)
def test_sandbox_tied_to_its_parent_dies_when_the_parent_is_killed(tmp_path):
    data_dir = tmp_path / "data"
    parent, state = _start_parent(data_dir, "yes")
    assert state["exits_with_pid"] == parent.pid
    os.kill(parent.pid, signal.SIGKILL)
    parent.wait(10)
    assert _wait_until(lambda: _port_free(state["port"]), 5), "the sandbox still holds its port"
    assert _wait_until(lambda: _gone(state["pid"]), 5)
    assert not answers(state["url"], 0.5)
    # the next process finds the state file stale and starts a new sandbox over the same data
    assert not stop_sandbox(_settings(data_dir))


@pytest.mark.timeout(90)
def test_sandbox_started_by_a_command_outlives_it_for_the_next_commands(tmp_path):
    data_dir = tmp_path / "data"
    parent, state = _start_parent(data_dir, "no")
    try:
        assert state["exits_with_pid"] is None
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait(10)
        time.sleep(1)
        assert answers(state["url"])
    finally:
        assert stop_sandbox(_settings(data_dir))
    assert _wait_until(lambda: _port_free(state["port"]), 5)


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_dashboard_killed_takes_its_sandbox_along(tmp_path):
    """`streamlit run app.py` in demo mode (nothing configured): its first script run starts the sandbox; SIGKILL the
    dashboard and the sandbox is gone within seconds, its port free."""
    data_dir = tmp_path / "data"
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path), "PYTHONPATH": str(PROJECT),
        "DATA_DIR": str(data_dir), "DATABASE_URL": f"sqlite:///{tmp_path / 'dash.db'}",
        "VISMA_REDIRECT_URI": f"http://127.0.0.1:{port}/", "STREAMLIT_SECRETS_PATH": str(tmp_path / "none.toml"),
    }
    log_path = tmp_path / "streamlit.log"
    with open(log_path, "wb") as log:
        dashboard = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true", "--server.port",
             str(port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false",
             "--server.fileWatcherType", "none", "--global.developmentMode", "false",
             "--server.scriptHealthCheckEnabled", "true"],
            cwd=PROJECT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    state = None
    try:
        base = f"http://127.0.0.1:{port}"

        def healthy() -> bool:
            try:
                return httpx.get(f"{base}/_stcore/health", timeout=1).text == "ok"
            except httpx.HTTPError:
                return False

        assert _wait_until(healthy, 60), log_path.read_text()[-3000:]
        # A script run without a browser: Streamlit's script health check runs app.py, which builds the runtime.
        # The very first run on a fresh server only leaves the legacy pages mode and asks for a rerun, which the
        # health check's throwaway session may end before; the next check runs app.py through.
        state_file = data_dir / "sandbox.json"
        for _attempt in range(6):
            with contextlib.suppress(httpx.HTTPError):  # its answer does not matter, the run does
                httpx.get(f"{base}/_stcore/script-health-check", timeout=60)
            if _wait_until(state_file.exists, 10):
                break
        assert state_file.exists(), log_path.read_text()[-3000:]
        state = json.loads(state_file.read_text())
        assert _wait_until(lambda: answers(state["url"]), 30)
        assert state["exits_with_pid"] == dashboard.pid
    finally:
        os.kill(dashboard.pid, signal.SIGKILL)
        dashboard.wait(10)
    assert _wait_until(lambda: _port_free(state["port"]), 5), "the dashboard's sandbox outlived it"
    assert _wait_until(lambda: _gone(state["pid"]), 5)

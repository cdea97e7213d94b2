"""Demo mode's sandbox: one local Visma per data folder, shared by every process (dashboard, CLI, worker).

Why a separate process and a state file: the dashboard, the CLI and the worker are different processes that must see
the same Visma (the same tokens, vouchers and clock). The first one to need it starts ``python -m sandbox`` detached,
over a SQLite file in the data folder, and records ``{url, pid, port}`` in ``data_dir/sandbox.json``; the others find
it there and reuse it while it answers. An exclusive ``flock`` on ``data_dir/sandbox.lock`` makes processes that start
together start one sandbox.

A sandbox started by the dashboard ends with the dashboard (``--exit-with-parent``: the dashboard holds the write end
of a pipe to the sandbox's stdin, which the operating system closes when the dashboard ends, even on SIGKILL), so a
stopped dashboard never leaves an orphan holding its port. One started by a CLI command outlives it on purpose: the
next commands (and a dashboard) reuse it; ``python -m core demo reset --stop`` stops it.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

from core.db.files import private_folder
from core.demo.constants import DEMO_CLIENT_ID
from core.settings import Settings

PROJECT_ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT = 20.0
PROBE_TIMEOUT = 1.0
# The sandboxes this process started tied to its life: their Popen keeps the pipe's write end open until we exit.
_TIED: list[subprocess.Popen] = []


class SandboxStartError(RuntimeError):
    """The demo sandbox could not be started; the message names the log file to read."""


def state_file(settings: Settings) -> Path:
    return settings.data_dir / "sandbox.json"


@contextlib.contextmanager
def _exclusive(path: Path) -> Iterator[None]:
    private_folder(path.parent)
    with open(path, "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _read_state(path: Path) -> dict | None:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and isinstance(data.get("url"), str) else None


def _write_state(path: Path, data: dict) -> None:
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(data, indent=2))
    os.replace(tmp, path)


def answers(url: str, timeout: float = PROBE_TIMEOUT) -> bool:
    """Whether a sandbox serves ``url`` (its discovery document names it as the issuer)."""
    try:
        response = httpx.get(f"{url}/.well-known/openid-configuration", timeout=timeout)
        return response.status_code == 200 and response.json().get("issuer", "").rstrip("/") == url.rstrip("/")
    except (httpx.HTTPError, ValueError, AttributeError):
        return False


def register_redirect_uri(url: str, redirect_uri: str) -> None:
    """Make the sandbox accept this installation's redirect URI (a sandbox started by another process may not)."""
    with contextlib.suppress(httpx.HTTPError):
        httpx.post(
            f"{url}/_sandbox/redirect-uris",
            json={"client_id": DEMO_CLIENT_ID, "redirect_uri": redirect_uri},
            timeout=5.0,
        )


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def serving_dashboard() -> bool:
    """Whether this process is the dashboard's server (``streamlit run``): Streamlit's runtime exists. Looked up
    among the loaded modules only; core never imports Streamlit."""
    runtime = sys.modules.get("streamlit.runtime")
    exists = getattr(runtime, "exists", None)
    try:
        return bool(exists and exists())
    except Exception:  # a Streamlit without it, or one half set up: not a dashboard we can tell apart
        return False


def _start(settings: Settings, *, exit_with_parent: bool) -> dict:
    data_dir = settings.data_dir
    log_path = data_dir / "sandbox.log"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(PROJECT_ROOT), os.environ.get("PYTHONPATH")]))}
    last_error = ""
    for _attempt in range(2):  # a port taken between choosing and binding: try another once
        port = _free_port()
        url = f"http://127.0.0.1:{port}"
        command = [sys.executable, "-m", "sandbox", "--port", str(port), "--db", str(data_dir / "sandbox.db"),
                   "--redirect-uri", settings.redirect_uri, "--log-level", "warning"]
        with open(log_path, "ab") as log:
            process = subprocess.Popen(
                command + (["--exit-with-parent"] if exit_with_parent else []),
                stdin=subprocess.PIPE if exit_with_parent else subprocess.DEVNULL, stdout=log,
                stderr=subprocess.STDOUT, cwd=str(PROJECT_ROOT), env=env, start_new_session=True,
            )
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if answers(url):
                if exit_with_parent:
                    _TIED.append(process)
                return {"url": url, "pid": process.pid, "port": port, "started_at": time.time(),
                        "exits_with_pid": os.getpid() if exit_with_parent else None}
            if process.poll() is not None:
                last_error = f"it exited with code {process.returncode}"
                break
            time.sleep(0.1)
        else:
            process.terminate()
            last_error = f"it did not answer within {START_TIMEOUT:.0f} seconds"
        if process.stdin is not None:
            process.stdin.close()  # a tied sandbox that failed to start: it exits on the pipe's end too
    raise SandboxStartError(
        f"The demo sandbox could not be started ({last_error}). See {log_path} for details, or set "
        "VISMA_CLIENT_ID to use Visma itself."
    )


def ensure_sandbox(settings: Settings, *, exit_with_parent: bool | None = None) -> str:
    """The base URL of this data folder's sandbox, started when none answers (one per data folder).

    A sandbox started here ends with this process when ``exit_with_parent`` (default: when this process is the
    dashboard's server); otherwise it outlives it, for the next commands to reuse."""
    if exit_with_parent is None:
        exit_with_parent = serving_dashboard()
    try:
        private_folder(settings.data_dir)
    except OSError as exc:
        raise SandboxStartError(
            f"Demo mode keeps the sandbox's state in the data folder {settings.data_dir}, which cannot be created "
            f"({type(exc).__name__}). Set DATA_DIR to a folder this user can write."
        ) from None
    path = state_file(settings)
    with _exclusive(settings.data_dir / "sandbox.lock"):
        state = _read_state(path)
        if state and answers(state["url"]):
            register_redirect_uri(state["url"], settings.redirect_uri)
            return state["url"]
        state = _start(settings, exit_with_parent=exit_with_parent)
        _write_state(path, state)
        return state["url"]


def sandbox_info(settings: Settings) -> dict | None:
    """The recorded sandbox (``url``, ``pid``, ``port``) and whether it answers; ``None`` when none was started."""
    state = _read_state(state_file(settings))
    if state is None:
        return None
    return {**state, "running": answers(state["url"])}


def stop_sandbox(settings: Settings) -> bool:
    """Stop the sandbox this data folder started (only when it still answers at the recorded address)."""
    path = state_file(settings)
    with _exclusive(settings.data_dir / "sandbox.lock"):
        state = _read_state(path)
        if state is None:
            return False
        stopped = False
        pid = state.get("pid")
        if isinstance(pid, int) and answers(state["url"]):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, signal.SIGTERM)  # its own session: the group is the sandbox and nothing else
                stopped = True
            deadline = time.monotonic() + 5
            while stopped and answers(state["url"], 0.2) and time.monotonic() < deadline:
                time.sleep(0.1)
            for process in [p for p in _TIED if p.pid == pid]:  # ours: reap it, no zombie left behind
                _TIED.remove(process)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    process.wait(5)
        path.unlink(missing_ok=True)
        return stopped

"""End-to-end fixtures: the Visma sandbox in this process, the dashboard as `streamlit run app.py` on free ports, and
headless Debian Chromium driven by Playwright (never a downloaded browser).

The dashboard and the test share one SQLite file, so a test can arrange payroll data through the services and read
ids (e.g. a run to open) exactly as the app stores them.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from cryptography.fernet import Fernet

from tests.e2e.browser import ARTIFACTS, Shots

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Dashboard:
    url: str  # with a trailing slash: the OAuth redirect URI
    sandbox_url: str
    env: dict[str, str]
    log_path: Path

    def runtime(self):
        """A runtime over the app's database and sandbox, for arranging data the way the app stores it."""
        from core.runtime import build_runtime
        from core.settings import load_settings

        return build_runtime(load_settings(self.env, secrets_path=Path(self.env["STREAMLIT_SECRETS_PATH"])))


@pytest.fixture(scope="module")
def dashboard(tmp_path_factory) -> Iterator[Dashboard]:
    """The sandbox and `streamlit run app.py` (one pair per test module), stopped and logged at the end."""
    from sandbox import start_sandbox

    tmp = tmp_path_factory.mktemp("e2e")
    app_port = free_port()
    app_url = f"http://127.0.0.1:{app_port}/"
    with start_sandbox(port=0, redirect_uris=[app_url]) as sandbox:
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(tmp),
            "PYTHONPATH": str(ROOT),
            "VISMA_IDENTITY_URL": sandbox.url,
            "VISMA_API_URL": f"{sandbox.url}/v2",
            "VISMA_REDIRECT_URI": app_url,
            "DATABASE_URL": f"sqlite:///{tmp / 'e2e.db'}",
            "DATA_DIR": str(tmp / "data"),
            "TOKEN_ENCRYPTION_KEY": Fernet.generate_key().decode(),
            "STREAMLIT_SECRETS_PATH": str(tmp / "no-secrets.toml"),
        }
        log_path = tmp / "streamlit.log"
        cmd = [
            sys.executable, "-m", "streamlit", "run", "app.py",
            "--server.headless", "true", "--server.port", str(app_port), "--server.address", "127.0.0.1",
            "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none",
            "--global.developmentMode", "false", "--server.scriptHealthCheckEnabled", "true",
        ]
        with open(log_path, "wb") as log:
            proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                                    start_new_session=True)
        try:
            deadline = time.monotonic() + 60
            while True:
                if proc.poll() is not None:
                    pytest.fail(f"streamlit exited with {proc.returncode}:\n{log_path.read_text()[-3000:]}")
                try:
                    if httpx.get(f"{app_url}_stcore/health", timeout=1).text == "ok":
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    pytest.fail(f"streamlit did not become healthy:\n{log_path.read_text()[-3000:]}")
                time.sleep(0.2)
            yield Dashboard(url=app_url, sandbox_url=sandbox.url, env=env, log_path=log_path)
        finally:
            try:
                os.killpg(proc.pid, signal.SIGTERM)
                proc.wait(10)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                os.killpg(proc.pid, signal.SIGKILL)
            log_text = log_path.read_text(errors="replace")
            if "Traceback" in log_text:
                print(f"--- streamlit log ---\n{log_text[-5000:]}")


@pytest.fixture(scope="module")
def chromium():
    """Debian's Chromium, headless (named apart from pytest-playwright's fixtures, which would download browsers)."""
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{CHROMIUM} is missing; CI must run the end-to-end tests (apt-get install chromium).")
        pytest.skip(f"{CHROMIUM} is not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def web(chromium):
    """A fresh browser context and page for one test."""
    context = chromium.new_context(viewport={"width": 1400, "height": 1600})
    context.set_default_timeout(30_000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def shots(request, web) -> Iterator[Shots]:
    """Numbered screenshots for this test; the last state of the page is kept too (useful when a step fails)."""
    taker = Shots(ARTIFACTS / re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name))
    yield taker
    try:
        web.screenshot(path=str(taker.folder / "zz-last-state.png"), full_page=True)
    except Exception as exc:  # the browser may be gone after a failure; the numbered shots remain
        print(f"no last-state screenshot: {exc}")

"""Fixtures for the sandbox tests: one sandbox per session (reset before each test), a browser-like driver for the
identity server's HTML pages, and validation of /v2 responses against Visma's OpenAPI document (sandbox/spec/).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from openapi_core import Config, OpenAPI
from openapi_core.testing import MockRequest, MockResponse

from sandbox import seed, start_sandbox
from sandbox.testing import FULL_SCOPE, REDIRECT, Browser, shared_ssl_context, token_request

SPEC = Path(__file__).resolve().parents[2] / "sandbox" / "spec" / "visma-eaccounting-v2.openapi-3.1.yaml"
VISMA_HOST = "https://eaccountingapi.vismaonline.com"


@pytest.fixture(scope="session")
def sbx_server() -> Iterator[Any]:
    with start_sandbox(port=0, redirect_uris=["http://127.0.0.1:9999/callback"]) as server:
        yield server


@pytest.fixture
def sbx(sbx_server: Any) -> Any:
    httpx.post(f"{sbx_server.url}/_sandbox/reset", timeout=10).raise_for_status()
    return sbx_server


@pytest.fixture
def browser(sbx: Any) -> Iterator[Browser]:
    b = Browser(sbx.url)
    yield b
    b.close()


@pytest.fixture
def tokens_for(sbx: Any) -> Any:
    """``tokens_for(email, company_name=None, scope=FULL_SCOPE)`` → the token JSON after a full dance."""

    def get(email: str, company: str | None = None, scope: str = FULL_SCOPE) -> dict[str, Any]:
        b = Browser(sbx.url)
        try:
            q = b.code(email, company, scope=scope)
        finally:
            b.close()
        r = token_request(sbx.url, {"grant_type": "authorization_code", "code": q["code"], "redirect_uri": REDIRECT})
        assert r.status_code == 200, r.text
        return r.json()

    return get


@pytest.fixture
def api(sbx: Any, tokens_for: Any) -> Any:
    """``api(company_name, scope=FULL_SCOPE)`` → an httpx client on ``{base}/v2`` with Anna's token for that company."""
    clients: list[httpx.Client] = []

    def make(company: str, scope: str = FULL_SCOPE, email: str = seed.ANNA) -> httpx.Client:
        tok = tokens_for(email, company, scope)
        client = httpx.Client(base_url=sbx.url, headers={"Authorization": f"Bearer {tok['access_token']}"},
                              timeout=10, verify=shared_ssl_context())
        clients.append(client)
        return client

    yield make
    for c in clients:
        c.close()


@pytest.fixture(scope="session")
def openapi() -> OpenAPI:
    return OpenAPI.from_file_path(str(SPEC), config=Config(spec_validator_cls=None))


@pytest.fixture(scope="session")
def declared() -> dict[tuple[str, str], set[int]]:
    """(method, path template with /v2) → the HTTP statuses Visma's document declares for it."""
    doc = yaml.load(SPEC.read_text(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    out: dict[tuple[str, str], set[int]] = {}
    for path, ops in doc["paths"].items():
        for method, op in (ops or {}).items():
            if isinstance(op, dict) and "responses" in op:
                out[(method, f"/v2{path}")] = {int(c) for c in op["responses"] if str(c).isdigit()}
    return out


def _template(declared: dict[tuple[str, str], set[int]], method: str, path: str) -> str:
    parts = path.split("/")
    candidates = [t for (m, t) in declared if m == method and len(t.split("/")) == len(parts)]
    for t in sorted(candidates, key=lambda t: t.count("{")):
        if all(p == q or p.startswith("{") for p, q in zip(t.split("/"), parts, strict=True)):
            return t
    raise AssertionError(f"{method.upper()} {path} is not in Visma's document")


@pytest.fixture
def check(openapi: OpenAPI, declared: dict[tuple[str, str], set[int]]) -> Any:
    """``check(response)`` validates a /v2 response against Visma's document and returns it.

    Statuses the document does not declare for the operation (401, 403, 429, 5xx on most) carry Visma's error
    envelope; their body is validated as the operation's declared 400 (``CommonExtendedBadRequest``).
    """

    def run(resp: httpx.Response) -> httpx.Response:
        method = resp.request.method.lower()
        url = resp.request.url
        statuses = declared[(method, _template(declared, method, url.path))]
        status = resp.status_code
        if status not in statuses:
            assert status >= 400, f"undeclared success status {status}"
            status = 400
        req = MockRequest(VISMA_HOST, method, url.path, args=dict(url.params.items()))
        content_type = resp.headers.get("content-type", "application/json").split(";")[0] if resp.content else None
        openapi.validate_response(req, MockResponse(resp.content, status_code=status, content_type=content_type))
        return resp

    return run

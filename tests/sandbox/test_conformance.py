"""Conformance of the sandbox's /v2 API to Visma's OpenAPI document, by generated requests (Schemathesis).

For every operation the sandbox serves (its routes under /v2, matched to an operation of
``sandbox/spec/visma-eaccounting-v2.openapi-3.1.yaml``), Schemathesis generates requests from the document — valid
ones (positive) and, where the operation has parameters or a body, invalid ones (negative) — sends them with a valid
bearer token for a healthy company and checks each answer: no 5xx, a status the document declares for the operation,
the declared content type, a body that matches the declared schema, and for invalid requests a 4xx. A second test
sends each GET with the ids of real resources (a fiscal year, an account, a voucher…), so that the schemas of full
answers are checked too, not only the 404s that random ids get.

Deterministic and bounded: Hypothesis is derandomized (the same examples every run), with few examples per operation
and no shrinking. A failure of generated requests that is a sandbox bug in a file this suite does not own is marked
``xfail(strict=True)`` in ``KNOWN_FAILURES`` with what is wrong; when it is fixed the strict xfail fails and the entry
must go.
"""

from __future__ import annotations

import base64
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
import yaml
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.generation.modes import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from starlette.routing import Route

from sandbox import Store, create_app, seed

SPEC = Path(__file__).resolve().parents[2] / "sandbox" / "spec" / "visma-eaccounting-v2.openapi-3.1.yaml"
README = Path(__file__).resolve().parents[2] / "sandbox" / "README.md"
RAW: dict[str, Any] = yaml.load(SPEC.read_text(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
HTTP_METHODS = ("get", "put", "post", "delete", "patch")
COMPANY = "Bakkerij De Gouden Korst B.V."
EXAMPLES = {GenerationMode.POSITIVE: 20, GenerationMode.NEGATIVE: 12}
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
          response_schema_conformance]

# (METHOD, document path) -> why the sandbox fails the generated requests. Only sandbox bugs in files this suite does
# not own; each entry names the file and what the document says.
KNOWN_FAILURES: dict[tuple[str, str], str] = {}


def _document_path(route_path: str) -> str | None:
    """The document's path template for a sandbox route (``/v2/vouchers/{fiscalyearId}`` -> ``/vouchers/{…}``)."""
    parts = route_path.removeprefix("/v2").split("/")
    for path, item in RAW["paths"].items():
        segments = path.split("/")
        if item and len(segments) == len(parts) and all(
            a == b or (a.startswith("{") and b.startswith("{")) for a, b in zip(segments, parts, strict=True)
        ):
            return path
    return None


def implemented_operations() -> list[tuple[str, str]]:
    """(METHOD, document path) for every /v2 route of the sandbox app; a route the document lacks fails the test."""
    store = Store(None)
    try:
        app = create_app(store)
        routes = [r for r in app.app.routes if isinstance(r, Route) and r.path.startswith("/v2/")]
    finally:
        store.close()
    ops: list[tuple[str, str]] = []
    for route in routes:
        path = _document_path(route.path)
        for method in sorted((route.methods or set()) - {"HEAD"}):
            ops.append((method, path or route.path))
    return sorted(set(ops), key=lambda op: (op[1], op[0]))


OPERATIONS = implemented_operations()


def _has_inputs(method: str, path: str) -> bool:
    item = RAW["paths"].get(path) or {}
    op = item.get(method.lower()) or {}
    return bool(item.get("parameters") or op.get("parameters") or op.get("requestBody"))


def _params(modes: list[GenerationMode]) -> list[Any]:
    out = []
    for method, path in OPERATIONS:
        for mode in modes:
            if mode is GenerationMode.NEGATIVE and not _has_inputs(method, path):
                continue  # nothing to make invalid (no parameters, no body)
            reason = KNOWN_FAILURES.get((method, path))
            marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
            out.append(pytest.param(method, path, mode, marks=marks, id=f"{method} {path} {mode.value}"))
    return out


@pytest.fixture(scope="session")
def schema() -> Any:
    """Visma's document narrowed to the operations the sandbox serves (loading all 228 costs seconds)."""
    paths = {path: RAW["paths"][path] for _, path in OPERATIONS if path in RAW["paths"]}
    return schemathesis.openapi.from_dict({**RAW, "paths": paths})


@pytest.fixture
def bearer(tokens_for: Any) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens_for(seed.ANNA, COMPANY)['access_token']}"}


def test_every_served_operation_is_in_vismas_document():
    missing = [f"{m} {p}" for m, p in OPERATIONS if p not in RAW["paths"] or m.lower() not in RAW["paths"][p]]
    assert not missing, f"the sandbox serves operations Visma's document does not have: {missing}"
    assert ("POST", "/vouchers") in OPERATIONS and ("GET", "/fiscalyears") in OPERATIONS


def test_the_readme_operations_table_is_the_document_and_the_routes():
    section = README.read_text().split("\n## Operations\n", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| `([A-Z]+) /v2(\S+)` \| (yes|no) \| \S", section, re.MULTILINE)
    documented = [(m.upper(), p) for p, item in RAW["paths"].items() for m in (item or {}) if m in HTTP_METHODS]
    assert [(m, p) for m, p, _ in rows] == documented, "sandbox/README.md Operations: one row per operation, in order"
    listed = {(m, p) for m, p, done in rows if done == "yes"}
    served = set(OPERATIONS)
    assert listed == served, (f"sandbox/README.md Operations: mark yes (with its source): {sorted(served - listed)}; "
                              f"mark no: {sorted(listed - served)}")


@pytest.mark.parametrize(("method", "path", "mode"), _params([GenerationMode.POSITIVE, GenerationMode.NEGATIVE]))
def test_generated_requests_get_documented_answers(schema, sbx, bearer, method, path, mode):
    operation = schema[path][method]
    checks = [negative_data_rejection, *CHECKS] if mode is GenerationMode.NEGATIVE else CHECKS
    base_url = f"{sbx.url}/v2"

    @settings(max_examples=EXAMPLES[mode], derandomize=True, database=None, deadline=None,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case: Any) -> None:
        response = case.call(base_url=base_url, headers=bearer, timeout=10)
        case.validate_response(response, checks=checks, headers=bearer)

    run()


# ------------------------------------------------------------------------------------------------ real resources


VOUCHER = {"VoucherDate": "2026-03-31", "VoucherText": "Loonjournaal maart 2026", "Rows": [
    {"AccountNumber": 4000, "DebitAmount": 100.0, "TransactionText": "Brutolonen"},
    {"AccountNumber": 1520, "CreditAmount": 100.0, "TransactionText": "Nettolonen"}]}
# collection -> a valid body to create one item when the seed has none
CREATE: dict[str, dict[str, Any]] = {
    "vouchers": VOUCHER,
    "voucherdrafts": VOUCHER,
    "attachments": {"ContentType": "application/pdf", "FileName": "loonstrook-maart.pdf",
                    "Data": base64.b64encode(b"%PDF-1.4\n%%EOF\n").decode()},
}


class Resources:
    """Ids of real resources of the company, for the path parameters of GET operations."""

    def __init__(self, http: httpx.Client) -> None:
        self.http = http
        fiscal_years = self._data("/v2/fiscalyears")
        self.fiscal_year = next(fy["Id"] for fy in fiscal_years if fy["StartDate"].startswith("2026"))
        accounts = self._data(f"/v2/accounts/{self.fiscal_year}")
        self.account = str(accounts[0]["Number"])
        self.voucher = self._create("/v2/vouchers")

    def _create(self, url: str) -> str:
        created = self.http.post(url, json=CREATE[url.rsplit("/", 1)[1]])
        assert created.status_code == 201, created.text
        return str(created.json()["Id"])

    def _data(self, url: str) -> list[dict[str, Any]]:
        r = self.http.get(url)
        assert r.status_code == 200, r.text
        return r.json()["Data"]

    def value(self, path: str, name: str) -> str:
        if name == "fiscalyearId":
            return self.fiscal_year
        if name == "voucherId":
            return self.voucher
        if name == "accountNumber":
            return self.account
        collection = path.split("/")[1]
        if name == "id" or name.endswith("Id"):  # /things/{id}: an item of the list /things, or a new one
            items = self._data(f"/v2/{collection}")
            if items:
                return str(items[0]["Id"])
            if collection in CREATE:
                return self._create(f"/v2/{collection}")
        raise AssertionError(f"no real value known for path parameter {name!r} of {path}")


@pytest.mark.parametrize("path", [path for method, path in OPERATIONS if method == "GET"])
def test_real_resources_match_the_documented_schema(schema, sbx, bearer, path):
    with httpx.Client(base_url=sbx.url, headers=bearer, timeout=10) as http:
        resources = Resources(http)
        operation = schema[path]["GET"]
        names = [p.strip("{}") for p in path.split("/") if p.startswith("{")]
        case = operation.Case(path_parameters={n: resources.value(path, n) for n in names})
        response = case.call(base_url=f"{sbx.url}/v2", headers=bearer, timeout=10)
        assert response.status_code == 200, response.text
        case.validate_response(response, checks=CHECKS, headers=bearer)

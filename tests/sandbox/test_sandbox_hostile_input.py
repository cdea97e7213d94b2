"""The admin API and the voucher endpoint answer hostile bodies with 400, never 500 (bad input and bad days)."""

from __future__ import annotations

import httpx
import pytest

NESTED = b"[" * 100_000 + b"]" * 100_000


@pytest.mark.parametrize(("method", "path"), [
    ("POST", "/_sandbox/clock"), ("PUT", "/_sandbox/settings"), ("POST", "/_sandbox/redirect-uris"),
])
def test_deeply_nested_json_to_the_admin_api_is_a_bad_request(sbx, method, path):
    response = httpx.request(method, f"{sbx.url}{path}", content=NESTED, headers={"content-type": "application/json"},
                             timeout=10)
    assert response.status_code == 400, response.text


@pytest.mark.parametrize("seconds", [1e300, -1e300, 10**30])
def test_an_enormous_clock_advance_is_refused_and_the_clock_keeps_working(sbx, seconds):
    response = httpx.post(f"{sbx.url}/_sandbox/clock", json={"advance_seconds": seconds}, timeout=10)
    assert response.status_code == 400 and "100 years" in response.json()["error"]
    assert httpx.get(f"{sbx.url}/_sandbox/clock", timeout=10).status_code == 200


def test_a_year_ahead_is_still_fine(sbx):
    response = httpx.post(f"{sbx.url}/_sandbox/clock", json={"advance_seconds": 366 * 86_400}, timeout=10)
    assert response.status_code == 200

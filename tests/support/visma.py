"""Test helpers: real tokens from the sandbox (scripted login + code exchange) and its admin API.

The accounts module owns the product's OAuth flow; these helpers do the minimum with httpx directly so that the API
client can be tested against the sandbox over real HTTP without depending on it.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import date
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx

from core.demo.login import login_and_consent

CLIENT_ID = "eaccounting-link-demo"
CLIENT_SECRET = "sandbox-demo-secret"  # the sandbox's published seed value
PASSWORD = "Welkom2026!"
REDIRECT_URI = "http://localhost:8501/"
ANNA = "anna.dekker@demo-bureau.nl"
DEFAULT_SCOPE = "ea:api ea:accounting ea:sales offline_access"


class Secret(str):
    """A token that a failing test's traceback shows as ``'***'`` (tokens never go into test output)."""

    def __repr__(self) -> str:
        return "'***'"


def authorization_url(sandbox_url: str, *, scope: str = DEFAULT_SCOPE, state: str | None = None, **extra: str) -> str:
    params = {"response_type": "code", "client_id": CLIENT_ID, "redirect_uri": REDIRECT_URI, "scope": scope,
              "state": state or secrets.token_urlsafe(8), **extra}
    return f"{sandbox_url}/connect/authorize?{urlencode(params)}"


def _token_request(sandbox_url: str, data: dict[str, str]) -> dict:
    response = httpx.post(f"{sandbox_url}/connect/token", data=data, auth=(CLIENT_ID, CLIENT_SECRET), timeout=10)
    response.raise_for_status()
    return response.json()


def sandbox_token(sandbox_url: str, *, email: str = ANNA, company: str | None = None,
                  scope: str = DEFAULT_SCOPE) -> dict:
    """A token response (access_token, refresh_token, expires_in, …) for ``email`` authorizing ``company``."""
    callback = login_and_consent(authorization_url(sandbox_url, scope=scope), email=email, password=PASSWORD,
                                 company=company)
    query = parse_qs(urlsplit(callback).query)
    if "code" not in query:
        raise AssertionError(f"no code in the callback: {query.get('error')}")
    return _token_request(sandbox_url, {"grant_type": "authorization_code", "code": query["code"][0],
                                        "redirect_uri": REDIRECT_URI})


def refresh(sandbox_url: str, refresh_token: str) -> dict:
    return _token_request(sandbox_url, {"grant_type": "refresh_token", "refresh_token": refresh_token})


class TokenProvider:
    """A ``token_provider(force_refresh)`` like the accounts module's, recording how it was called."""

    def __init__(self, sandbox_url: str, token: dict) -> None:
        self.sandbox_url = sandbox_url
        self.token = token
        self.calls: list[bool] = []

    def __call__(self, force_refresh: bool) -> str:
        self.calls.append(force_refresh)
        if force_refresh:
            self.token = refresh(self.sandbox_url, self.token["refresh_token"])
        return Secret(self.token["access_token"])


class Admin:
    """The sandbox's admin API (``/_sandbox/…``)."""

    def __init__(self, sandbox_url: str) -> None:
        self.url = sandbox_url

    def _call(self, method: str, path: str, json: object = None) -> object:
        response = httpx.request(method, f"{self.url}/_sandbox{path}", json=json, timeout=10)
        response.raise_for_status()
        return response.json()

    def state(self, company_id: str, state: str) -> None:
        self._call("PUT", f"/companies/{company_id}/state", {"state": state})

    def faults(self, company_id: str, **faults: object) -> None:
        self._call("PUT", f"/companies/{company_id}/faults", faults)

    def settings(self, **settings: object) -> None:
        self._call("PUT", "/settings", settings)

    def advance(self, seconds: float) -> None:
        self._call("POST", "/clock", {"advance_seconds": seconds})

    def today(self) -> date:
        now = self._call("GET", "/clock")["now"]  # type: ignore[index]
        return date.fromisoformat(now[:10])

    def stats(self) -> dict:
        return self._call("GET", "/stats")  # type: ignore[return-value]

    def calls(self, key: str) -> int:
        return self.stats()["api_calls"].get(key, 0)

    def reset_stats(self) -> None:
        self._call("POST", "/stats/reset")

    def vouchers(self, company_id: str | None = None) -> list[dict]:
        docs = self._call("GET", "/vouchers")
        return [d for d in docs if company_id is None or d["company_id"] == company_id]  # type: ignore[union-attr]


def advancing_sleep(admin: Admin, waits: list[float]) -> Callable[[float], None]:
    """A ``sleep`` that records the wait and moves the sandbox clock instead of sleeping."""

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        admin.advance(seconds)

    return sleep


def voucher_body(day: date, text: str = "Loonjournaal", amount: str = "1000.00", **row_extra: object) -> dict:
    """A balanced two-row payroll voucher (4000 Brutolonen / 1520 Te betalen nettolonen)."""
    return {
        "VoucherDate": day.isoformat(),
        "VoucherText": text,
        "VoucherType": 2,
        "Rows": [
            {"AccountNumber": 4000, "DebitAmount": float(amount), "TransactionText": "Brutolonen", **row_extra},
            {"AccountNumber": 1520, "CreditAmount": float(amount), "TransactionText": "Nettolonen"},
        ],
    }


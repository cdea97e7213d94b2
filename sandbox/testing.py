"""Drive the sandbox like a browser and a client would: for this project's tests (sandbox's and core's).

``Browser(base).code(email, company_name)`` performs the whole authorization dance over HTTP (login form, company
choice, consent) and returns the redirect's query; ``token_request`` calls ``/connect/token``. Only httpx and the
standard library, so any test can use it against a running sandbox.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import ssl
from functools import cache
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from sandbox import seed

REDIRECT = "http://localhost:8501/"
FULL_SCOPE = "ea:api offline_access ea:accounting ea:sales_readonly"


@cache
def shared_ssl_context() -> ssl.SSLContext:
    """One TLS context for all clients: building one per httpx client costs tens of milliseconds."""
    return ssl.create_default_context()


@cache
def _http() -> httpx.Client:
    return httpx.Client(timeout=10, verify=shared_ssl_context())


class _Forms(HTMLParser):
    """Every form of a page: action, hidden fields and submit buttons (name, value, label)."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, Any]] = []
        self._button: dict[str, str] | None = None
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append({"action": a.get("action", ""), "fields": {}, "buttons": [], "inputs": []})
        elif tag == "input" and self.forms:
            self.forms[-1]["inputs"].append(a.get("name", ""))
            if a.get("type") == "hidden":
                self.forms[-1]["fields"][a["name"]] = a.get("value", "")
        elif tag == "button" and self.forms:
            self._button = {"name": a.get("name", ""), "value": a.get("value", ""), "label": ""}

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if self._button is not None:
            self._button["label"] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "button" and self._button is not None and self.forms:
            self._button["label"] = self._button["label"].strip()
            self.forms[-1]["buttons"].append(self._button)
            self._button = None


def page_forms(html: str) -> list[dict[str, Any]]:
    parser = _Forms()
    parser.feed(html)
    return parser.forms


def page_text(html: str) -> str:
    parser = _Forms()
    parser.feed(html)
    return " ".join(" ".join(parser.text).split())


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def query_of(location: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


class Browser:
    """Drives the login, company choice and consent pages the way a browser does (cookies kept, no auto-redirect)."""

    def __init__(self, base: str, redirect_uri: str = REDIRECT) -> None:
        self.base = base
        self.redirect_uri = redirect_uri
        self.http = httpx.Client(base_url=base, follow_redirects=False, timeout=10, verify=shared_ssl_context())

    def close(self) -> None:
        self.http.close()

    def authorize(self, **params: str) -> httpx.Response:
        query = {"client_id": seed.CLIENT_ID, "redirect_uri": self.redirect_uri, "response_type": "code",
                 "scope": FULL_SCOPE, "state": "st-123", **params}
        return self.http.get("/connect/authorize", params={k: v for k, v in query.items() if v is not None})

    def submit(self, page: httpx.Response, button_label: str | None = None, **fields: str) -> httpx.Response:
        assert page.status_code == 200, page.text[:300]
        form = page_forms(page.text)[0]
        data = dict(form["fields"])
        data.update(fields)
        if button_label is not None:
            button = next(b for b in form["buttons"] if b["label"] == button_label)
            if button["name"]:
                data[button["name"]] = button["value"]
        return self.http.post(form["action"], data=data)

    def login(self, page: httpx.Response, email: str, password: str = seed.PASSWORD) -> httpx.Response:
        return self.submit(page, email=email, password=password)

    def code(self, email: str, company: str | None = None, decision: str = "Allow", **params: str) -> dict[str, str]:
        """The whole dance; returns the redirect's query (code, state, …)."""
        page = self.authorize(**params)
        if 'name="password"' in page.text:
            page = self.login(page, email)
        if "Choose a company" in page.text:
            assert company is not None, "the company choice was shown but no company was given"
            page = self.submit(page, company)
        assert "Allow" in page.text, page.text[:500]
        redirect = self.submit(page, decision)
        assert redirect.status_code == 302, redirect.text[:300]
        return query_of(redirect.headers["location"])


def token_request(base: str, data: dict[str, str], auth: str = "basic",
                  client_id: str = seed.CLIENT_ID, secret: str = seed.CLIENT_SECRET) -> httpx.Response:
    if auth == "basic":
        return _http().post(f"{base}/connect/token", data=data, auth=(client_id, secret))
    form = {**data, "client_id": client_id, "client_secret": secret}
    return _http().post(f"{base}/connect/token", data=form)


ENVELOPE_KEYS = frozenset({"ErrorCode", "DeveloperErrorMessage", "ErrorId"})


def error_of(resp: httpx.Response) -> dict[str, Any]:
    """Visma's error envelope of a response (asserts its exact key set: the three keys of sandbox/errors.py)."""
    body = resp.json()
    assert set(body) == ENVELOPE_KEYS, body
    return body

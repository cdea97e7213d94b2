"""The scripted browser login against the sandbox's identity pages (and a template it has never seen)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from core.demo.login import DemoLoginError, login_and_consent, parse_page
from sandbox import seed
from tests.support.visma import ANNA, PASSWORD, REDIRECT_URI, authorization_url, sandbox_token


def _query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def _company_of(sandbox, token: dict) -> str:
    response = httpx.get(f"{sandbox.url}/v2/companysettings",
                         headers={"Authorization": f"Bearer {token['access_token']}"}, timeout=10)
    response.raise_for_status()
    return response.json()["Name"]


def test_allow_returns_the_callback_with_code_and_state(sandbox):
    url = authorization_url(sandbox.url, state="s-123")
    callback = login_and_consent(url, email=ANNA, password=PASSWORD, company="Transportbedrijf Visser B.V.")
    assert callback.startswith(REDIRECT_URI + "?")
    query = _query(callback)
    assert query["state"] == "s-123" and query["code"]


@pytest.mark.parametrize("company", [seed.HOVENIER, "Hoveniersbedrijf Groen & Zonen", "hoveniersbedrijf groen"])
def test_company_choice_by_id_exact_or_partial_name(sandbox, company):
    token = sandbox_token(sandbox.url, email=ANNA, company=company)
    assert _company_of(sandbox, token) == "Hoveniersbedrijf Groen & Zonen"


def test_single_company_user_needs_no_choice(sandbox):
    token = sandbox_token(sandbox.url, email=seed.EVA, company=None)
    assert _company_of(sandbox, token) == "Hoveniersbedrijf Groen & Zonen"


def test_wrong_password(sandbox):
    with pytest.raises(DemoLoginError) as info:
        login_and_consent(authorization_url(sandbox.url), email=ANNA, password="Wr0ng-Secret!", company=seed.BAKKERIJ)
    assert "Login refused for anna.dekker@demo-bureau.nl" in str(info.value)
    assert "incorrect" in str(info.value)
    assert "Wr0ng-Secret!" not in str(info.value)  # the password is never echoed


def test_company_not_offered(sandbox):
    with pytest.raises(DemoLoginError) as info:
        login_and_consent(authorization_url(sandbox.url), email=ANNA, password=PASSWORD, company="Nergens B.V.")
    assert "'Nergens B.V.' is not offered" in str(info.value)
    assert "Bakkerij De Gouden Korst B.V." in str(info.value)


def test_choice_required_without_a_company(sandbox):
    with pytest.raises(DemoLoginError, match="name one of"):
        login_and_consent(authorization_url(sandbox.url), email=ANNA, password=PASSWORD)


def test_deny_returns_access_denied(sandbox):
    callback = login_and_consent(authorization_url(sandbox.url, state="d1"), email=ANNA, password=PASSWORD,
                                 company=seed.BAKKERIJ, allow=False)
    assert _query(callback) == {"error": "access_denied", "state": "d1"}


def test_unexpected_page_is_explained(sandbox):
    url = authorization_url(sandbox.url).replace("localhost%3A8501", "evil.example")
    with pytest.raises(DemoLoginError) as info:
        login_and_consent(url, email=ANNA, password=PASSWORD, company=seed.BAKKERIJ)
    assert "Unexpected page at /connect/authorize" in str(info.value)
    assert "redirect_uri" in str(info.value)


def test_shared_client_keeps_the_login_cookie(sandbox):
    with httpx.Client() as http:
        login_and_consent(authorization_url(sandbox.url), email=ANNA, password=PASSWORD, company=seed.BAKKERIJ,
                          http=http)
        # second run: the identity server remembers the login, the robot goes straight to the choice
        callback = login_and_consent(authorization_url(sandbox.url), email=ANNA, password="not-needed",
                                     company=seed.TRANSPORT, http=http)
    assert "code" in _query(callback)


def test_forms_are_read_generically():
    html = """<html><head><title>Kies</title></head><body><h1>Kies een bedrijf</h1>
      <form action="/pick" method="POST"><input type="hidden" name="t" value="1">
        <select name="org"><option value="c1">Alpha BV</option><option value="c2" selected>Beta BV</option></select>
        <input type="radio" name="r" value="x" checked> Ex <input type="radio" name="r" value="y"> Why
        <input type="submit" name="go" value="Verder"></form></body></html>"""
    page = parse_page("http://idp/x", 200, html)
    (form,) = page.forms
    assert form.action == "/pick" and form.method == "post"
    assert form.selects["org"] == [("c1", "Alpha BV", False), ("c2", "Beta BV", True)]
    assert [(v, label) for _, v, label, _ in form.radios] == [("x", "Ex"), ("y", "Why")]
    assert form.base_data() == {"t": "1", "org": "c2", "r": "x"}
    assert page.describe() == "Kies een bedrijf (HTTP 200)"

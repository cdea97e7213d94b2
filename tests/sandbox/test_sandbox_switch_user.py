"""*Sign in as someone else* on the sandbox's login pages, over real HTTP: a browser already signed in to the sandbox
is offered it on the company choice and the consent page; it ends that session and shows the login form again for
the same authorization (client, redirect URI, state and PKCE challenge kept), so a demo can switch demo users."""

from __future__ import annotations

from urllib.parse import urlsplit

from sandbox import seed
from sandbox.testing import REDIRECT, page_forms, page_text, pkce_pair, query_of, token_request

SWITCH = "Sign in as someone else"


def _switch_form(page) -> dict:
    forms = [f for f in page_forms(page.text) if any(b["label"] == SWITCH for b in f["buttons"])]
    assert len(forms) == 1, page.text[:800]
    return forms[0]


def _switch(browser, page):
    form = _switch_form(page)
    return browser.http.post(form["action"], data=form["fields"])


def test_login_form_does_not_offer_it_without_a_session(browser):
    page = browser.authorize()
    assert 'name="password"' in page.text
    assert SWITCH not in page.text


def test_signed_in_browser_is_offered_sign_in_as_someone_else_on_consent_and_choice(browser):
    browser.code(seed.EVA)  # the browser now has a sandbox session as Eva
    consent = browser.authorize()
    assert 'name="password"' not in consent.text and "Allow" in consent.text
    assert f"Not {seed.EVA}? {SWITCH}" in page_text(consent.text)
    _switch_form(consent)
    # the main form is still the first one (Allow / Deny), the switch is apart from it
    assert [b["label"] for b in page_forms(consent.text)[0]["buttons"]] == ["Allow", "Deny"]

    browser.code(seed.ANNA, "Bakkerij De Gouden Korst B.V.", prompt="login")  # now signed in as Anna
    choice = browser.authorize()
    assert "Choose a company" in choice.text
    _switch_form(choice)


def test_sign_in_as_someone_else_ends_the_session_and_keeps_the_authorization(browser, sbx):
    browser.code(seed.EVA)
    verifier, challenge = pkce_pair()
    asked = {"state": "switch-42", "code_challenge": challenge, "code_challenge_method": "S256"}
    consent = browser.authorize(**asked)
    assert "Hoveniersbedrijf Groen &amp; Zonen" in consent.text  # Eva's only company, no login asked

    switched = _switch(browser, consent)
    assert switched.status_code in (302, 303)
    location = switched.headers["location"]
    assert urlsplit(location).path == "/connect/authorize"
    q = query_of(location)
    assert q["client_id"] == seed.CLIENT_ID and q["redirect_uri"] == REDIRECT
    assert q["state"] == "switch-42" and q["code_challenge"] == challenge and q["code_challenge_method"] == "S256"
    assert q["response_type"] == "code" and "ea:accounting" in q["scope"].split()

    login = browser.http.get(location)
    assert login.status_code == 200 and 'name="password"' in login.text  # signed out: the login form again
    assert SWITCH not in login.text
    # the old session is gone for good: another authorization asks for the login too
    assert 'name="password"' in browser.authorize().text

    choice = browser.login(login, seed.ANNA)
    assert "Choose a company" in choice.text
    allow = browser.submit(choice, "Bakkerij De Gouden Korst B.V.")
    redirect = browser.submit(allow, "Allow")
    assert redirect.status_code == 302
    back = query_of(redirect.headers["location"])
    assert back["state"] == "switch-42"
    token = token_request(sbx.url, {"grant_type": "authorization_code", "code": back["code"],
                                    "redirect_uri": REDIRECT, "code_verifier": verifier})
    assert token.status_code == 200, token.text
    me = browser.http.get("/v2/companysettings",
                          headers={"Authorization": f"Bearer {token.json()['access_token']}"})
    assert me.json()["Name"] == "Bakkerij De Gouden Korst B.V."  # Anna's choice, not Eva's company
    assert f"Not {seed.ANNA}? {SWITCH}" in page_text(browser.authorize().text)  # the new session is Anna's


def test_switch_with_an_unknown_login_transaction_still_signs_out(browser):
    browser.code(seed.EVA)
    answer = browser.http.post("/connect/switch-user", data={"tx": "no-such-transaction"})
    assert answer.status_code == 400 and "expired" in answer.text
    assert 'name="password"' in browser.authorize().text

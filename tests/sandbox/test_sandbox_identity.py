"""The identity server over real HTTP: the authorization dance, tokens, refresh rotation, revocation, discovery."""

from __future__ import annotations

import httpx
import pytest

from sandbox import seed
from sandbox.identity import ESERVICE_GUID as ESERVICE
from sandbox.testing import FULL_SCOPE, REDIRECT, Browser, page_forms, page_text, pkce_pair, query_of, token_request

CODE = "authorization_code"


def exchange(sbx, code: str, **extra: str) -> httpx.Response:
    return token_request(sbx.url, {"grant_type": CODE, "code": code, "redirect_uri": REDIRECT, **extra})


def refresh(sbx, rt: str, **kw) -> httpx.Response:
    return token_request(sbx.url, {"grant_type": "refresh_token", "refresh_token": rt}, **kw)


def companysettings(sbx, access_token: str) -> httpx.Response:
    return httpx.get(f"{sbx.url}/v2/companysettings", headers={"Authorization": f"Bearer {access_token}"})


def test_login_page_is_a_usable_form(browser):
    page = browser.authorize()
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    form = page_forms(page.text)[0]
    assert {"email", "password"} <= set(form["inputs"])
    assert "tx" in form["fields"]
    assert '<label for="email">' in page.text and '<label for="password">' in page.text


def test_full_dance_with_company_choice_consent_and_token(browser, sbx):
    page = browser.login(browser.authorize(), seed.ANNA)
    assert "Choose a company" in page.text
    labels = [b["label"] for b in page_forms(page.text)[0]["buttons"]]
    assert labels == [c["name"] for c in seed.COMPANIES]
    consent = browser.submit(page, "Bakkerij De Gouden Korst B.V.")
    text = page_text(consent.text)
    assert "eAccounting Link" in text and "Bakkerij De Gouden Korst B.V." in text
    assert "Read and create bookkeeping" in text and "offline access" in text
    assert [b["label"] for b in page_forms(consent.text)[0]["buttons"]] == ["Allow", "Deny"]
    redirect = browser.submit(consent, "Allow")
    assert redirect.status_code == 302
    location = redirect.headers["location"]
    assert location.startswith(REDIRECT + "?")
    q = query_of(location)
    assert q["state"] == "st-123" and q["code"]
    r = exchange(sbx, q["code"])
    assert r.status_code == 200
    body = r.json()
    assert set(body) == {"access_token", "token_type", "expires_in", "refresh_token", "scope"}
    assert body["token_type"] == "Bearer" and body["expires_in"] == 3600
    assert body["scope"].split() == FULL_SCOPE.split()
    assert r.headers["cache-control"] == "no-store"
    settings = companysettings(sbx, body["access_token"])
    assert settings.status_code == 200
    assert settings.json()["Name"] == "Bakkerij De Gouden Korst B.V."


def test_single_company_user_skips_the_choice(browser):
    page = browser.login(browser.authorize(), seed.EVA)
    assert "Allow" in page.text and "Hoveniersbedrijf Groen &amp; Zonen" in page.text


def test_select_account_shows_the_choice_even_with_one_company(browser):
    page = browser.login(browser.authorize(prompt="select_account"), seed.EVA)
    assert "Choose a company" in page.text


def test_default_company_skips_the_choice_even_with_select_account(browser, sbx):
    page = browser.login(browser.authorize(prompt="select_account"), seed.JOOST)
    assert "Choose a company" not in page.text
    assert "Drukkerij Smit &amp; Co B.V." in page.text  # the default company, whose API module is off
    q = query_of(browser.submit(page, "Allow").headers["location"])
    token = exchange(sbx, q["code"]).json()["access_token"]
    r = companysettings(sbx, token)
    assert r.status_code == 403 and r.json()["ErrorCode"] == 4002


def test_unsetting_the_default_company_brings_the_choice_back(browser, sbx):
    httpx.put(f"{sbx.url}/_sandbox/users/{seed.JOOST}/default-company", json={"company_id": None}).raise_for_status()
    page = browser.login(browser.authorize(), seed.JOOST)
    assert "Choose a company" in page.text


def test_wrong_password_and_unknown_email_give_the_same_message(browser):
    first = browser.login(browser.authorize(), seed.ANNA, "wrong")
    second = browser.login(browser.authorize(), "nobody@example.nl", "wrong")
    for page in (first, second):
        assert page.status_code == 200
        assert "The e-mail address or password is incorrect." in page.text
        assert 'name="password"' in page.text
    assert page_text(first.text).count("incorrect") == 1
    # the password is never echoed back into the page
    assert "wrong" not in first.text.replace("wrong_", "")


def test_browser_session_skips_login_unless_prompt_login(browser):
    browser.code(seed.EVA)
    again = browser.authorize()
    assert 'name="password"' not in again.text and "Allow" in again.text
    forced = browser.authorize(prompt="login")
    assert 'name="password"' in forced.text


def test_deny_redirects_with_access_denied(browser):
    q = browser.code(seed.EVA, decision="Deny")
    assert q == {"error": "access_denied", "state": "st-123"}


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({"client_id": "unknown-client"}, "invalid_client"),
        ({"redirect_uri": "http://evil.example/cb"}, "invalid_request"),
        ({"redirect_uri": "http://localhost:8501"}, "invalid_request"),  # not registered exactly (no slash)
        ({"scope": "ea:api ea:everything"}, "invalid_scope"),
    ],
)
def test_bad_authorize_requests_show_an_error_page_and_never_redirect(browser, params, error):
    r = browser.authorize(**params)
    assert r.status_code == 400
    assert "location" not in r.headers
    assert error in r.text


def test_extra_redirect_uris_by_option_and_by_admin(sbx):
    b = Browser(sbx.url, redirect_uri="http://127.0.0.1:9999/callback")  # registered by start_sandbox(redirect_uris=)
    try:
        assert b.code(seed.EVA)["code"]
    finally:
        b.close()
    new = "http://127.0.0.1:8777/"
    assert Browser(sbx.url, redirect_uri=new).authorize().status_code == 400
    r = httpx.post(f"{sbx.url}/_sandbox/redirect-uris", json={"client_id": seed.CLIENT_ID, "redirect_uri": new})
    assert new in r.json()["redirect_uris"]
    b = Browser(sbx.url, redirect_uri=new)
    try:
        assert b.code(seed.EVA)["code"]
    finally:
        b.close()


def test_code_is_single_use_and_reuse_revokes_its_tokens(browser, sbx):
    q = browser.code(seed.EVA)
    first = exchange(sbx, q["code"])
    assert first.status_code == 200
    again = exchange(sbx, q["code"])
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
    assert companysettings(sbx, first.json()["access_token"]).status_code == 401
    assert refresh(sbx, first.json()["refresh_token"]).json()["error"] == "invalid_grant"


def test_code_expires_after_five_minutes(browser, sbx):
    q = browser.code(seed.EVA)
    httpx.post(f"{sbx.url}/_sandbox/clock", json={"advance_seconds": 301}).raise_for_status()
    r = exchange(sbx, q["code"])
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant"


def test_code_is_bound_to_redirect_uri_and_client(browser, sbx):
    q = browser.code(seed.EVA)
    r = token_request(sbx.url, {"grant_type": CODE, "code": q["code"], "redirect_uri": "http://127.0.0.1:8501/"})
    assert r.json()["error"] == "invalid_grant"
    q = browser.code(seed.EVA)
    assert exchange(sbx, q["code"]).status_code == 200


def test_client_authentication_basic_form_and_wrong_secret(browser, sbx):
    q = browser.code(seed.EVA)
    bad = token_request(sbx.url, {"grant_type": CODE, "code": q["code"], "redirect_uri": REDIRECT}, secret="nope")
    assert bad.status_code == 401 and bad.json()["error"] == "invalid_client"
    none = httpx.post(f"{sbx.url}/connect/token", data={"grant_type": CODE, "code": q["code"]})
    assert none.status_code == 401
    ok = token_request(sbx.url, {"grant_type": CODE, "code": q["code"], "redirect_uri": REDIRECT}, auth="form")
    assert ok.status_code == 200


def test_unsupported_grant_type(sbx):
    r = token_request(sbx.url, {"grant_type": "password", "username": "x", "password": "y"})
    assert r.status_code == 400 and r.json()["error"] == "unsupported_grant_type"


def test_pkce_s256_match_mismatch_and_missing(browser, sbx):
    verifier, challenge = pkce_pair()
    q = browser.code(seed.EVA, code_challenge=challenge, code_challenge_method="S256")
    wrong = exchange(sbx, q["code"], code_verifier=pkce_pair()[0])
    assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_grant"
    q = browser.code(seed.EVA, code_challenge=challenge, code_challenge_method="S256")
    missing = exchange(sbx, q["code"])
    assert missing.json()["error"] == "invalid_grant"
    q = browser.code(seed.EVA, code_challenge=challenge, code_challenge_method="S256")
    assert exchange(sbx, q["code"], code_verifier=verifier).status_code == 200


def test_pkce_plain(browser, sbx):
    verifier = "p" * 50
    q = browser.code(seed.EVA, code_challenge=verifier, code_challenge_method="plain")
    assert exchange(sbx, q["code"], code_verifier=verifier).status_code == 200


def test_no_refresh_token_without_offline_access(browser, sbx):
    q = browser.code(seed.EVA, scope="ea:api ea:accounting")
    body = exchange(sbx, q["code"]).json()
    assert "refresh_token" not in body and body["scope"] == "ea:api ea:accounting"


def test_refresh_rotates_and_the_old_token_is_rejected(tokens_for, sbx):
    first = tokens_for(seed.EVA)
    r1 = refresh(sbx, first["refresh_token"])
    assert r1.status_code == 200
    second = r1.json()
    assert set(second) == {"access_token", "token_type", "expires_in", "refresh_token", "scope"}
    assert second["refresh_token"] != first["refresh_token"]
    reuse = refresh(sbx, first["refresh_token"])
    assert reuse.status_code == 400 and reuse.json()["error"] == "invalid_grant"
    assert refresh(sbx, second["refresh_token"]).status_code == 200
    assert companysettings(sbx, second["access_token"]).status_code == 200


def test_reusing_a_rotated_token_can_revoke_the_family(tokens_for, sbx):
    httpx.put(f"{sbx.url}/_sandbox/settings", json={"revoke_family_on_refresh_reuse": True}).raise_for_status()
    first = tokens_for(seed.EVA)
    second = refresh(sbx, first["refresh_token"]).json()
    assert refresh(sbx, first["refresh_token"]).status_code == 400
    assert refresh(sbx, second["refresh_token"]).json()["error"] == "invalid_grant"


def test_reusable_refresh_tokens(tokens_for, sbx):
    r = httpx.put(f"{sbx.url}/_sandbox/clients/{seed.CLIENT_ID}", json={"refresh_token_mode": "reusable"})
    assert r.json()["refresh_token_mode"] == "reusable"
    first = tokens_for(seed.EVA)
    a = refresh(sbx, first["refresh_token"]).json()
    b = refresh(sbx, first["refresh_token"]).json()
    assert a["refresh_token"] == b["refresh_token"] == first["refresh_token"]
    assert a["access_token"] != b["access_token"]


def test_refresh_token_of_another_client_is_rejected(tokens_for, sbx):
    first = tokens_for(seed.EVA)
    r = refresh(sbx, first["refresh_token"], client_id="someone-else", secret="x")
    assert r.status_code == 401
    r = refresh(sbx, "forged-" + first["refresh_token"])
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant"


def test_access_token_expires_after_an_hour_and_refresh_token_after_30_days(tokens_for, sbx):
    tok = tokens_for(seed.EVA)
    assert companysettings(sbx, tok["access_token"]).status_code == 200
    httpx.post(f"{sbx.url}/_sandbox/clock", json={"advance_seconds": 3601})
    expired = companysettings(sbx, tok["access_token"])
    assert expired.status_code == 401 and expired.json()["ErrorCode"] == 4005
    assert expired.headers["www-authenticate"].startswith("Bearer")
    fresh = refresh(sbx, tok["refresh_token"])
    assert fresh.status_code == 200
    httpx.post(f"{sbx.url}/_sandbox/clock", json={"advance_seconds": 31 * 24 * 3600})
    assert refresh(sbx, fresh.json()["refresh_token"]).json()["error"] == "invalid_grant"


def advance(sbx, seconds: int) -> None:
    httpx.post(f"{sbx.url}/_sandbox/clock", json={"advance_seconds": seconds}).raise_for_status()


DAY = 24 * 3600


def test_refresh_token_expiration_is_absolute_by_default(tokens_for, sbx):
    """Rotated refresh tokens keep the expiry of the authorization's first one: refreshing never extends the grant."""
    assert httpx.get(f"{sbx.url}/_sandbox/settings").json()["refresh_token_expiration"] == "absolute"
    current = tokens_for(seed.EVA)["refresh_token"]
    for _ in range(3):  # refreshed on days 10, 20 and 29: each works, none moves the end
        advance(sbx, 10 * DAY if _ < 2 else 9 * DAY)
        r = refresh(sbx, current)
        assert r.status_code == 200, r.text
        current = r.json()["refresh_token"]
    advance(sbx, DAY + 1)  # 30 days and a second after the authorization
    expired = refresh(sbx, current)
    assert expired.status_code == 400
    assert expired.json() == {"error": "invalid_grant", "error_description": "The refresh token has expired."}


def test_refresh_token_expiration_can_slide(tokens_for, sbx):
    r = httpx.put(f"{sbx.url}/_sandbox/settings", json={"refresh_token_expiration": "sliding"})
    assert r.status_code == 200 and r.json()["refresh_token_expiration"] == "sliding"
    current = tokens_for(seed.EVA)["refresh_token"]
    for _ in range(4):  # 4 × 20 days: each rotated token lives 30 days from its own issue
        advance(sbx, 20 * DAY)
        r = refresh(sbx, current)
        assert r.status_code == 200, r.text
        current = r.json()["refresh_token"]
    advance(sbx, 30 * DAY + 1)  # unused for longer than the lifetime: gone
    assert refresh(sbx, current).json()["error"] == "invalid_grant"


def test_refresh_token_expiration_setting_is_validated(sbx):
    r = httpx.put(f"{sbx.url}/_sandbox/settings", json={"refresh_token_expiration": "forever"})
    assert r.status_code == 400 and "absolute" in r.text
    assert httpx.get(f"{sbx.url}/_sandbox/settings").json()["refresh_token_expiration"] == "absolute"


def test_password_change_invalidates_tokens_and_browser_session(tokens_for, browser, sbx):
    tok = tokens_for(seed.EVA)
    browser.code(seed.EVA)
    r = httpx.put(f"{sbx.url}/_sandbox/users/{seed.EVA}/password", json={"password": "Nieuw2026!"})
    assert r.status_code == 200
    assert companysettings(sbx, tok["access_token"]).status_code == 401
    assert refresh(sbx, tok["refresh_token"]).json()["error"] == "invalid_grant"
    assert 'name="password"' in browser.authorize().text
    assert "incorrect" in browser.login(browser.authorize(), seed.EVA).text
    page = browser.login(browser.authorize(), seed.EVA, "Nieuw2026!")
    assert "Allow" in page.text


def test_revoking_a_refresh_token_revokes_its_access_tokens(tokens_for, sbx):
    tok = tokens_for(seed.EVA)
    later = refresh(sbx, tok["refresh_token"]).json()
    r = httpx.post(f"{sbx.url}/connect/revocation", data={"token": later["refresh_token"],
                                                          "token_type_hint": "refresh_token"},
                   auth=(seed.CLIENT_ID, seed.CLIENT_SECRET))
    assert r.status_code == 200 and r.content == b""
    assert refresh(sbx, later["refresh_token"]).json()["error"] == "invalid_grant"
    assert companysettings(sbx, later["access_token"]).status_code == 401
    assert companysettings(sbx, tok["access_token"]).status_code == 401


def test_revocation_requires_client_auth_and_accepts_unknown_tokens(sbx):
    assert httpx.post(f"{sbx.url}/connect/revocation", data={"token": "x"}).status_code == 401
    r = httpx.post(f"{sbx.url}/connect/revocation", data={"token": "unknown"},
                   auth=(seed.CLIENT_ID, seed.CLIENT_SECRET))
    assert r.status_code == 200


def test_forged_and_missing_tokens_get_401(tokens_for, sbx):
    tok = tokens_for(seed.EVA)["access_token"]
    head, payload, sig = tok.split(".")
    forged = f"{head}.{payload}.{sig[:-2]}xx"
    for value in (forged, "not-a-token"):
        r = companysettings(sbx, value)
        assert r.status_code == 401 and r.json()["ErrorCode"] == 4005
        assert r.json()["DeveloperErrorMessage"] == (
            "AuthorizationException - Authorization has been denied for this request.")
    assert httpx.get(f"{sbx.url}/v2/companysettings").status_code == 401


def test_token_claims_name_the_company(tokens_for):
    import base64
    import json

    tok = tokens_for(seed.ANNA, "Transportbedrijf Visser B.V.")["access_token"]
    payload = tok.split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    assert claims["customer_id"] == seed.TRANSPORT and claims["client_id"] == seed.CLIENT_ID
    assert claims["exp"] - claims["nbf"] == 3600


def test_discovery_document(sbx):
    doc = httpx.get(f"{sbx.url}/.well-known/openid-configuration").json()
    assert doc["issuer"] == sbx.url
    assert doc["authorization_endpoint"] == f"{sbx.url}/connect/authorize"
    assert doc["token_endpoint"] == f"{sbx.url}/connect/token"
    assert doc["revocation_endpoint"] == f"{sbx.url}/connect/revocation"
    assert doc["code_challenge_methods_supported"] == ["plain", "S256"]
    assert doc["token_endpoint_auth_methods_supported"] == ["client_secret_basic", "client_secret_post"]
    assert {"ea:api", "offline_access", "ea:accounting"} <= set(doc["scopes_supported"])


def test_expired_login_transaction(browser, sbx):
    page = browser.authorize()
    httpx.post(f"{sbx.url}/_sandbox/clock", json={"advance_seconds": 16 * 60})
    r = browser.login(page, seed.EVA)
    assert r.status_code == 400 and "expired" in r.text


# ------------------------------------------------------------------------------- acr_values, clients, discovery

OTHER_CLIENT, OTHER_SECRET = "other-integration", "other-secret"


def add_other_client(sbx) -> None:
    """A second registered client (the seed has one), with the same redirect URI, written straight into the store."""
    with sbx.store.tx() as tx:
        tx.put("client", OTHER_CLIENT, {"id": OTHER_CLIENT, "secret": OTHER_SECRET, "name": "Other integration",
                                        "redirect_uris": [REDIRECT], "refresh_token_mode": "rotating"})


def test_acr_values_service_keeps_eaccounting_companies_and_drops_other_services(browser):
    other = browser.authorize(acr_values="service:00000000-0000-0000-0000-000000000001")
    r = browser.login(other, seed.EVA)
    assert r.status_code == 403 and "location" not in r.headers
    assert "None of your companies uses the service" in page_text(r.text)
    eaccounting = browser.authorize(prompt="login", acr_values=f"service:{ESERVICE.lower()}")
    eaccounting = browser.login(eaccounting, seed.ANNA)
    assert [b["label"] for b in page_forms(eaccounting.text)[0]["buttons"]] == [c["name"] for c in seed.COMPANIES]


def test_acr_forceselectcompany_is_off_by_default_and_switchable(browser, sbx):
    acr = f"service:{ESERVICE} forceselectcompany:true"
    page = browser.login(browser.authorize(prompt="login", acr_values=acr), seed.JOOST)
    assert "Choose a company" not in page.text and "Drukkerij Smit &amp; Co B.V." in page.text
    httpx.put(f"{sbx.url}/_sandbox/settings", json={"honour_forceselectcompany": True}).raise_for_status()
    page = browser.login(browser.authorize(prompt="login", acr_values=acr), seed.JOOST)
    assert "Choose a company" in page.text
    assert [b["label"] for b in page_forms(page.text)[0]["buttons"]] == [
        "Van der Berg Installatietechniek B.V.", "Drukkerij Smit & Co B.V."]
    without_login = browser.authorize(acr_values=acr)  # the legacy switch needs prompt=login too
    assert "Choose a company" not in without_login.text and "Allow" in without_login.text


def test_choosing_a_company_that_is_not_offered_is_refused(browser):
    httpx.put(f"{browser.base}/_sandbox/users/{seed.JOOST}/default-company",
              json={"company_id": None}).raise_for_status()
    page = browser.login(browser.authorize(), seed.JOOST)
    assert "Choose a company" in page.text
    tx_id = page_forms(page.text)[0]["fields"]["tx"]
    r = browser.http.post("/connect/choose", data={"tx": tx_id, "company_id": "00000000-0000-0000-0000-000000000000"})
    assert r.status_code == 400 and "location" not in r.headers
    assert "not one of yours" in page_text(r.text)
    bakkerij = browser.http.post("/connect/choose", data={"tx": tx_id, "company_id": seed.BAKKERIJ})  # Anna's only
    assert bakkerij.status_code == 400 and "location" not in bakkerij.headers


def test_code_is_bound_to_its_client(browser, sbx):
    add_other_client(sbx)
    q = browser.code(seed.EVA)
    stolen = token_request(
        sbx.url, {"grant_type": CODE, "code": q["code"], "redirect_uri": REDIRECT},
        client_id=OTHER_CLIENT, secret=OTHER_SECRET)
    assert stolen.status_code == 400 and stolen.json()["error"] == "invalid_grant"
    assert exchange(sbx, q["code"]).status_code == 200


def test_refresh_token_of_another_registered_client_is_invalid_grant(tokens_for, sbx):
    add_other_client(sbx)
    tok = tokens_for(seed.EVA)
    r = refresh(sbx, tok["refresh_token"], client_id=OTHER_CLIENT, secret=OTHER_SECRET)
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant"
    assert refresh(sbx, tok["refresh_token"]).status_code == 200  # the failed attempt did not use it up


def test_form_authentication_with_a_wrong_secret_and_two_methods_at_once(browser, sbx):
    q = browser.code(seed.EVA)
    data = {"grant_type": CODE, "code": q["code"], "redirect_uri": REDIRECT}
    wrong = token_request(sbx.url, data, auth="form", secret="nope")
    assert wrong.status_code == 401 and wrong.json()["error"] == "invalid_client"
    assert wrong.headers["www-authenticate"].startswith("Basic")
    both = httpx.post(f"{sbx.url}/connect/token", auth=(seed.CLIENT_ID, seed.CLIENT_SECRET),
                      data={**data, "client_id": seed.CLIENT_ID, "client_secret": seed.CLIENT_SECRET})
    assert both.status_code == 400 and both.json()["error"] == "invalid_request"
    unknown = token_request(sbx.url, data, client_id="nobody", secret=seed.CLIENT_SECRET)
    assert unknown.status_code == 401 and unknown.json()["error"] == "invalid_client"
    assert token_request(sbx.url, data).status_code == 200  # none of the refusals used the code


def test_pkce_plain_mismatch_default_method_and_unexpected_verifier(browser, sbx):
    challenge = "c" * 43
    q = browser.code(seed.EVA, code_challenge=challenge, code_challenge_method="plain")
    assert exchange(sbx, q["code"], code_verifier="d" * 43).json()["error"] == "invalid_grant"
    q = browser.code(seed.EVA, code_challenge=challenge)  # no method: plain (RFC 7636 §4.3)
    assert exchange(sbx, q["code"], code_verifier=challenge).status_code == 200
    q = browser.code(seed.EVA)  # no challenge, yet a verifier: Duende refuses it
    assert exchange(sbx, q["code"], code_verifier="v" * 43).json()["error"] == "invalid_grant"


@pytest.mark.parametrize(("params", "error"), [
    ({"code_challenge": "c" * 43, "code_challenge_method": "S512"}, "invalid_request"),
    ({"code_challenge": "short"}, "invalid_request"),
    ({"response_type": "token"}, "unsupported_response_type"),
])
def test_bad_request_with_a_registered_redirect_uri_redirects_with_the_error(browser, params, error):
    r = browser.authorize(**params)
    assert r.status_code == 302
    assert r.headers["location"].startswith(REDIRECT + "?")
    assert query_of(r.headers["location"])["error"] == error


def test_revoking_an_access_token_leaves_the_refresh_token(tokens_for, sbx):
    tok = tokens_for(seed.EVA)
    r = httpx.post(f"{sbx.url}/connect/revocation", data={"token": tok["access_token"],
                                                          "token_type_hint": "access_token"},
                   auth=(seed.CLIENT_ID, seed.CLIENT_SECRET))
    assert r.status_code == 200
    assert companysettings(sbx, tok["access_token"]).status_code == 401
    assert refresh(sbx, tok["refresh_token"]).status_code == 200


def test_another_client_cannot_revoke_my_tokens(tokens_for, sbx):
    add_other_client(sbx)
    tok = tokens_for(seed.EVA)
    r = httpx.post(f"{sbx.url}/connect/revocation", data={"token": tok["refresh_token"]},
                   auth=(OTHER_CLIENT, OTHER_SECRET))
    assert r.status_code == 200  # RFC 7009: no information leak
    assert refresh(sbx, tok["refresh_token"]).status_code == 200

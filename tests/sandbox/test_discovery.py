"""The discovery document promises only what the identity server serves, and the tokens verify against its JWKS.

A client reading ``/.well-known/openid-configuration`` the way it reads Visma's (identity.vismaonline.com, an
IdentityServer) must find every endpoint it names answering, every grant, response type, PKCE method and client
authentication it lists accepted, and the access and ID tokens signed RS256 with a key of ``jwks_uri``. The
verification below is Authlib's (``JsonWebKey.import_key_set`` + ``jwt.decode``), not the sandbox's own code.
"""

from __future__ import annotations

import base64
import hashlib
import json
import time

import httpx
import pytest
from authlib.jose import JsonWebKey, jwt
from authlib.jose.errors import BadSignatureError, JoseError
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from sandbox import seed
from sandbox.testing import FULL_SCOPE, REDIRECT, Browser, pkce_pair, query_of, token_request

CODE = "authorization_code"


def discovery(sbx) -> dict:
    r = httpx.get(f"{sbx.url}/.well-known/openid-configuration")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
    return r.json()


def key_set(doc: dict):
    return JsonWebKey.import_key_set(httpx.get(doc["jwks_uri"]).json())


def header_of(token: str) -> dict:
    head = token.split(".")[0]
    return json.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)))


def exchange(sbx, code: str, **extra: str) -> httpx.Response:
    return token_request(sbx.url, {"grant_type": CODE, "code": code, "redirect_uri": REDIRECT, **extra})


def companysettings(sbx, access_token: str) -> httpx.Response:
    return httpx.get(f"{sbx.url}/v2/companysettings", headers={"Authorization": f"Bearer {access_token}"})


def test_jwks_publishes_one_rsa_signing_key(sbx):
    doc = discovery(sbx)
    assert doc["jwks_uri"] == f"{sbx.url}/.well-known/openid-configuration/jwks"
    keys = httpx.get(doc["jwks_uri"]).json()["keys"]
    assert len(keys) == 1
    key = keys[0]
    assert set(key) == {"kid", "kty", "n", "e", "alg", "use"}
    assert (key["kty"], key["alg"], key["use"], key["e"]) == ("RSA", "RS256", "sig", "AQAB")
    assert len(base64.urlsafe_b64decode(key["n"] + "==")) * 8 == 2048
    # the kid is the RFC 7638 thumbprint, as Authlib computes it
    assert key["kid"] == JsonWebKey.import_key({k: key[k] for k in ("kty", "n", "e")}).thumbprint()


def test_access_token_verifies_against_the_published_jwks(sbx, tokens_for):
    doc = discovery(sbx)
    token = tokens_for(seed.ANNA, "Bakkerij De Gouden Korst B.V.")["access_token"]
    header = header_of(token)
    assert header["alg"] in doc["id_token_signing_alg_values_supported"] == ["RS256"]
    assert header["typ"] == "at+jwt"
    keys = key_set(doc)
    assert header["kid"] in {k.kid for k in keys.keys}
    claims = jwt.decode(token, keys, claims_options={
        "iss": {"essential": True, "value": doc["issuer"]},
        "aud": {"essential": True, "value": f"{doc['issuer']}/resources"},
        "exp": {"essential": True}, "sub": {"essential": True},
    })
    claims.validate(now=int(time.time()))
    assert claims["customer_id"] == seed.BAKKERIJ and claims["client_id"] == seed.CLIENT_ID
    assert claims["scope"] == FULL_SCOPE.split() and claims["email"] == seed.ANNA


def test_a_tampered_token_fails_authlib_and_the_api(sbx, tokens_for):
    doc = discovery(sbx)
    head, payload, sig = tokens_for(seed.EVA)["access_token"].split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["customer_id"] = seed.BAKKERIJ  # another company
    forged_payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    forged = f"{head}.{forged_payload}.{sig}"
    with pytest.raises(BadSignatureError):
        jwt.decode(forged, key_set(doc))
    assert companysettings(sbx, forged).status_code == 401


def test_a_token_signed_with_another_key_under_the_published_kid_is_refused(sbx, tokens_for):
    doc = discovery(sbx)
    genuine = tokens_for(seed.EVA)["access_token"]
    payload = json.loads(base64.urlsafe_b64decode(genuine.split(".")[1] + "=="))
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    forged = jwt.encode(header_of(genuine), payload, other).decode()
    with pytest.raises(BadSignatureError):
        jwt.decode(forged, key_set(doc))
    assert companysettings(sbx, forged).status_code == 401
    # a token that names another algorithm (HS256 with the public key as secret, "none") is refused too
    for alg in ("HS256", "none"):
        head = base64.urlsafe_b64encode(json.dumps({**header_of(genuine), "alg": alg}).encode()).rstrip(b"=")
        bad = f"{head.decode()}.{genuine.split('.')[1]}.{genuine.split('.')[2]}"
        assert companysettings(sbx, bad).status_code == 401
    assert companysettings(sbx, genuine).status_code == 200


def test_id_token_with_openid_is_rs256_for_the_client_with_the_nonce(sbx):
    doc = discovery(sbx)
    assert "openid" in doc["scopes_supported"]
    b = Browser(sbx.url)
    try:
        q = b.code(seed.EVA, scope=f"{FULL_SCOPE} openid", nonce="n-0S6_WzA2Mj")
    finally:
        b.close()
    body = exchange(sbx, q["code"]).json()
    claims = jwt.decode(body["id_token"], key_set(doc), claims_options={
        "iss": {"essential": True, "value": doc["issuer"]}, "aud": {"essential": True, "value": seed.CLIENT_ID},
        "nonce": {"essential": True, "value": "n-0S6_WzA2Mj"},
    })
    claims.validate(now=int(time.time()))
    access = jwt.decode(body["access_token"], key_set(doc))
    assert claims["sub"] == access["sub"] and claims["auth_time"] == access["auth_time"]
    digest = hashlib.sha256(body["access_token"].encode()).digest()[:16]
    assert claims["at_hash"] == base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    # without openid there is no ID token (Visma's documented token response, F11)
    b = Browser(sbx.url)
    try:
        assert "id_token" not in exchange(sbx, b.code(seed.EVA)["code"]).json()
    finally:
        b.close()


def test_the_document_names_only_served_endpoints(sbx):
    doc = discovery(sbx)
    base = sbx.url
    urls = {k: v for k, v in doc.items() if isinstance(v, str) and v.startswith("http") and k != "issuer"}
    assert urls == {
        "jwks_uri": f"{base}/.well-known/openid-configuration/jwks",
        "authorization_endpoint": f"{base}/connect/authorize",
        "token_endpoint": f"{base}/connect/token",
        "revocation_endpoint": f"{base}/connect/revocation",
    }
    assert doc["issuer"] == base
    # Visma lists these too; the sandbox does not serve them, so it does not name them
    for path in ("/connect/userinfo", "/connect/endsession", "/connect/introspect", "/connect/checksession",
                 "/connect/deviceauthorization"):
        assert httpx.get(f"{base}{path}").status_code == 404
        assert f"{base}{path}" not in doc.values()


def test_every_advertised_endpoint_answers(sbx):
    doc = discovery(sbx)
    http = httpx.Client(follow_redirects=False, timeout=10)
    try:
        authorize = http.get(doc["authorization_endpoint"], params={
            "client_id": seed.CLIENT_ID, "redirect_uri": REDIRECT, "response_type": "code", "scope": FULL_SCOPE})
        assert authorize.status_code == 200 and 'name="password"' in authorize.text
        assert http.get(doc["jwks_uri"]).status_code == 200
        token = http.post(doc["token_endpoint"], data={"grant_type": "refresh_token", "refresh_token": "x"},
                          auth=(seed.CLIENT_ID, seed.CLIENT_SECRET))
        assert token.status_code == 400 and token.json()["error"] == "invalid_grant"
        revoke = http.post(doc["revocation_endpoint"], data={"token": "x"}, auth=(seed.CLIENT_ID, seed.CLIENT_SECRET))
        assert revoke.status_code == 200
        for key, url in doc.items():
            if key.endswith(("_endpoint", "_uri", "_iframe")):
                # a served path answers a wrong method with 405, never 404
                assert 404 not in {http.get(url).status_code, http.post(url).status_code}, key
    finally:
        http.close()


def test_grant_types_listed_are_accepted_and_others_refused(sbx, tokens_for):
    doc = discovery(sbx)
    assert doc["grant_types_supported"] == ["authorization_code", "refresh_token"]
    rt = tokens_for(seed.EVA)["refresh_token"]
    assert token_request(sbx.url, {"grant_type": "refresh_token", "refresh_token": rt}).status_code == 200
    for grant in ("client_credentials", "password", "implicit", "urn:ietf:params:oauth:grant-type:device_code"):
        r = token_request(sbx.url, {"grant_type": grant, "scope": "ea:api"})
        assert r.status_code == 400 and r.json()["error"] == "unsupported_grant_type", grant


def test_response_types_and_modes_listed_are_the_code_flow_by_query(sbx):
    doc = discovery(sbx)
    assert doc["response_types_supported"] == ["code"] and doc["response_modes_supported"] == ["query"]
    b = Browser(sbx.url)
    try:
        for response_type in ("token", "id_token", "code id_token"):
            r = b.authorize(response_type=response_type)
            assert r.status_code == 302
            q = query_of(r.headers["location"])
            assert q["error"] == "unsupported_response_type"
        code_redirect = b.code(seed.EVA)
        assert code_redirect["code"] and code_redirect["iss"] == doc["issuer"]
    finally:
        b.close()
    # RFC 9207 support is claimed only when every redirect, errors too, carries iss; error redirects do not
    assert "authorization_response_iss_parameter_supported" not in doc


@pytest.mark.parametrize("method", ["plain", "S256"])
def test_each_listed_code_challenge_method_works(sbx, method):
    doc = discovery(sbx)
    assert method in doc["code_challenge_methods_supported"]
    verifier, s256 = pkce_pair()
    challenge = s256 if method == "S256" else verifier
    b = Browser(sbx.url)
    try:
        q = b.code(seed.EVA, code_challenge=challenge, code_challenge_method=method)
        refused = query_of(b.authorize(code_challenge=challenge, code_challenge_method="S512").headers["location"])
    finally:
        b.close()
    assert exchange(sbx, q["code"], code_verifier=verifier).status_code == 200
    assert refused["error"] == "invalid_request"
    assert doc["code_challenge_methods_supported"] == ["plain", "S256"]


@pytest.mark.parametrize("auth", ["basic", "post"])
def test_each_listed_client_authentication_works(sbx, auth):
    doc = discovery(sbx)
    assert doc["token_endpoint_auth_methods_supported"] == ["client_secret_basic", "client_secret_post"]
    assert doc["revocation_endpoint_auth_methods_supported"] == ["client_secret_basic", "client_secret_post"]
    b = Browser(sbx.url)
    try:
        q = b.code(seed.EVA)
    finally:
        b.close()
    r = token_request(sbx.url, {"grant_type": CODE, "code": q["code"], "redirect_uri": REDIRECT}, auth=auth)
    assert r.status_code == 200


def test_every_listed_scope_is_accepted_and_an_unlisted_one_refused(sbx):
    doc = discovery(sbx)
    b = Browser(sbx.url)
    try:
        for scope in doc["scopes_supported"]:
            page = b.authorize(scope=scope)
            assert page.status_code == 200 and 'name="password"' in page.text, scope
        assert b.authorize(scope="ea:api ea:payroll").status_code == 400
    finally:
        b.close()
    assert {"ea:api", "offline_access", "ea:accounting", "ea:accounting_readonly", "ea:sales", "ea:sales_readonly",
            "ea:purchase", "ea:purchase_readonly", "ea:settings", "ea:settings_readonly", "openid"} <= set(
        doc["scopes_supported"])


def test_prompt_values_and_claims_are_those_served(sbx, tokens_for):
    doc = discovery(sbx)
    assert doc["prompt_values_supported"] == ["none", "login", "consent", "select_account"]
    b = Browser(sbx.url)
    try:
        assert query_of(b.authorize(prompt="none").headers["location"])["error"] == "login_required"
    finally:
        b.close()
    payload = tokens_for(seed.ANNA, "Transportbedrijf Visser B.V.")["access_token"].split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    assert set(doc["claims_supported"]) <= set(claims)
    assert doc["subject_types_supported"] == ["public"]


def test_the_signing_key_outlives_a_reset_and_old_tokens_do_not(sbx, tokens_for):
    doc = discovery(sbx)
    before = httpx.get(doc["jwks_uri"]).json()
    token = tokens_for(seed.EVA)["access_token"]
    httpx.post(f"{sbx.url}/_sandbox/reset", timeout=10).raise_for_status()
    assert httpx.get(doc["jwks_uri"]).json() == before
    jwt.decode(token, key_set(doc))  # still a genuine signature …
    assert companysettings(sbx, token).status_code == 401  # … of a token the reset forgot


def test_garbage_tokens_are_refused_by_authlib_and_the_api(sbx):
    doc = discovery(sbx)
    for value in ("a.b.c", "not-a-token", "e30.e30.", "W10.W10.AAAA"):
        with pytest.raises((JoseError, ValueError)):
            jwt.decode(value, key_set(doc))
        assert companysettings(sbx, value).status_code == 401

"""The identity server's token and revocation endpoints (visma-eaccounting.md §1, F2, F10, F13).

``POST /connect/token`` serves ``authorization_code`` and ``refresh_token`` with Basic or form client authentication
(F2); other grants (Visma's discovery also lists ``client_credentials``) get ``unsupported_grant_type``. Refresh
tokens rotate single-use by default; a client can be switched to reusable tokens (F13).
``POST /connect/revocation`` revokes a refresh token's family or an access token (RFC 7009: always 200).
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from typing import Any
from urllib.parse import unquote

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from sandbox import clock, model, tokens
from sandbox.identity import issuer, store_of
from sandbox.store import Tx


def _oauth_error(error: str, description: str, status: int = 400) -> JSONResponse:
    headers = {"Cache-Control": "no-store", "Pragma": "no-cache"}
    if status == 401:
        headers["WWW-Authenticate"] = 'Basic realm="identity"'
    return JSONResponse({"error": error, "error_description": description}, status_code=status, headers=headers)


def _client_auth(tx: Tx, request: Request, form: Any) -> tuple[dict[str, Any] | None, JSONResponse | None]:
    """HTTP Basic (client_secret_basic) or form fields (client_secret_post), never both."""
    header = request.headers.get("authorization", "")
    form_id, form_secret = form.get("client_id"), form.get("client_secret")
    if header.lower().startswith("basic "):
        if form_secret:
            return None, _oauth_error("invalid_request", "Use one client authentication method, not two.")
        try:
            raw = base64.b64decode(header[6:].strip()).decode()
            cid, secret = (unquote(p.replace("+", " ")) for p in raw.split(":", 1))
        except (ValueError, UnicodeDecodeError):
            return None, _oauth_error("invalid_client", "Malformed Basic credentials.", 401)
    elif form_id and form_secret:
        cid, secret = str(form_id), str(form_secret)
    else:
        return None, _oauth_error("invalid_client", "Client authentication is required.", 401)
    client = tx.get("client", cid)
    if client is None or not secrets.compare_digest(client["secret"], secret):
        return None, _oauth_error("invalid_client", "Unknown client or wrong client secret.", 401)
    return client, None


def _pkce_ok(challenge: str, method: str, verifier: str) -> bool:
    if method == "S256":
        digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        return secrets.compare_digest(digest, challenge)
    return secrets.compare_digest(verifier, challenge)


def _token_response(body: dict[str, Any]) -> JSONResponse:
    return JSONResponse(body, headers={"Cache-Control": "no-store", "Pragma": "no-cache"})


async def token(request: Request) -> Response:
    form = await request.form()
    with store_of(request).tx() as tx:
        client, err = _client_auth(tx, request, form)
        if err is not None:
            return err
        assert client is not None
        grant = str(form.get("grant_type", ""))
        if grant == "authorization_code":
            result = _grant_code(tx, client, form, issuer(request))
        elif grant == "refresh_token":
            result = _grant_refresh(tx, client, form, issuer(request))
        else:
            return _oauth_error("unsupported_grant_type", f"Grant type '{grant}' is not supported.")
        if isinstance(result, dict):
            tx.bump("token_grants", grant)
            return _token_response(result)
        tx.bump("token_failures", grant)
        return result


def _grant_code(tx: Tx, client: dict[str, Any], form: Any, iss: str) -> dict[str, Any] | JSONResponse:
    code = str(form.get("code", ""))
    doc = tx.get("code", code) if code else None
    if doc is None:
        return _oauth_error("invalid_grant", "The authorization code is invalid.")
    if doc["client"] != client["id"]:
        return _oauth_error("invalid_grant", "The authorization code was issued to another client.")
    if doc["used"]:
        tokens.revoke_code_grants(tx, code)
        return _oauth_error("invalid_grant", "The authorization code has already been used.")
    if doc["expires"] <= clock.now_ts(tx):
        return _oauth_error("invalid_grant", "The authorization code has expired.")
    if str(form.get("redirect_uri", "")) != doc["redirect_uri"]:
        return _oauth_error("invalid_grant", "redirect_uri does not match the one of the authorization request.")
    verifier = form.get("code_verifier")
    if doc["challenge"]:
        if not verifier or not _pkce_ok(doc["challenge"], doc["method"], str(verifier)):
            return _oauth_error("invalid_grant", "The PKCE code_verifier does not match the code_challenge.")
    elif verifier:
        return _oauth_error("invalid_grant", "A code_verifier was sent but the authorization request had no challenge.")
    doc["used"] = True
    tx.put("code", code, doc)
    user = tx.get("user", doc["user"])
    if user is None:
        return _oauth_error("invalid_grant", "The user no longer exists.")
    return tokens.issue_tokens(tx, client=client["id"], user=doc["user"], company=doc["company"], scopes=doc["scopes"],
                               family=None, issuer=iss, code=code, auth_time=doc["auth_time"],
                               nonce=doc.get("nonce"))


def _grant_refresh(tx: Tx, client: dict[str, Any], form: Any, iss: str) -> dict[str, Any] | JSONResponse:
    value = str(form.get("refresh_token", ""))
    doc = tx.get("rt", value) if value else None
    if doc is None or doc["client"] != client["id"]:
        return _oauth_error("invalid_grant", "The refresh token is invalid.")
    if doc["revoked"]:
        return _oauth_error("invalid_grant", "The refresh token has been revoked.")
    if doc["used"]:
        if model.settings(tx)["revoke_family_on_refresh_reuse"]:
            tokens.revoke_family(tx, doc["family"])
        return _oauth_error("invalid_grant", "The refresh token has already been used.")
    if doc["expires"] <= clock.now_ts(tx):
        return _oauth_error("invalid_grant", "The refresh token has expired.")
    user = tx.get("user", doc["user"])
    if user is None or user["generation"] != doc["generation"]:
        return _oauth_error("invalid_grant", "The refresh token is no longer valid (the user's password changed).")
    scopes = doc["scopes"]
    asked = str(form.get("scope", "")).split()
    if asked:
        if not set(asked) <= set(scopes):
            return _oauth_error("invalid_scope", "The requested scope exceeds the scope of the grant.")
        scopes = [s for s in scopes if s in asked]
    reusable = client.get("refresh_token_mode") == "reusable"
    if not reusable:
        doc["used"] = True
        tx.put("rt", value, doc)
    # absolute: the rotated token inherits this one's expiry, i.e. that of the family's first (the authorization)
    absolute = model.settings(tx)["refresh_token_expiration"] == "absolute"
    return tokens.issue_tokens(tx, client=client["id"], user=doc["user"], company=doc["company"], scopes=scopes,
                               family=doc["family"], issuer=iss, refresh=value if reusable else None,
                               code=doc.get("code"), auth_time=doc.get("auth_time"),
                               refresh_expires=doc["expires"] if absolute else None)


async def revocation(request: Request) -> Response:
    """RFC 7009: 200 with an empty body, also for unknown tokens; a refresh token takes its whole grant with it."""
    form = await request.form()
    with store_of(request).tx() as tx:
        client, err = _client_auth(tx, request, form)
        if err is not None:
            return err
        assert client is not None
        value = str(form.get("token", ""))
        if not value:
            return _oauth_error("invalid_request", "The token parameter is missing.")
        rt = tx.get("rt", value)
        if rt is not None and rt["client"] == client["id"]:
            tokens.revoke_family(tx, rt["family"])
        else:
            jti = tokens.find_access_jti(tx, value)
            at = tx.get("at", jti) if jti else None
            if at is not None and at["client"] == client["id"] and tokens.access_token_record(tx, value) is not None:
                at["revoked"] = True
                tx.put("at", jti, at)
        tx.bump("revocations", "token")
    return Response(status_code=200)



"""Codes, access tokens and refresh tokens of the identity server.

Access tokens are JWTs with Visma's claim names (visma-eaccounting.md F12: ``client_id``, ``scope``, ``sub``,
``customer_id``, ``email``…) so that a client can read them like Visma's, but signed HS256 with a per-seed key instead
of RS256 (the sandbox publishes no signing keys; clients must treat tokens as opaque anyway). Every token also has a
server-side record, so that revocation, a changed password and a reset invalidate it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import uuid
from typing import Any

from sandbox import clock
from sandbox.model import settings
from sandbox.store import Tx

ACCESS_TOKEN_LIFETIME = 3600
CODE_LIFETIME = 300


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _sign(tx: Tx, signing_input: str) -> str:
    key = tx.setting("jwt_key", "").encode()
    return _b64(hmac.new(key, signing_input.encode(), hashlib.sha256).digest())


def issue_code(tx: Tx, data: dict[str, Any]) -> str:
    code = secrets.token_urlsafe(32)
    tx.put("code", code, {**data, "expires": clock.now_ts(tx) + CODE_LIFETIME, "used": False})
    return code


def issue_tokens(
    tx: Tx, *, client: str, user: str, company: str, scopes: list[str], family: str | None, issuer: str,
    refresh: str | None = None, code: str | None = None, auth_time: float | None = None,
    refresh_expires: float | None = None,
) -> dict[str, Any]:
    """Create an access token (and, with ``offline_access``, a refresh token) and return Visma's token JSON.

    ``refresh`` is an existing refresh token to hand back unchanged (reusable mode). ``refresh_expires`` is the
    expiry a new refresh token inherits (absolute expiration: the family's first refresh token's); ``None`` gives it
    now + ``refresh_token_lifetime_seconds`` (a new grant, or sliding expiration).
    """
    now = clock.now_ts(tx)
    u = tx.get("user", user) or {}
    family = family or str(uuid.uuid4())
    jti = uuid.uuid4().hex
    claims = {
        "iss": issuer, "aud": f"{issuer}/resources", "exp": int(now) + ACCESS_TOKEN_LIFETIME, "nbf": int(now),
        "iat": int(now), "client_id": client, "scope": scopes, "sub": derived_sub(user),
        "auth_time": int(auth_time or now),
        "idp": "local", "customer_id": company, "email": user, "amr": ["pwd"], "jti": jti,
    }
    # Visma's discovery document lists customer_name among the claims (visma-eaccounting.md §1); a client that
    # cannot read companysettings (403 4002) still learns which company was chosen.
    company_doc = tx.get("company", company) if company else None
    if company_doc:
        claims["customer_name"] = company_doc["name"]
    header = _b64(json.dumps({"alg": "HS256", "typ": "at+jwt"}).encode())
    payload = _b64(json.dumps(claims, separators=(",", ":")).encode())
    access = f"{header}.{payload}.{_sign(tx, f'{header}.{payload}')}"
    tx.put("at", jti, {"client": client, "user": user, "company": company, "scopes": scopes,
                       "exp": now + ACCESS_TOKEN_LIFETIME, "generation": u.get("generation", 0), "family": family,
                       "code": code, "revoked": False})
    body: dict[str, Any] = {
        "access_token": access,
        "expires_in": ACCESS_TOKEN_LIFETIME,
        "token_type": "Bearer",
    }
    if "offline_access" in scopes:
        if refresh is None:
            refresh = secrets.token_urlsafe(48)
            tx.put("rt", refresh, {
                "client": client, "user": user, "company": company, "scopes": scopes, "family": family,
                "generation": u.get("generation", 0),
                "expires": refresh_expires if refresh_expires is not None
                else now + settings(tx)["refresh_token_lifetime_seconds"],
                "used": False, "revoked": False, "code": code, "auth_time": auth_time or now,
            })
        body["refresh_token"] = refresh
    body["scope"] = " ".join(scopes)
    return body


def derived_sub(email: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"mailto:{email}"))


def access_token_record(tx: Tx, token: str) -> dict[str, Any] | None:
    """The token's record if it is genuine, unexpired, unrevoked and its user's password has not changed since."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    if not hmac.compare_digest(_sign(tx, f"{parts[0]}.{parts[1]}"), parts[2]):
        return None
    try:
        claims = json.loads(_unb64(parts[1]))
    except ValueError:
        return None
    rec = tx.get("at", str(claims.get("jti", "")))
    if rec is None or rec["revoked"] or rec["exp"] <= clock.now_ts(tx):
        return None
    user = tx.get("user", rec["user"])
    if user is None or user["generation"] != rec["generation"]:
        return None
    return rec


def revoke_family(tx: Tx, family: str) -> None:
    """Revoke every refresh token of a grant and every access token issued from it."""
    for kind in ("rt", "at"):
        for doc_id, doc in _ids(tx, kind):
            if doc.get("family") == family and not doc["revoked"]:
                doc["revoked"] = True
                tx.put(kind, doc_id, doc)


def revoke_code_grants(tx: Tx, code: str) -> None:
    """A reused code revokes what it produced (RFC 6749 §4.1.2)."""
    for kind in ("rt", "at"):
        for doc_id, doc in _ids(tx, kind):
            if doc.get("code") == code:
                doc["revoked"] = True
                tx.put(kind, doc_id, doc)


def _ids(tx: Tx, kind: str) -> list[tuple[str, dict[str, Any]]]:
    return tx.items(kind)


def find_access_jti(tx: Tx, token: str) -> str | None:
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        return str(json.loads(_unb64(parts[1])).get("jti"))
    except ValueError:
        return None

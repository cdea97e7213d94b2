"""Codes, access tokens, ID tokens and refresh tokens of the identity server, and the key that signs the tokens.

Access tokens are JWTs as Visma's identity server issues them (visma-eaccounting.md F12): signed RS256, header
``{"alg": "RS256", "kid": …, "typ": "at+jwt"}``, Visma's claim names (``client_id``, ``scope``, ``sub``,
``customer_id``, ``email``…). The signing key is an RSA key generated when the process first needs one; its public
half is published at ``/.well-known/openid-configuration/jwks`` (``jwks()``), so a client can verify a token the way
it would verify Visma's. The private key is kept in the store, so that several processes sharing a ``--db`` file
verify each other's tokens; a reset empties the store and this process's key is written back on the next use.
Every token also has a server-side record, so that revocation, a changed password and a reset invalidate it.

With the ``openid`` scope the token response also carries an ID token (OpenID Connect Core §3.1.3.3), signed with
the same key, audience the client, with the ``nonce`` of the authorization request.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import uuid
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from sandbox import clock
from sandbox.model import settings
from sandbox.store import Tx

ACCESS_TOKEN_LIFETIME = 3600
ID_TOKEN_LIFETIME = 300  # Duende IdentityServer's default IdentityTokenLifetime
CODE_LIFETIME = 300
ALG = "RS256"
KEY_SETTING = "signing_key"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _int_b64(value: int) -> str:
    return _b64(value.to_bytes((value.bit_length() + 7) // 8, "big"))


class SigningKey:
    """An RSA key with its public JWK; ``kid`` is the RFC 7638 thumbprint of that JWK."""

    def __init__(self, private: rsa.RSAPrivateKey) -> None:
        self.private = private
        self.public = private.public_key()
        numbers = self.public.public_numbers()
        e, n = _int_b64(numbers.e), _int_b64(numbers.n)
        thumbprint = json.dumps({"e": e, "kty": "RSA", "n": n}, separators=(",", ":"), sort_keys=True)
        self.kid = _b64(hashlib.sha256(thumbprint.encode()).digest())
        self.jwk = {"kty": "RSA", "use": "sig", "kid": self.kid, "alg": ALG, "e": e, "n": n}
        self.pem = private.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode()


_lock = threading.Lock()
_own: SigningKey | None = None  # this process's key, generated on first use
_loaded: dict[str, SigningKey] = {}  # keys written by other processes sharing the store, by PEM


def _own_key() -> SigningKey:
    global _own
    with _lock:
        if _own is None:
            _own = SigningKey(rsa.generate_private_key(public_exponent=65537, key_size=2048))
            _loaded[_own.pem] = _own
        return _own


def _from_pem(pem: str) -> SigningKey:
    with _lock:
        key = _loaded.get(pem)
    if key is None:
        private = serialization.load_pem_private_key(pem.encode(), password=None)
        assert isinstance(private, rsa.RSAPrivateKey)
        key = SigningKey(private)
        with _lock:
            _loaded[pem] = key
    return key


def signing_key(tx: Tx) -> SigningKey:
    """The store's signing key; an empty store (new, or reset) gets this process's key. Needs a write transaction
    when the store has none yet."""
    pem = tx.setting(KEY_SETTING)
    if pem is None:
        key = _own_key()
        tx.set_setting(KEY_SETTING, key.pem)
        return key
    return _from_pem(pem)


def jwks(tx: Tx) -> dict[str, Any]:
    """The JSON Web Key Set with the public key that signs every token (RFC 7517 §5)."""
    return {"keys": [dict(signing_key(tx).jwk)]}


def _encode(tx: Tx, claims: dict[str, Any], typ: str) -> str:
    key = signing_key(tx)
    header = _b64(json.dumps({"alg": ALG, "kid": key.kid, "typ": typ}, separators=(",", ":")).encode())
    payload = _b64(json.dumps(claims, separators=(",", ":")).encode())
    signature = key.private.sign(f"{header}.{payload}".encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{header}.{payload}.{_b64(signature)}"


def _verified_claims(tx: Tx, token: str) -> dict[str, Any] | None:
    """The claims of a JWT this store's key signed (RS256, the key's ``kid``); ``None`` for anything else."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    pem = tx.setting(KEY_SETTING)
    if pem is None:
        return None
    key = _from_pem(pem)
    try:
        header = json.loads(_unb64(parts[0]))
        if not isinstance(header, dict) or header.get("alg") != ALG or header.get("kid") != key.kid:
            return None
        key.public.verify(_unb64(parts[2]), f"{parts[0]}.{parts[1]}".encode(), padding.PKCS1v15(), hashes.SHA256())
        claims = json.loads(_unb64(parts[1]))
    except (ValueError, InvalidSignature):
        return None
    return claims if isinstance(claims, dict) else None


def issue_code(tx: Tx, data: dict[str, Any]) -> str:
    code = secrets.token_urlsafe(32)
    tx.put("code", code, {**data, "expires": clock.now_ts(tx) + CODE_LIFETIME, "used": False})
    return code


def issue_tokens(
    tx: Tx, *, client: str, user: str, company: str, scopes: list[str], family: str | None, issuer: str,
    refresh: str | None = None, code: str | None = None, auth_time: float | None = None,
    refresh_expires: float | None = None, nonce: str | None = None,
) -> dict[str, Any]:
    """Create an access token (and, with ``offline_access``, a refresh token; with ``openid``, an ID token) and
    return Visma's token JSON.

    ``refresh`` is an existing refresh token to hand back unchanged (reusable mode). ``refresh_expires`` is the
    expiry a new refresh token inherits (absolute expiration: the family's first refresh token's); ``None`` gives it
    now + ``refresh_token_lifetime_seconds`` (a new grant, or sliding expiration). ``nonce`` is the authorization
    request's, echoed in the ID token.
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
    access = _encode(tx, claims, "at+jwt")
    tx.put("at", jti, {"client": client, "user": user, "company": company, "scopes": scopes,
                       "exp": now + ACCESS_TOKEN_LIFETIME, "generation": u.get("generation", 0), "family": family,
                       "code": code, "revoked": False})
    body: dict[str, Any] = {
        "access_token": access,
        "expires_in": ACCESS_TOKEN_LIFETIME,
        "token_type": "Bearer",
    }
    if "openid" in scopes:
        body["id_token"] = _id_token(tx, client=client, user=user, issuer=issuer, now=now, access=access,
                                     auth_time=auth_time, nonce=nonce)
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


def _id_token(tx: Tx, *, client: str, user: str, issuer: str, now: float, access: str, auth_time: float | None,
              nonce: str | None) -> str:
    """OpenID Connect Core §2: audience the client; ``at_hash`` the left half of the access token's SHA-256."""
    claims: dict[str, Any] = {
        "iss": issuer, "aud": client, "exp": int(now) + ID_TOKEN_LIFETIME, "nbf": int(now), "iat": int(now),
        "sub": derived_sub(user), "auth_time": int(auth_time or now), "idp": "local", "amr": ["pwd"],
        "at_hash": _b64(hashlib.sha256(access.encode()).digest()[:16]),
    }
    if nonce:
        claims["nonce"] = nonce
    return _encode(tx, claims, "JWT")


def derived_sub(email: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"mailto:{email}"))


def access_token_record(tx: Tx, token: str) -> dict[str, Any] | None:
    """The token's record if it is genuine (signed by the store's key), unexpired, unrevoked and its user's password
    has not changed since."""
    claims = _verified_claims(tx, token)
    if claims is None:
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
        claims = json.loads(_unb64(parts[1]))
    except ValueError:
        return None
    return str(claims.get("jti")) if isinstance(claims, dict) else None

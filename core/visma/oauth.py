"""Visma Online identity server (OAuth 2.0 authorization code + PKCE, refresh, revocation) through Authlib.

Why the shape: the runtime shares one ``VismaOAuth`` between threads, but Authlib's sync ``OAuth2Client`` keeps the
last token on the instance (``fetch_token`` returns ``self.token``), so two threads exchanging or refreshing at once
could read each other's token. Each call therefore builds a small ``OAuth2Client`` over one shared, thread-safe httpx
transport (one connection pool per process). Single-flight refresh is not done here: ``core.accounts.tokens`` owns it,
across threads and processes, through the database.

Errors are ``OAuthError(error, description, status)``; none of them ever carries a token.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx

with warnings.catch_warnings():
    # Authlib 1.9 prefers the httpx2 package and warns when it falls back to httpx, which is the product's choice;
    # the warning would otherwise print on every CLI command. authlib.deprecate adds an "always" filter when imported,
    # so it is imported first and overridden.
    import authlib.deprecate  # noqa: F401

    warnings.simplefilter("ignore")
    from authlib.common.errors import AuthlibBaseError
    from authlib.integrations.httpx_client import OAuth2Client

from core.db import models
from core.settings import SCOPES, Settings

# visma-eaccounting.md F15: show only companies that have eAccounting in the company chooser.
EACCOUNTING_SERVICE_ACR = "service:44643EB1-3F76-4C1C-A672-402AE8085934"
TIMEOUT = httpx.Timeout(15.0, connect=5.0)


class OAuthError(Exception):
    """The identity server refused, or could not be reached.

    ``error`` is the OAuth error code (``invalid_grant``, ``access_denied``, …) or one of ``server_error``,
    ``temporarily_unavailable``, ``invalid_response`` for transport trouble; ``status`` the HTTP status when known.
    """

    def __init__(self, error: str, description: str | None = None, status: int | None = None):
        self.error = error or "unknown_error"
        self.description = (description or "")[:300]
        self.status = status
        super().__init__(f"{self.error}: {self.description}" if self.description else self.error)

    @property
    def is_invalid_grant(self) -> bool:
        return self.error == "invalid_grant"

    @property
    def is_temporary(self) -> bool:
        return self.error in ("server_error", "temporarily_unavailable") or (self.status or 0) >= 500


@dataclass(frozen=True)
class TokenSet:
    """What the token endpoint answered; ``expires_at`` is computed on our clock when the answer arrived."""

    access_token: str
    refresh_token: str | None
    expires_at: datetime
    expires_in: int
    scope: str | None = None
    token_type: str = "bearer"

    def __repr__(self) -> str:  # never show a token
        return f"TokenSet(expires_at={self.expires_at.isoformat()}, scope={self.scope!r}, <tokens hidden>)"

    __str__ = __repr__


class VismaOAuth:
    """The identity server of ``settings.identity_url`` for the configured client (client_secret_basic)."""

    def __init__(self, settings: Settings, *, transport: httpx.BaseTransport | None = None):
        base = settings.identity_url.rstrip("/")
        self.authorize_endpoint = f"{base}/connect/authorize"
        self.token_endpoint = f"{base}/connect/token"
        self.revocation_endpoint = f"{base}/connect/revocation"
        self._client_id = settings.client_id
        self._client_secret = settings.client_secret
        self._scope = " ".join(SCOPES)
        self._transport = transport or httpx.HTTPTransport(retries=0)

    def __repr__(self) -> str:
        return f"VismaOAuth({self.token_endpoint!r}, client_id={self._client_id!r})"

    def _client(self) -> OAuth2Client:
        return OAuth2Client(
            client_id=self._client_id,
            client_secret=self._client_secret,
            token_endpoint_auth_method="client_secret_basic",
            revocation_endpoint_auth_method="client_secret_basic",
            scope=self._scope,
            code_challenge_method="S256",
            transport=self._transport,
            timeout=TIMEOUT,
        )

    def authorization_url(self, state: str, code_verifier: str, redirect_uri: str) -> str:
        """Visma's login page: scopes, ``state``, PKCE S256, the company chooser (``prompt=select_account``)."""
        url, _ = self._client().create_authorization_url(
            self.authorize_endpoint,
            state=state,
            code_verifier=code_verifier,
            redirect_uri=redirect_uri,
            prompt="select_account",
            acr_values=EACCOUNTING_SERVICE_ACR,
        )
        return url

    def exchange_code(self, code: str, code_verifier: str, redirect_uri: str) -> TokenSet:
        """Trade the one-time code (valid 5 minutes) for tokens."""
        return self._token_call(
            lambda c: c.fetch_token(
                self.token_endpoint,
                grant_type="authorization_code",
                code=code,
                code_verifier=code_verifier,
                redirect_uri=redirect_uri,
            )
        )

    def refresh(self, refresh_token: str) -> TokenSet:
        """A new access token; with rotating refresh tokens the answer carries the next refresh token too."""
        token = self._token_call(lambda c: c.refresh_token(self.token_endpoint, refresh_token=refresh_token))
        if token.refresh_token is None:  # a reusable (non-rotating) client: keep using the same one
            token = TokenSet(token.access_token, refresh_token, token.expires_at, token.expires_in, token.scope)
        return token

    def revoke(self, refresh_token: str) -> None:
        """Revoke a refresh token at Visma (RFC 7009: 200 with an empty body, also for unknown tokens)."""
        client = self._client()
        try:
            response = client.revoke_token(
                self.revocation_endpoint, token=refresh_token, token_type_hint="refresh_token"
            )
        except httpx.HTTPError as exc:
            raise OAuthError("temporarily_unavailable", f"identity server unreachable ({type(exc).__name__})") from None
        if response.status_code >= 400:
            error, description = _error_body(response)
            raise OAuthError(error or "revocation_failed", description, response.status_code)

    def close(self) -> None:
        self._transport.close()

    def _token_call(self, call) -> TokenSet:
        client = self._client()
        try:
            raw = call(client)
        except AuthlibBaseError as exc:
            raise OAuthError(exc.error, exc.description, getattr(exc, "status_code", None) or 400) from None
        except httpx.HTTPStatusError as exc:
            error, description = _error_body(exc.response)
            status = exc.response.status_code
            raise OAuthError(error or ("server_error" if status >= 500 else "invalid_response"), description, status) \
                from None
        except httpx.HTTPError as exc:
            raise OAuthError("temporarily_unavailable", f"identity server unreachable ({type(exc).__name__})") from None
        except ValueError:
            raise OAuthError("invalid_response", "the identity server's answer is not a token") from None
        access = raw.get("access_token")
        if not access:
            raise OAuthError("invalid_response", "the identity server's answer has no access token")
        try:
            expires_in = int(raw.get("expires_in") or 3600)
        except (TypeError, ValueError):
            expires_in = 3600
        return TokenSet(
            access_token=access,
            refresh_token=raw.get("refresh_token"),
            expires_at=models.utcnow() + timedelta(seconds=expires_in),
            expires_in=expires_in,
            scope=raw.get("scope") if isinstance(raw.get("scope"), str) else None,
            token_type=str(raw.get("token_type") or "bearer"),
        )


def _error_body(response: httpx.Response) -> tuple[str | None, str | None]:
    """``(error, error_description)`` of an OAuth error body, when it is one."""
    try:
        body = response.json()
    except ValueError:
        return None, f"HTTP {response.status_code}"
    if isinstance(body, dict):
        return body.get("error"), body.get("error_description")
    return None, f"HTTP {response.status_code}"

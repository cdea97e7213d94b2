"""Configuration: environment variables, also read from ``.streamlit/secrets.toml``; demo or production mode.

Environment variables win over ``secrets.toml`` (root-level keys only). With no ``VISMA_CLIENT_ID`` the product runs in
**demo mode**: ``core.demo.sandbox`` starts (or reuses) the local Visma sandbox and points the URLs at it.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from core.demo.constants import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET

PRODUCTION_IDENTITY_URL = "https://identity.vismaonline.com"
PRODUCTION_API_URL = "https://eaccountingapi.vismaonline.com/v2"
DEFAULT_REDIRECT_URI = "http://localhost:8501/"
# Scopes the product asks for: ea:api for any call, offline_access for a refresh token, ea:accounting for vouchers,
# accounts and fiscal years, ea:sales_readonly because GET /v2/companysettings accepts only sales scopes.
SCOPES = ("ea:api", "offline_access", "ea:accounting", "ea:sales_readonly")
# Visma does not document how long a refresh token lives (visma-eaccounting.md F14, §8). The strict assumption is an
# absolute lifetime counted from the authorization, refreshes not extending it: Duende IdentityServer's default
# absolute lifetime is 30 days. 0 means unknown / never: no re-authorization deadline is shown.
DEFAULT_REFRESH_TOKEN_LIFETIME_DAYS = 30
MAX_REFRESH_TOKEN_LIFETIME_DAYS = 3650

KEYS = (
    "VISMA_CLIENT_ID",
    "VISMA_CLIENT_SECRET",
    "VISMA_REDIRECT_URI",
    "VISMA_IDENTITY_URL",
    "VISMA_API_URL",
    "DATABASE_URL",
    "DATA_DIR",
    "TOKEN_ENCRYPTION_KEY",
    "RECONCILE_INTERVAL_SECONDS",
    "VISMA_REFRESH_TOKEN_LIFETIME_DAYS",
)


class ConfigurationError(Exception):
    """The configuration cannot work; the message says what to set."""


@dataclass(frozen=True)
class Settings:
    client_id: str
    client_secret: str
    redirect_uri: str
    identity_url: str
    api_url: str
    database_url: str
    data_dir: Path
    token_encryption_key: str | None
    demo_mode: bool
    refresh_token_lifetime_days: int = DEFAULT_REFRESH_TOKEN_LIFETIME_DAYS
    reconcile_interval_seconds: float = 30.0  # the dashboard's background check of unconfirmed runs; 0 = off

    def __repr__(self) -> str:  # never show the secret or the key
        return (
            f"Settings(demo_mode={self.demo_mode}, identity_url={self.identity_url!r}, api_url={self.api_url!r}, "
            f"database={redact_url(self.database_url)!r}, client_id={self.client_id!r})"
        )

    __str__ = __repr__

    def with_visma_urls(self, identity_url: str, api_url: str) -> Settings:
        return replace(self, identity_url=identity_url.rstrip("/"), api_url=api_url.rstrip("/"))

    @property
    def environment(self) -> str:
        return "demo" if self.demo_mode else "production"


def read_secrets_file(path: Path) -> dict[str, str]:
    """Root-level string values of a ``secrets.toml`` (sections such as ``[auth]`` are Streamlit's own)."""
    if not path.is_file():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigurationError(f"{path} is not valid TOML ({exc}). Fix or remove the file.") from None
    return {k: str(v) for k, v in data.items() if k in KEYS and not isinstance(v, dict)}


def normalize_database_url(url: str) -> str:
    """``postgres://`` and ``postgresql://`` use psycopg 3 (SQLAlchemy 2.1's default driver, made explicit)."""
    for scheme in ("postgres://", "postgresql://"):
        if url.startswith(scheme):
            return url.replace(scheme, "postgresql+psycopg://", 1)
    return url


def redact_url(url: str) -> str:
    """A database URL without its password, for logs and the sidebar."""
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        creds, host = rest.rsplit("@", 1)
        user = creds.split(":", 1)[0]
        return f"{scheme}://{user}:***@{host}" if ":" in creds else f"{scheme}://{user}@{host}"
    return url


def parse_refresh_token_lifetime_days(value: str | None) -> int:
    """``VISMA_REFRESH_TOKEN_LIFETIME_DAYS``: whole days from 0 (unknown / never) to 3650; unset → 30."""
    text = (value or "").strip()
    if not text:
        return DEFAULT_REFRESH_TOKEN_LIFETIME_DAYS
    try:
        days = int(text)
    except ValueError:
        days = -1
    if not 0 <= days <= MAX_REFRESH_TOKEN_LIFETIME_DAYS:
        raise ConfigurationError(
            f"VISMA_REFRESH_TOKEN_LIFETIME_DAYS must be a whole number of days from 0 to "
            f"{MAX_REFRESH_TOKEN_LIFETIME_DAYS} (0: unknown, no re-authorization deadline), not {text!r}. Leave it "
            f"unset for the default of {DEFAULT_REFRESH_TOKEN_LIFETIME_DAYS} days."
        )
    return days


def configured_refresh_token_lifetime_days(env: Mapping[str, str] | None = None,
                                           secrets_path: Path | None = None) -> int:
    """``VISMA_REFRESH_TOKEN_LIFETIME_DAYS`` alone, from the environment or ``secrets.toml`` like ``load_settings``
    (for the migration that fills ``account.reauthorize_by`` of accounts authorized before it existed)."""
    env = os.environ if env is None else env
    secrets_path = secrets_path or Path(env.get("STREAMLIT_SECRETS_PATH", ".streamlit/secrets.toml"))
    value = env.get("VISMA_REFRESH_TOKEN_LIFETIME_DAYS") or read_secrets_file(secrets_path).get(
        "VISMA_REFRESH_TOKEN_LIFETIME_DAYS")
    return parse_refresh_token_lifetime_days(value)


def load_settings(env: Mapping[str, str] | None = None, secrets_path: Path | None = None) -> Settings:
    """Read the configuration. Demo mode when no client id is set."""
    env = os.environ if env is None else env
    secrets_path = secrets_path or Path(env.get("STREAMLIT_SECRETS_PATH", ".streamlit/secrets.toml"))
    values = read_secrets_file(secrets_path)
    values.update({k: env[k] for k in KEYS if env.get(k)})

    data_dir = Path(values.get("DATA_DIR") or "data").expanduser().resolve()
    database_url = normalize_database_url(values.get("DATABASE_URL") or f"sqlite:///{data_dir / 'eaccounting-link.db'}")
    client_id = values.get("VISMA_CLIENT_ID", "").strip()
    demo = not client_id
    if demo:
        client_id, client_secret = DEMO_CLIENT_ID, DEMO_CLIENT_SECRET
    else:
        client_secret = values.get("VISMA_CLIENT_SECRET", "").strip()
        if not client_secret:
            raise ConfigurationError(
                "VISMA_CLIENT_ID is set but VISMA_CLIENT_SECRET is not. Set both (from Visma's developer portal), "
                "or unset VISMA_CLIENT_ID to run in demo mode."
            )
    return Settings(
        client_id=client_id,
        client_secret=client_secret,
        redirect_uri=values.get("VISMA_REDIRECT_URI") or DEFAULT_REDIRECT_URI,
        identity_url=(values.get("VISMA_IDENTITY_URL") or PRODUCTION_IDENTITY_URL).rstrip("/"),
        api_url=(values.get("VISMA_API_URL") or PRODUCTION_API_URL).rstrip("/"),
        database_url=database_url,
        data_dir=data_dir,
        token_encryption_key=values.get("TOKEN_ENCRYPTION_KEY") or None,
        demo_mode=demo,
        refresh_token_lifetime_days=parse_refresh_token_lifetime_days(values.get("VISMA_REFRESH_TOKEN_LIFETIME_DAYS")),
        reconcile_interval_seconds=parse_interval(values.get("RECONCILE_INTERVAL_SECONDS")),
    )


def parse_interval(value: str | None, default: float = 30.0) -> float:
    """``RECONCILE_INTERVAL_SECONDS``: seconds between background checks of unconfirmed runs (0 = off)."""
    if value is None or str(value).strip() == "":
        return default
    try:
        seconds = float(value)
    except ValueError:
        raise ConfigurationError(f"RECONCILE_INTERVAL_SECONDS must be a number of seconds (0 turns the background "
                                 f"check off), not {value!r}.") from None
    if not 0 <= seconds <= 86_400:
        raise ConfigurationError("RECONCILE_INTERVAL_SECONDS must be between 0 and 86400.")
    return seconds

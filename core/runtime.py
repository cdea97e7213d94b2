"""The composition root: settings, database engine, token cipher and the Visma clients, built once per process.

``build_runtime()`` is what the dashboard caches with ``st.cache_resource`` and what every CLI command starts with.
Everything in it is thread-safe and shared; per-request state never lives here.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass, field
from functools import cached_property

from sqlalchemy.engine import Engine

from core.db.crypto import TokenCipher, resolve_encryption_key
from core.db.engine import make_engine, migrate
from core.demo.sandbox import ensure_sandbox, register_redirect_uri
from core.settings import PRODUCTION_IDENTITY_URL, Settings, load_settings
from core.visma.client import VismaClient
from core.visma.oauth import VismaOAuth
from core.visma.pacing import paced_limiter


def default_actor() -> str:
    """Who acts when nobody is named: the OS user at this host (the CLI and the worker)."""
    try:
        user = os.getlogin()
    except OSError:
        user = os.environ.get("USER", "system")
    return f"{user}@{socket.gethostname()}"


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    cipher: TokenCipher
    sandbox_url: str | None = None
    # True when this process's demo mode started or reused the shared sandbox itself (nothing configured), as opposed
    # to a sandbox named by VISMA_IDENTITY_URL (tests, a sandbox run by hand).
    embedded_sandbox: bool = False
    _closers: list = field(default_factory=list, repr=False)

    @cached_property
    def visma(self):
        """The eAccounting API client (one connection pool per process), paced from its first call: voucher POSTs
        fleet-wide through the database, every other call through the process's bucket for this OAuth client id."""
        client = VismaClient(self.settings.api_url, rate_limiter=paced_limiter(self.engine, self.settings.client_id))
        self._closers.append(client.close)
        return client

    @cached_property
    def oauth(self):
        """The Visma identity server client (Authlib)."""
        client = VismaOAuth(self.settings)
        self._closers.append(client.close)
        return client

    def accept_redirect_uri(self, redirect_uri: str) -> None:
        """Let the identity server send the browser back to ``redirect_uri``. Only the embedded demo sandbox can be
        told (the dashboard on another port); in production the URI is the one registered with Visma."""
        if self.embedded_sandbox and self.sandbox_url and redirect_uri != self.settings.redirect_uri:
            register_redirect_uri(self.sandbox_url, redirect_uri)

    def close(self) -> None:
        for close in reversed(self._closers):
            close()
        self._closers.clear()
        self.engine.dispose()


def build_runtime(
    settings: Settings | None = None, *, migrate_schema: bool = True, start_sandbox: bool = True
) -> Runtime:
    """Build the runtime: in demo mode start or reuse the shared sandbox and point the Visma URLs at it; migrate."""
    settings = settings or load_settings()
    sandbox_url = None
    embedded = False
    if settings.demo_mode and settings.identity_url != PRODUCTION_IDENTITY_URL:
        # Demo mode pointed at a sandbox started elsewhere (tests, or `python -m sandbox` run by hand).
        sandbox_url = settings.identity_url
    elif settings.demo_mode and start_sandbox:
        sandbox_url = ensure_sandbox(settings)
        embedded = True
        settings = settings.with_visma_urls(sandbox_url, f"{sandbox_url}/v2")
    # production refuses to start without a key, before touching the database
    cipher = TokenCipher(resolve_encryption_key(settings))
    engine = make_engine(settings.database_url)
    if migrate_schema:
        migrate(engine)
    return Runtime(settings=settings, engine=engine, cipher=cipher, sandbox_url=sandbox_url, embedded_sandbox=embedded)

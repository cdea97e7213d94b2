"""The ASGI app: identity server, /v2 API and the admin API on one Starlette app (docs/architecture.md "The sandbox").

``create_app(store)`` seeds an empty store and wraps the Starlette app in ``DropConnectionMiddleware``, which makes
the *commit-then-drop* fault real: after a voucher has been committed, the connection is closed before any byte of the
response, so the client sees a transport error (``httpx.RemoteProtocolError``), not an HTTP status.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any
from urllib.parse import urlencode

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.routing import Route

from sandbox import admin, api, attachments, drafts, errors, faults, identity, ledger, model, seed, token_endpoint
from sandbox.store import Store


class DropConnectionMiddleware:
    """Close the connection instead of sending the response when a handler set ``scope[faults.DROP_SCOPE_KEY]``.

    Under uvicorn the ``receive`` callable is a method of the request cycle, which holds the transport: closing it
    sends nothing and uvicorn, seeing the client gone, sends no 500 either. Other servers get the fallback: the
    status line and a Content-Length are sent, then the body never comes (still a transport error for the client).
    """

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        dropped = False

        async def guarded_send(message: dict[str, Any]) -> None:
            nonlocal dropped
            if dropped:
                return
            if message["type"] == "http.response.start" and scope.get(faults.DROP_SCOPE_KEY):
                dropped = True
                transport = getattr(getattr(receive, "__self__", None), "transport", None)
                if transport is not None:
                    transport.close()
                    await asyncio.sleep(0.01)  # let connection_lost run, so the server knows the client is gone
                    return
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"content-length"]
                await send({**message, "headers": [*headers, (b"content-length", b"100000")]})
                raise ConnectionAbortedError("sandbox fault: commit_then_drop")
            await send(message)

        await self.app(scope, receive, guarded_send)


INDEX = """<!doctype html><html><head><meta charset="utf-8"><title>Visma sandbox</title>
<style>body{{font-family:Segoe UI,Roboto,Arial,sans-serif;max-width:760px;margin:40px auto;color:#1d2733}}
code{{background:#eef2f7;padding:1px 4px}} td,th{{padding:4px 10px;text-align:left}}</style></head><body>
<h1>Visma eAccounting sandbox</h1>
<p>A local stand-in for Visma's identity server and eAccounting API v2. Not the real Visma.</p>
<p><a href="{login}">Try the login</a> (client <code>{client}</code>, redirects to <code>{redirect}</code>).
Every seeded user's password is <code>{password}</code>.</p>
<table><tr><th>User</th><th>Companies</th></tr>{users}</table>
<h2>Companies</h2><table><tr><th>Company</th><th>State</th></tr>{companies}</table>
<p>Admin API: <a href="/_sandbox/companies">/_sandbox/companies</a>, <a href="/_sandbox/users">/_sandbox/users</a>,
<a href="/_sandbox/vouchers">/_sandbox/vouchers</a>, <a href="/_sandbox/stats">/_sandbox/stats</a>.
Discovery: <a href="/.well-known/openid-configuration">/.well-known/openid-configuration</a>.</p>
</body></html>"""


async def index(request: Request) -> Response:
    from html import escape

    store: Store = request.app.state.store
    with store.tx(write=False) as tx:
        client = tx.get("client", seed.CLIENT_ID) or {"redirect_uris": list(seed.DEFAULT_REDIRECT_URIS)}
        companies = tx.list("company")
        users = tx.list("user")
    names = {c["id"]: c["name"] for c in companies}
    redirect = client["redirect_uris"][0]
    login = "/connect/authorize?" + urlencode({
        "client_id": seed.CLIENT_ID, "redirect_uri": redirect, "response_type": "code", "state": "demo",
        "scope": "ea:api offline_access ea:accounting ea:sales_readonly"})
    return HTMLResponse(INDEX.format(
        login=escape(login), client=seed.CLIENT_ID, redirect=escape(redirect), password=escape(seed.PASSWORD),
        users="".join(_user_row(u, names) for u in users),
        companies="".join(f"<tr><td>{escape(c['name'])}</td><td>{escape(c['state'])}</td></tr>" for c in companies),
    ))


def _user_row(u: dict[str, Any], names: dict[str, str]) -> str:
    from html import escape

    companies = ", ".join(names.get(c, c) for c in u["companies"])
    default = f" (default company: {names.get(u['default_company'], '')})" if u["default_company"] else ""
    return f"<tr><td>{escape(u['email'])}</td><td>{escape(companies + default)}</td></tr>"


async def not_found(request: Request, exc: Exception) -> Response:
    """No route matched: under /v2 Visma's JSON envelope (404, 3000), elsewhere Starlette's plain text."""
    if request.url.path == "/v2" or request.url.path.startswith("/v2/"):
        return errors.not_found_response(str(request.url))
    detail = exc.detail if isinstance(exc, HTTPException) else "Not Found"
    return PlainTextResponse(detail, status_code=404)


def check_overrides(companies: Mapping[str, Mapping[str, Any]] | None) -> dict[str, dict[str, Any]]:
    """Validate ``{company_id: {"state"?, "locked_to"?, "faults"?}}``; ValueError says what is wrong."""
    known = {c["id"] for c in seed.COMPANIES}
    out: dict[str, dict[str, Any]] = {}
    for cid, o in (companies or {}).items():
        if cid not in known:
            raise ValueError(f"unknown company {cid!r}; the seeded ones are in sandbox/seed.py")
        extra = set(o) - {"state", "locked_to", "faults"}
        if extra:
            raise ValueError(f"unknown company setting(s) {', '.join(sorted(extra))}; use state, locked_to, faults")
        state = o.get("state")
        if state is not None and state not in seed.STATES:
            raise ValueError(f"unknown state {state!r}; known: {', '.join(seed.STATES)}")
        if o.get("locked_to") is not None:
            date.fromisoformat(str(o["locked_to"]))
        out[cid] = {**({"state": state, "locked_to": o.get("locked_to")} if state else {}),
                    "faults": faults.validate_faults(dict(o.get("faults") or {}))}
    return out


def create_app(
    store: Store, redirect_uris: Iterable[str] = (), seed_data: bool = True,
    companies: Mapping[str, Mapping[str, Any]] | None = None,
) -> DropConnectionMiddleware:
    """The sandbox app over ``store``; seeds it when empty (and ``seed_data``), and registers extra redirect URIs.

    ``companies`` sets states and faults as part of the seed (``{company_id: {"state", "locked_to", "faults"}}``):
    applied now, and again after every ``POST /_sandbox/reset``. With a ``--db`` file that is already seeded (another
    process, an earlier run) they are applied to it and merged into the overrides stored there.
    """
    extra = list(redirect_uris)
    overrides = check_overrides(companies)
    with store.tx() as tx:
        if seed_data and not tx.setting("seeded", False):
            model.seed_into(tx, extra, overrides)
        elif overrides and tx.setting("seeded", False):
            stored = tx.setting(model.OVERRIDES_KEY, {})
            for cid, o in overrides.items():
                old = stored.get(cid, {})
                stored[cid] = {**old, **o, "faults": {**old.get("faults", {}), **o["faults"]}}
            tx.set_setting(model.OVERRIDES_KEY, stored)
            model.apply_overrides(tx, overrides)
        client = tx.get("client", seed.CLIENT_ID)
        if client is not None:
            missing = [u for u in extra if u not in client["redirect_uris"]]
            if missing:
                client["redirect_uris"].extend(missing)
                tx.put("client", seed.CLIENT_ID, client)
    routes = [
        Route("/", index, methods=["GET"]),
        Route("/connect/authorize", identity.authorize, methods=["GET"]),
        Route("/connect/login", identity.login, methods=["POST"]),
        Route("/connect/choose", identity.choose, methods=["POST"]),
        Route("/connect/consent", identity.consent, methods=["POST"]),
        Route(identity.SWITCH_USER, identity.switch_user, methods=["POST"]),
        Route("/connect/token", token_endpoint.token, methods=["POST"]),
        Route("/connect/revocation", token_endpoint.revocation, methods=["POST"]),
        Route("/.well-known/openid-configuration", identity.discovery, methods=["GET"]),
        Route("/.well-known/openid-configuration/jwks", identity.jwks, methods=["GET"]),
        *api.ROUTES,
        *ledger.ROUTES,
        *drafts.ROUTES,
        *attachments.ROUTES,
        *admin.ROUTES,
    ]
    app = Starlette(routes=routes, exception_handlers={404: not_found})
    app.state.store = store
    return DropConnectionMiddleware(app)

"""The identity server: Visma Online IdentityServer's paths and behaviour (visma-eaccounting.md §1, F1–F15).

Flow: ``GET /connect/authorize`` checks client, redirect URI and scopes (an error page, never a redirect to an
unregistered URI), opens a *login transaction* (a server-side record whose opaque id travels in a hidden field) and
shows the login page; then the company choice (skipped when the user has a default company, as Visma does, F15),
then the consent page (Allow / Deny). Allow redirects with a one-time code valid 5 minutes (F10).

A browser already signed in (the ``vo_session`` cookie) skips the login; the company choice and the consent page then
offer *Sign in as someone else*, which ends that session and starts the same authorization over at the login form
(same ``client_id``, ``redirect_uri``, ``state``, PKCE challenge…: the login transaction keeps the original query).

The token and revocation endpoints are in ``sandbox/token_endpoint.py``.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from sandbox import clock, model, tokens
from sandbox.store import Store, Tx

TEMPLATES = Environment(
    loader=FileSystemLoader(str(Path(__file__).parent / "templates")), autoescape=select_autoescape(["html"])
)

LOGIN_TX_LIFETIME = 15 * 60
SSO_COOKIE = "vo_session"
SWITCH_USER = "/connect/switch-user"
WRONG_LOGIN = "The e-mail address or password is incorrect."

SCOPES: dict[str, str] = {
    "ea:api": "Use the Visma eAccounting API on your behalf",
    "offline_access": "Stay connected when you are not using the application (offline access)",
    "ea:accounting": "Read and create bookkeeping: vouchers, accounts, fiscal years and cost centres",
    "ea:accounting_readonly": "Read bookkeeping: vouchers, accounts, fiscal years and cost centres",
    "ea:sales": "Read and change sales data and company settings",
    "ea:sales_readonly": "Read sales data and company settings",
    "ea:purchase": "Read and change purchase data",
    "ea:purchase_readonly": "Read purchase data",
    "ea:settings": "Read and change settings",
    "ea:settings_readonly": "Read settings",
    "openid": "Know who you are",
    "profile": "Read your name",
    "email": "Read your e-mail address",
}
ESERVICE_GUID = "44643EB1-3F76-4C1C-A672-402AE8085934"


def store_of(request: Request) -> Store:
    return request.app.state.store


def issuer(request: Request) -> str:
    return f"{request.url.scheme}://{request.url.netloc}"


def _page(name: str, status: int = 200, **ctx: Any) -> HTMLResponse:
    html = TEMPLATES.get_template(name).render(**ctx)
    return HTMLResponse(html, status_code=status, headers={"Cache-Control": "no-store"})


def _error_page(error: str, message: str, status: int = 400) -> HTMLResponse:
    return _page("error.html", status, title="Error", error=error, message=message)


def _redirect(uri: str, params: dict[str, str | None]) -> RedirectResponse:
    query = urlencode({k: v for k, v in params.items() if v is not None})
    sep = "&" if "?" in uri else "?"
    return RedirectResponse(f"{uri}{sep}{query}", status_code=302)


# --------------------------------------------------------------------------------------------------------------------
# authorize → login → choose → consent


async def authorize(request: Request) -> Response:
    q = request.query_params
    client_id = q.get("client_id", "")
    redirect_uri = q.get("redirect_uri", "")
    with store_of(request).tx() as tx:
        client = tx.get("client", client_id)
        if client is None:
            return _error_page("invalid_client", "Unknown client. The application is not registered.")
        if redirect_uri not in client["redirect_uris"]:
            return _error_page("invalid_request", "Invalid redirect_uri: it is not registered for this application.")
        scopes = q.get("scope", "").split()
        unknown = [s for s in scopes if s not in SCOPES]
        if not scopes or unknown:
            return _error_page("invalid_scope", f"Invalid scope: {', '.join(unknown) or '(none requested)'}.")
        state = q.get("state")
        if q.get("response_type") != "code":
            return _redirect(redirect_uri, {"error": "unsupported_response_type", "state": state})
        challenge = q.get("code_challenge")
        method = q.get("code_challenge_method") or ("plain" if challenge else None)
        if challenge and method not in ("S256", "plain"):
            return _redirect(redirect_uri, {"error": "invalid_request",
                                            "error_description": "code_challenge_method must be S256 or plain",
                                            "state": state})
        if challenge and not 43 <= len(challenge) <= 128:
            return _redirect(redirect_uri, {"error": "invalid_request",
                                            "error_description": "code_challenge length must be 43 to 128",
                                            "state": state})
        prompt = q.get("prompt", "").split()
        login_tx = {
            "client": client_id, "redirect_uri": redirect_uri, "scopes": scopes, "state": state,
            "challenge": challenge, "method": method, "prompt": prompt, "acr": q.get("acr_values", "").split(),
            "nonce": q.get("nonce"),
            "user": None, "company": None, "auth_time": None, "expires": clock.now_ts(tx) + LOGIN_TX_LIFETIME,
            "query": request.url.query,  # to start this authorization over after "Sign in as someone else"
        }
        tx_id = secrets.token_urlsafe(24)
        session_user = None if "login" in prompt else _sso_user(tx, request.cookies.get(SSO_COOKIE))
        if "none" in prompt:
            if session_user is None:
                return _redirect(redirect_uri, {"error": "login_required", "state": state})
            return _redirect(redirect_uri, {"error": "consent_required", "state": state})
        if session_user is not None:
            login_tx["user"] = session_user
            login_tx["auth_time"] = clock.now_ts(tx)
            tx.put("tx", tx_id, login_tx)
            return _next_step(tx, tx_id, login_tx)
        tx.put("tx", tx_id, login_tx)
        return _login_page(tx_id, client["name"])


def _login_page(tx_id: str, client_name: str, error: str | None = None, email: str = "") -> HTMLResponse:
    return _page("login.html", title="Log in", tx=tx_id, action="/connect/login", client_name=client_name,
                 error=error, email=email)


def _sso_user(tx: Tx, cookie: str | None) -> str | None:
    if not cookie:
        return None
    sso = tx.get("sso", cookie)
    if sso is None:
        return None
    user = tx.get("user", sso["user"])
    if user is None or user["generation"] != sso["generation"]:
        return None
    return sso["user"]


def _load_tx(tx: Tx, tx_id: str) -> dict[str, Any] | None:
    doc = tx.get("tx", tx_id) if tx_id else None
    if doc is None or doc["expires"] <= clock.now_ts(tx):
        return None
    return doc


def _expired_page() -> HTMLResponse:
    return _error_page(
        "login_expired", "Your login session has expired or is unknown. Start again from the application."
    )


async def login(request: Request) -> Response:
    form = await request.form()
    tx_id = str(form.get("tx", ""))
    email = str(form.get("email", "")).strip().lower()
    password = str(form.get("password", ""))
    with store_of(request).tx() as tx:
        doc = _load_tx(tx, tx_id)
        if doc is None:
            return _expired_page()
        client = tx.get("client", doc["client"]) or {}
        user = tx.get("user", email)
        if user is None or not model.check_password(password, user["password"]):
            return _login_page(tx_id, client.get("name", ""), error=WRONG_LOGIN, email=email)
        doc["user"] = email
        doc["auth_time"] = clock.now_ts(tx)
        tx.put("tx", tx_id, doc)
        sso_id = secrets.token_urlsafe(24)
        tx.put("sso", sso_id, {"user": email, "generation": user["generation"]})
        response = _next_step(tx, tx_id, doc)
    response.set_cookie(SSO_COOKIE, sso_id, httponly=True, samesite="lax", path="/")
    return response


def _next_step(tx: Tx, tx_id: str, doc: dict[str, Any]) -> Response:
    """After login: the company choice, unless a default company (F15) or a single company decides it."""
    user = tx.get("user", doc["user"])
    assert user is not None
    companies = _eligible_companies(tx, doc, user)
    if not companies:
        tx.delete("tx", tx_id)
        return _error_page("access_denied", "None of your companies uses the service this application asks for "
                                            "(acr_values service:…). Log in with another user.", 403)
    settings = model.settings(tx)
    force = (
        settings["honour_forceselectcompany"] and "forceselectcompany:true" in doc["acr"] and "login" in doc["prompt"]
    )
    default = user.get("default_company")
    if default and default in {c["id"] for c in companies} and not force:
        doc["company"] = default
    elif len(companies) == 1 and "select_account" not in doc["prompt"]:
        doc["company"] = companies[0]["id"]
    if doc["company"] is None:
        tx.put("tx", tx_id, doc)
        return _page("choose.html", title="Choose a company", tx=tx_id, action="/connect/choose", email=user["email"],
                     companies=[{"id": c["id"], "name": c["name"]} for c in companies], switch_action=SWITCH_USER)
    tx.put("tx", tx_id, doc)
    return _consent_page(tx, tx_id, doc)


def _eligible_companies(tx: Tx, doc: dict[str, Any], user: dict[str, Any]) -> list[dict[str, Any]]:
    """The user's companies, narrowed by ``acr_values=service:<guid>`` to those that have that Visma service (F15).

    Every seeded company has eAccounting (``ESERVICE_GUID``) unless its seed entry lists other ``services``; an
    unknown service GUID leaves no company, as at Visma (the chooser only offers companies with the service).
    """
    wanted = {a.split(":", 1)[1].upper() for a in doc["acr"] if a.lower().startswith("service:")}
    companies = [c for c in (tx.get("company", cid) for cid in user["companies"]) if c is not None]
    if wanted:
        companies = [c for c in companies if wanted & {s.upper() for s in c.get("services", [ESERVICE_GUID])}]
    return companies


def _consent_page(tx: Tx, tx_id: str, doc: dict[str, Any]) -> HTMLResponse:
    client = tx.get("client", doc["client"]) or {}
    company = tx.get("company", doc["company"]) or {}
    return _page("consent.html", title="Allow access", tx=tx_id, action="/connect/consent",
                 client_name=client.get("name", doc["client"]), company_name=company.get("name", ""),
                 email=doc["user"], scopes=[SCOPES[s] for s in doc["scopes"]], switch_action=SWITCH_USER)


async def choose(request: Request) -> Response:
    form = await request.form()
    tx_id = str(form.get("tx", ""))
    company_id = str(form.get("company_id", ""))
    with store_of(request).tx() as tx:
        doc = _load_tx(tx, tx_id)
        if doc is None or doc["user"] is None:
            return _expired_page()
        user = tx.get("user", doc["user"]) or {}
        if not user or company_id not in {c["id"] for c in _eligible_companies(tx, doc, user)}:
            return _error_page("invalid_request", "That company is not one of yours. Choose a company from the list.")
        doc["company"] = company_id
        tx.put("tx", tx_id, doc)
        return _consent_page(tx, tx_id, doc)


async def consent(request: Request) -> Response:
    form = await request.form()
    tx_id = str(form.get("tx", ""))
    decision = str(form.get("decision", ""))
    with store_of(request).tx() as tx:
        doc = _load_tx(tx, tx_id)
        if doc is None or doc["user"] is None or doc["company"] is None:
            return _expired_page()
        tx.delete("tx", tx_id)
        if decision != "allow":
            return _redirect(doc["redirect_uri"], {"error": "access_denied", "state": doc["state"]})
        code = tokens.issue_code(tx, {
            "client": doc["client"], "redirect_uri": doc["redirect_uri"], "scopes": doc["scopes"], "user": doc["user"],
            "company": doc["company"], "challenge": doc["challenge"], "method": doc["method"],
            "auth_time": doc["auth_time"], "nonce": doc.get("nonce"),
        })
        return _redirect(doc["redirect_uri"], {"code": code, "scope": " ".join(doc["scopes"]), "state": doc["state"],
                                               "iss": issuer(request)})


async def switch_user(request: Request) -> Response:
    """*Sign in as someone else*: end the browser's sandbox session and show the login form again for the same
    authorization (the original ``/connect/authorize`` query: client, redirect URI, state, PKCE challenge, scopes)."""
    form = await request.form()
    tx_id = str(form.get("tx", ""))
    cookie = request.cookies.get(SSO_COOKIE)
    with store_of(request).tx() as tx:
        if cookie:
            tx.delete("sso", cookie)
        doc = _load_tx(tx, tx_id)
        if doc is not None:
            tx.delete("tx", tx_id)
    if doc is None or doc.get("query") is None:
        response: Response = _expired_page()
    else:
        response = RedirectResponse(f"/connect/authorize?{doc['query']}", status_code=303)
    response.delete_cookie(SSO_COOKIE, path="/", httponly=True, samesite="lax")
    return response


# --------------------------------------------------------------------------------------------------------------------
# discovery

# The identity server's endpoints by discovery name. Only those with a route in the running app are published, so
# the document never names a path that answers 404 (Visma's own document also lists userinfo, end-session,
# introspection, check-session and device authorization, visma-eaccounting.md F4; the sandbox serves none of them).
ENDPOINTS = {
    "authorization_endpoint": "/connect/authorize",
    "token_endpoint": "/connect/token",
    "revocation_endpoint": "/connect/revocation",
    "userinfo_endpoint": "/connect/userinfo",
    "end_session_endpoint": "/connect/endsession",
    "introspection_endpoint": "/connect/introspect",
    "check_session_iframe": "/connect/checksession",
    "device_authorization_endpoint": "/connect/deviceauthorization",
}
JWKS_PATH = "/.well-known/openid-configuration/jwks"
CLIENT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]  # sandbox/token_endpoint.py _client_auth


def _served_paths(request: Request) -> set[str]:
    return {path for route in request.app.routes if isinstance(path := getattr(route, "path", None), str)}


async def discovery(request: Request) -> Response:
    """What this identity server serves, in the shape of Visma's discovery document ([A2], visma-eaccounting.md §1).

    Visma advertises more (grant types ``client_credentials``, ``implicit``, device code, CIBA; hybrid response
    types; ``form_post`` and ``fragment`` modes; DPoP); the sandbox lists only what ``authorize`` and the token
    endpoint accept: the code flow with PKCE (``plain``, ``S256``), refresh tokens, Basic or form client
    authentication, tokens signed RS256 with the key of ``jwks_uri``. Visma also sets
    ``authorization_response_iss_parameter_supported`` (RFC 9207); the sandbox puts ``iss`` on the code redirect but
    not on error redirects, so it does not claim it.
    """
    base = issuer(request)
    served = _served_paths(request)
    doc: dict[str, Any] = {"issuer": base}
    if JWKS_PATH in served:
        doc["jwks_uri"] = f"{base}{JWKS_PATH}"
    doc.update({name: f"{base}{path}" for name, path in ENDPOINTS.items() if path in served})
    doc.update({
        "scopes_supported": list(SCOPES),
        # the claims of the access token and the ID token (sandbox/tokens.py)
        "claims_supported": ["sub", "email", "customer_id", "customer_name", "client_id", "scope", "auth_time",
                             "idp", "amr"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "token_endpoint_auth_methods_supported": CLIENT_AUTH_METHODS,
        "id_token_signing_alg_values_supported": [tokens.ALG],
        "subject_types_supported": ["public"],
        "code_challenge_methods_supported": ["plain", "S256"],
        "prompt_values_supported": ["none", "login", "consent", "select_account"],
    })
    if "revocation_endpoint" in doc:
        doc["revocation_endpoint_auth_methods_supported"] = CLIENT_AUTH_METHODS
    return JSONResponse(doc)


async def jwks(request: Request) -> Response:
    """The public key that signs every token (RFC 7517 JWK Set: ``kty``, ``use``, ``kid``, ``alg``, ``n``, ``e``)."""
    with store_of(request).tx() as tx:
        body = tokens.jwks(tx)
    return JSONResponse(body)

"""The sandbox-only admin API under ``/_sandbox/`` (docs/architecture.md "Admin API"), JSON in and out.

The dashboard's demo panel and the tests use it to switch company states and faults, read what was posted, move the
clock and reset. It has no authentication: the sandbox binds to 127.0.0.1 and holds only made-up data.
"""

from __future__ import annotations

import json
import math
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sandbox import clock, faults, model, seed
from sandbox.store import Store, Tx


def _store(request: Request) -> Store:
    return request.app.state.store


MAX_CLOCK_ADVANCE = 100 * 365.25 * 86_400  # a test moves days or years, never past datetime's range


def _bad(message: str, status: int = 400) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


async def _json_body(request: Request) -> dict[str, Any] | None:
    try:
        body = json.loads(await request.body() or b"{}")
    except (ValueError, RecursionError):  # not JSON, or nested deeper than any admin call needs
        return None
    return body if isinstance(body, dict) else None


def start_state(tx: Tx, company_id: str) -> str:
    """The state a company has when the sandbox starts and after every reset: its seed entry's state (the help
    article's errors for three companies), or the start's override (``--state``)."""
    override = tx.setting(model.OVERRIDES_KEY, {}).get(company_id, {})
    seeded = next((c.get("state", "ok") for c in seed.COMPANIES if c["id"] == company_id), "ok")
    return override.get("state") or seeded


def _company_view(tx: Tx, c: dict[str, Any]) -> dict[str, Any]:
    users = [u["email"] for u in tx.list("user") if c["id"] in u["companies"]]
    return {
        "id": c["id"], "name": c["name"], "state": c["state"], "faults": c["faults"], "locked_to": c["locked_to"],
        "start_state": start_state(tx, c["id"]), "reject_attachments": c.get("reject_attachments", False),
        "users": users,
        "fiscal_years": [{"id": f["Id"], "start": f["start"], "end": f["end"], "locked": f["locked"]}
                         for f in model.visible_fiscal_years(tx, c["id"])],
    }


async def health(request: Request) -> Response:
    return JSONResponse({"ok": True})


async def list_companies(request: Request) -> Response:
    with _store(request).tx(write=False) as tx:
        return JSONResponse([_company_view(tx, c) for c in tx.list("company")])


async def set_company_state(request: Request) -> Response:
    body = await _json_body(request)
    if body is None or not isinstance(body.get("state"), str):
        return _bad(f'Send {{"state": …}} with one of: {", ".join(seed.STATES)}.')
    cid = request.path_params["company_id"]
    with _store(request).tx() as tx:
        if tx.get("company", cid) is None:
            return _bad(f"No company with id {cid}.", 404)
        try:
            company = model.set_state(tx, cid, body["state"], body.get("locked_to"))
        except ValueError as exc:
            return _bad(str(exc))
        return JSONResponse(_company_view(tx, company))


async def set_company_faults(request: Request) -> Response:
    body = await _json_body(request)
    if body is None:
        return _bad("Send a JSON object of faults, e.g. {\"http_error\": 503}.")
    try:
        patch = faults.validate_faults(body)
    except ValueError as exc:
        return _bad(str(exc))
    cid = request.path_params["company_id"]
    with _store(request).tx() as tx:
        company = tx.get("company", cid)
        if company is None:
            return _bad(f"No company with id {cid}.", 404)
        company["faults"] = {**company["faults"], **patch}
        tx.put("company", cid, company, company=cid)
        return JSONResponse(_company_view(tx, company))


ACCOUNT_FLAGS = {"active": "active", "cost_center_allowed": "cc_allowed",
                 "first_cost_center_mandatory": "cc_mandatory", "project_allowed": "project_allowed"}


def _bool_patch(
    body: dict[str, Any] | None, allowed: dict[str, str], extra: frozenset[str] = frozenset()
) -> dict[str, bool] | str:
    """``{stored_key: bool}`` from an admin body, or the message saying what is wrong."""
    if body is None:
        return f"Send a JSON object with any of: {', '.join(allowed)}."
    unknown = set(body) - set(allowed) - extra
    if unknown:
        return f"Unknown field(s) {', '.join(sorted(unknown))}; known: {', '.join([*allowed, *sorted(extra)])}."
    patch = {allowed[k]: v for k, v in body.items() if k in allowed}
    if not patch or not all(isinstance(v, bool) for v in patch.values()):
        return f"Send at least one of {', '.join(allowed)}, each true or false."
    return patch


async def set_account_flags(request: Request) -> Response:
    """Failure states of an account for demos: inactive (3002 on a voucher), cost centres not allowed or the first one
    mandatory (2000), projects not allowed (2000). In every fiscal year, or in ``fiscal_year_id`` only."""
    body = await _json_body(request)
    patch = _bool_patch(body, ACCOUNT_FLAGS, frozenset({"fiscal_year_id"}))
    if isinstance(patch, str):
        return _bad(patch)
    cid = request.path_params["company_id"]
    number = request.path_params["number"]
    only = (body or {}).get("fiscal_year_id")
    with _store(request).tx() as tx:
        if tx.get("company", cid) is None:
            return _bad(f"No company with id {cid}.", 404)
        years = [f["Id"] for f in tx.list("fy", cid) if only is None or f["Id"] == str(only).lower()]
        accounts = [a for a in (tx.get("account", f"{fy}:{number}") for fy in years) if a is not None]
        if not accounts:
            return _bad(f"No account {number} in {'fiscal year ' + str(only) if only else 'this company'}.", 404)
        now = clock.now_ts(tx)
        for acc in accounts:
            acc.update(patch)
            acc["modified"] = now
            tx.put("account", f"{acc['fy']}:{acc['number']}", acc, company=cid)
        return JSONResponse([{"fiscal_year_id": a["fy"], "number": a["number"],
                              **{k: a.get(v, False) for k, v in ACCOUNT_FLAGS.items()}} for a in accounts])


async def set_fiscal_year(request: Request) -> Response:
    """Lock or unlock one fiscal year (IsLockedForAccounting; a voucher dated in it is then refused with 4038)."""
    body = await _json_body(request)
    patch = _bool_patch(body, {"locked": "locked"})
    if isinstance(patch, str):
        return _bad(patch)
    cid = request.path_params["company_id"]
    fy_id = request.path_params["fiscal_year_id"].lower()
    with _store(request).tx() as tx:
        fy = tx.get("fy", fy_id)
        if fy is None or fy not in tx.list("fy", cid):
            return _bad(f"No fiscal year {fy_id} in company {cid}.", 404)
        fy.update(patch)
        tx.put("fy", fy_id, fy, company=cid)
        return JSONResponse({"id": fy["Id"], "start": fy["start"], "end": fy["end"], "locked": fy["locked"]})


async def set_cost_center_item(request: Request) -> Response:
    """Deactivate or reactivate a cost centre item (by short name): a voucher row using an inactive one is refused
    with 5006 InactiveCostCenter, and GET /v2/costcenters shows it inactive."""
    body = await _json_body(request)
    patch = _bool_patch(body, {"active": "IsActive"})
    if isinstance(patch, str):
        return _bad(patch)
    cid = request.path_params["company_id"]
    short = request.path_params["short_name"]
    with _store(request).tx() as tx:
        item = tx.get("cci", seed.cost_center_item_id(cid, short))
        if item is None or item not in tx.list("cci", cid):
            return _bad(f"No cost centre item {short} in company {cid}.", 404)
        item.update(patch)
        tx.put("cci", item["Id"], item, company=cid)
        return JSONResponse({"id": item["Id"], "short_name": short, "active": item["IsActive"]})


async def set_project(request: Request) -> Response:
    """Finish or reopen a project: a voucher row on a finished project is refused with 5005 ProjectEnded."""
    body = await _json_body(request)
    status = (body or {}).get("status")
    if status not in (1, 2) or isinstance(status, bool) or set(body or {}) != {"status"}:
        return _bad('Send {"status": 1} (ongoing) or {"status": 2} (finished).')
    cid = request.path_params["company_id"]
    number = request.path_params["number"]
    with _store(request).tx() as tx:
        project = tx.get("project", seed.project_id(cid, number))
        if project is None or project["company"] != cid:
            return _bad(f"No project {number} in company {cid}.", 404)
        project["Status"] = status
        project["modified"] = clock.now_ts(tx)
        tx.put("project", project["Id"], project, company=cid)
        return JSONResponse({"id": project["Id"], "number": number, "status": status})


async def set_attachments(request: Request) -> Response:
    """``{"reject_uploads": true}``: every POST /v2/attachments of the company is refused as an unreadable file."""
    body = await _json_body(request)
    patch = _bool_patch(body, {"reject_uploads": "reject_attachments"})
    if isinstance(patch, str):
        return _bad(patch)
    cid = request.path_params["company_id"]
    with _store(request).tx() as tx:
        company = tx.get("company", cid)
        if company is None:
            return _bad(f"No company with id {cid}.", 404)
        company.update(patch)
        tx.put("company", cid, company, company=cid)
        return JSONResponse(_company_view(tx, company))


async def list_vouchers(request: Request) -> Response:
    company_id = request.query_params.get("company_id")
    with _store(request).tx(write=False) as tx:
        docs = tx.list("voucher", company_id) if company_id else tx.list("voucher")
        return JSONResponse([{**d["api"], "company_id": d["company_id"], "fiscal_year_id": d["fiscal_year_id"]}
                             for d in docs])


async def reset(request: Request) -> Response:
    with _store(request).tx() as tx:
        model.reset(tx)
    return JSONResponse({"ok": True})


async def add_redirect_uri(request: Request) -> Response:
    body = await _json_body(request)
    if body is None or not isinstance(body.get("redirect_uri"), str):
        return _bad('Send {"client_id": "…", "redirect_uri": "http://…"}.')
    client_id = body.get("client_id") or seed.CLIENT_ID
    with _store(request).tx() as tx:
        client = tx.get("client", client_id)
        if client is None:
            return _bad(f"No client with id {client_id}.", 404)
        if body["redirect_uri"] not in client["redirect_uris"]:
            client["redirect_uris"].append(body["redirect_uri"])
            tx.put("client", client_id, client)
        return JSONResponse({"client_id": client_id, "redirect_uris": client["redirect_uris"]})


async def get_clock(request: Request) -> Response:
    with _store(request).tx(write=False) as tx:
        return JSONResponse({"now": clock.iso(clock.now(tx)), "offset_seconds": tx.setting(clock.OFFSET_KEY, 0.0)})


async def advance_clock(request: Request) -> Response:
    body = await _json_body(request)
    seconds = body.get("advance_seconds") if body else None
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)):
        return _bad('Send {"advance_seconds": N}.')
    if not math.isfinite(seconds) or abs(seconds) > MAX_CLOCK_ADVANCE:
        return _bad(f"advance_seconds must be a number of seconds within ±{MAX_CLOCK_ADVANCE:.0f} (100 years).")
    with _store(request).tx() as tx:
        offset = clock.advance(tx, seconds)
        return JSONResponse({"now": clock.iso(clock.now(tx)), "offset_seconds": offset})


async def get_stats(request: Request) -> Response:
    with _store(request).tx(write=False) as tx:
        stats = tx.stats()
    return JSONResponse({
        "token_grants": stats.get("token_grants", {}),
        "token_failures": stats.get("token_failures", {}),
        "api_calls": stats.get("api_calls", {}),
        "vouchers_created": sum(stats.get("vouchers_created", {}).values()),
        "vouchers_created_by_company": stats.get("vouchers_created", {}),
        "rate_limited": stats.get("rate_limited", {}),
        "connections_dropped": sum(stats.get("connections_dropped", {}).values()),
    })


async def reset_stats(request: Request) -> Response:
    with _store(request).tx() as tx:
        tx.reset_stats()
    return JSONResponse({"ok": True})


async def set_password(request: Request) -> Response:
    body = await _json_body(request)
    if body is None or not isinstance(body.get("password"), str) or not body["password"]:
        return _bad('Send {"password": "…"}.')
    email = request.path_params["email"].lower()
    with _store(request).tx() as tx:
        user = tx.get("user", email)
        if user is None:
            return _bad(f"No user {email}.", 404)
        user["password"] = model.hash_password(body["password"])
        user["generation"] += 1
        tx.put("user", email, user)
    return JSONResponse({"email": email, "tokens_invalidated": True})


async def set_default_company(request: Request) -> Response:
    body = await _json_body(request)
    if body is None or "company_id" not in body:
        return _bad('Send {"company_id": "<guid>"} or {"company_id": null}.')
    email = request.path_params["email"].lower()
    with _store(request).tx() as tx:
        user = tx.get("user", email)
        if user is None:
            return _bad(f"No user {email}.", 404)
        if body["company_id"] is not None and body["company_id"] not in user["companies"]:
            return _bad("The default company must be one of the user's companies.")
        user["default_company"] = body["company_id"]
        tx.put("user", email, user)
        return JSONResponse(_user_view(user))


def _user_view(u: dict[str, Any]) -> dict[str, Any]:
    return {"email": u["email"], "name": u["name"], "companies": u["companies"],
            "default_company": u["default_company"]}


async def list_users(request: Request) -> Response:
    with _store(request).tx(write=False) as tx:
        return JSONResponse([_user_view(u) for u in tx.list("user")])


async def set_client(request: Request) -> Response:
    body = await _json_body(request)
    mode = body.get("refresh_token_mode") if body else None
    if mode not in ("rotating", "reusable"):
        return _bad('Send {"refresh_token_mode": "rotating"} or {"refresh_token_mode": "reusable"}.')
    client_id = request.path_params["client_id"]
    with _store(request).tx() as tx:
        client = tx.get("client", client_id)
        if client is None:
            return _bad(f"No client with id {client_id}.", 404)
        client["refresh_token_mode"] = mode
        tx.put("client", client_id, client)
        return JSONResponse({"id": client_id, "refresh_token_mode": mode, "redirect_uris": client["redirect_uris"]})


async def get_settings(request: Request) -> Response:
    with _store(request).tx(write=False) as tx:
        return JSONResponse(model.settings(tx))


async def put_settings(request: Request) -> Response:
    body = await _json_body(request)
    if body is None:
        return _bad("Send a JSON object of settings.")
    unknown = set(body) - set(model.DEFAULT_SETTINGS)
    if unknown:
        return _bad(f"Unknown settings: {', '.join(sorted(unknown))}. Known: {', '.join(model.DEFAULT_SETTINGS)}.")
    for key, value in body.items():
        default = model.DEFAULT_SETTINGS[key]
        if type(value) is not type(default):
            return _bad(f"{key} must be a {type(default).__name__}.")
    if body.get("pagesize_over_max", "error") not in ("error", "clamp"):
        return _bad('pagesize_over_max must be "error" or "clamp".')
    if body.get("rate_limit_scope", "client_url") not in ("client_url", "client_company_url"):
        return _bad('rate_limit_scope must be "client_url" or "client_company_url".')
    if body.get("refresh_token_expiration", "absolute") not in ("absolute", "sliding"):
        return _bad('refresh_token_expiration must be "absolute" or "sliding".')
    with _store(request).tx() as tx:
        tx.set_setting("behaviour", {**tx.setting("behaviour", {}), **body})
        return JSONResponse(model.settings(tx))


ROUTES = [
    Route("/_sandbox/health", health, methods=["GET"]),
    Route("/_sandbox/companies", list_companies, methods=["GET"]),
    Route("/_sandbox/companies/{company_id}/state", set_company_state, methods=["PUT"]),
    Route("/_sandbox/companies/{company_id}/faults", set_company_faults, methods=["PUT"]),
    Route("/_sandbox/companies/{company_id}/accounts/{number}", set_account_flags, methods=["PUT"]),
    Route("/_sandbox/companies/{company_id}/fiscal-years/{fiscal_year_id}", set_fiscal_year, methods=["PUT"]),
    Route("/_sandbox/companies/{company_id}/cost-center-items/{short_name}", set_cost_center_item, methods=["PUT"]),
    Route("/_sandbox/companies/{company_id}/projects/{number}", set_project, methods=["PUT"]),
    Route("/_sandbox/companies/{company_id}/attachments", set_attachments, methods=["PUT"]),
    Route("/_sandbox/vouchers", list_vouchers, methods=["GET"]),
    Route("/_sandbox/reset", reset, methods=["POST"]),
    Route("/_sandbox/redirect-uris", add_redirect_uri, methods=["POST"]),
    Route("/_sandbox/clock", get_clock, methods=["GET"]),
    Route("/_sandbox/clock", advance_clock, methods=["POST"]),
    Route("/_sandbox/stats", get_stats, methods=["GET"]),
    Route("/_sandbox/stats/reset", reset_stats, methods=["POST"]),
    Route("/_sandbox/users", list_users, methods=["GET"]),
    Route("/_sandbox/users/{email}/password", set_password, methods=["PUT"]),
    Route("/_sandbox/users/{email}/default-company", set_default_company, methods=["PUT"]),
    Route("/_sandbox/clients/{client_id}", set_client, methods=["PUT"]),
    Route("/_sandbox/settings", get_settings, methods=["GET"]),
    Route("/_sandbox/settings", put_settings, methods=["PUT"]),
]

"""Seeding, reset and company states: the data behind both hosts.

A company's *state* (docs/architecture.md "Company states") is a label plus the data change that produces the
behaviour: ``no_fiscal_year`` hides the fiscal years that reach today (on the sandbox clock), ``year_locked`` locks the
fiscal years, ``period_locked`` sets ``AccountingLockedTo``; the others are checked by the API on each call. Switching
back to ``ok`` undoes the data change, so a demo can show an error and then its fix.
"""

from __future__ import annotations

import calendar
import hashlib
import os
import secrets
from copy import deepcopy
from datetime import date
from typing import Any

from sandbox import clock, seed
from sandbox.store import Tx

DEFAULT_SETTINGS: dict[str, Any] = {
    # visma-eaccounting.md §8: Visma's spec lists only the sales scopes for companysettings; strict by default.
    "companysettings_accepts_accounting": False,
    # $pagesize above 1000: "error" (400 6000, strict) or "clamp" (answer with 1000 a page).
    "pagesize_over_max": "error",
    # Rate-limit key: Visma says "per client and URL" (fleet-wide, strict); "client_company_url" counts per company too.
    "rate_limit_scope": "client_url",
    # Visma documents no Retry-After header on 429; off by default.
    "retry_after_header": False,
    # Refresh-token lifetime is undocumented (§8); Duende's default absolute lifetime, 30 days.
    "refresh_token_lifetime_seconds": 30 * 24 * 3600,
    # "absolute" (strict, Duende's default): a rotated refresh token keeps the expiry of the first refresh token of
    # its family (the authorization), so refreshing never extends the grant; "sliding": each new refresh token gets
    # now + lifetime.
    "refresh_token_expiration": "absolute",
    # Reusing a rotated refresh token fails with invalid_grant; revoking the whole family as well is stricter.
    "revoke_family_on_refresh_reuse": False,
    # acr_values forceselectcompany:true (legacy) forcing the chooser despite a default company; unconfirmed, off.
    "honour_forceselectcompany": False,
    # VoucherDate is optional in the 2026 spec but required in 2023's; strict: required.
    "require_voucher_date": True,
    # A voucher row with neither debit nor credit: rejected (strict).
    "reject_zero_rows": True,
    # POST /v2/attachments: Visma documents no size limit for Data; the sandbox refuses a decoded file above this.
    "attachment_max_bytes": 10 * 1024 * 1024,
}

PBKDF2_ROUNDS = 2000  # a sandbox: slow hashing would only slow the tests


def hash_password(password: str, salt: str | None = None) -> str:
    salt = salt or os.urandom(8).hex()
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), bytes.fromhex(salt), PBKDF2_ROUNDS).hex()
    return f"{salt}${digest}"


def check_password(password: str, stored: str) -> bool:
    salt, _ = stored.split("$", 1)
    return secrets.compare_digest(hash_password(password, salt), stored)


def settings(tx: Tx) -> dict[str, Any]:
    return {**DEFAULT_SETTINGS, **tx.setting("behaviour", {})}


OVERRIDES_KEY = "seed_overrides"


def seed_into(
    tx: Tx, redirect_uris: list[str] | tuple[str, ...] = (), overrides: dict[str, dict[str, Any]] | None = None
) -> None:
    """Write the whole seed (after ``tx.clear_all()`` on reset). Extra redirect URIs are added to the client.

    A company starts with the ``state`` and ``faults`` of its entry in ``seed.COMPANIES``, then ``overrides``
    (``{company_id: {"state", "locked_to", "faults"}}``, from ``start_sandbox(companies=…)`` or ``python -m sandbox
    --state/--fault``) are applied on top; they are kept in the store, so a reset comes back to them.
    """
    created = clock.now_ts(tx)
    tx.set_setting("jwt_key", secrets.token_hex(32))
    tx.set_setting("seeded", True)
    tx.set_setting(OVERRIDES_KEY, overrides or {})
    tx.put(
        "client",
        seed.CLIENT_ID,
        {
            "id": seed.CLIENT_ID,
            "secret": seed.CLIENT_SECRET,
            "name": seed.CLIENT_NAME,
            "redirect_uris": list(dict.fromkeys([*seed.DEFAULT_REDIRECT_URIS, *redirect_uris])),
            "refresh_token_mode": "rotating",
        },
    )
    for u in seed.USERS:
        tx.put("user", u["email"], {**deepcopy(u), "password": hash_password(seed.PASSWORD), "generation": 0})
    for c in seed.COMPANIES:
        cid = c["id"]
        tx.put(
            "company",
            cid,
            {**deepcopy(c), "state": "ok", "faults": {**seed.DEFAULT_FAULTS, **c.get("faults", {})},
             "locked_to": None, "created": created},
            company=cid,
        )
        for year in seed.FISCAL_YEARS:
            fy_id = seed.fiscal_year_id(cid, year)
            add_fiscal_year(tx, cid, date(year, 1, 1), date(year, 12, 31), created, fy_id=fy_id)
        for number, name, active, items in seed.COST_CENTERS:
            cc_id = seed.cost_center_id(cid, number)
            tx.put("cc", cc_id, {"Id": cc_id, "Number": number, "Name": name, "IsActive": active}, company=cid)
            for short, item_name, item_active in items:
                item_id = seed.cost_center_item_id(cid, short)
                tx.put(
                    "cci",
                    item_id,
                    {"Id": item_id, "CostCenterId": cc_id, "Number": number, "Name": item_name, "ShortName": short,
                     "IsActive": item_active, "created": created},
                    company=cid,
                )
        for number, name, status, start, end in seed.PROJECTS:
            pid = seed.project_id(cid, number)
            tx.put("project", pid, {"Id": pid, "Number": number, "Name": name, "Status": status, "StartDate": start,
                                    "EndDate": end, "company": cid, "created": created}, company=cid)
        for code, description, rate, related in seed.VAT_CODES:
            vid = seed.vat_code_id(cid, code)
            tx.put("vatcode", vid, {"Id": vid, "Code": code, "Description": description, "VatRate": rate,
                                    "related": list(related)}, company=cid)
        set_state(tx, cid, c["state"], c.get("locked_to"))
    apply_overrides(tx, overrides or {})


def apply_overrides(tx: Tx, overrides: dict[str, dict[str, Any]]) -> None:
    """Set each named company's state (with ``locked_to``) and merge its faults (already validated)."""
    for cid, o in overrides.items():
        if o.get("state") is not None:
            set_state(tx, cid, o["state"], o.get("locked_to"))
        if o.get("faults"):
            company = tx.get("company", cid)
            assert company is not None
            company["faults"] = {**company["faults"], **o["faults"]}
            tx.put("company", cid, company, company=cid)


def add_fiscal_year(tx: Tx, cid: str, start: date, end: date, created: float, fy_id: str | None = None) -> dict:
    fy_id = fy_id or seed.derived_id(cid, "fy", start.isoformat(), end.isoformat())
    fy = {"Id": fy_id, "start": start.isoformat(), "end": end.isoformat(), "locked": False, "hidden": False,
          "created": created}
    tx.put("fy", fy_id, fy, company=cid)
    for number, name, active, cc_allowed in seed.CHART_OF_ACCOUNTS:
        tx.put(
            "account",
            f"{fy_id}:{number}",
            {"number": number, "name": name, "active": active, "cc_allowed": cc_allowed, "cc_mandatory": False,
             "project_allowed": number in seed.PROJECT_ACCOUNTS, "fy": fy_id, "created": created,
             "modified": created},
            company=cid,
        )
    return fy


def reset(tx: Tx) -> None:
    """Back to the seed; the client's registered redirect URIs and the start's company overrides survive (a dashboard
    under test registered its own URI; a sandbox started with a fault keeps it as its seed)."""
    client = tx.get("client", seed.CLIENT_ID)
    keep = client["redirect_uris"] if client else []
    overrides = tx.setting(OVERRIDES_KEY, {})
    tx.clear_all()
    seed_into(tx, keep, overrides)


def last_day_of_month(d: date) -> date:
    return d.replace(day=calendar.monthrange(d.year, d.month)[1])


def set_state(tx: Tx, cid: str, state: str, locked_to: str | None = None) -> dict:
    """Apply a company state (see the module docstring). Returns the company document."""
    if state not in seed.STATES:
        raise ValueError(f"unknown state {state!r}; known: {', '.join(seed.STATES)}")
    company = tx.get("company", cid)
    if company is None:
        raise KeyError(cid)
    today = clock.today(tx)
    for fy in tx.list("fy", cid):
        fy["hidden"] = state == "no_fiscal_year" and date.fromisoformat(fy["end"]) >= today.replace(month=1, day=1)
        fy["locked"] = state == "year_locked"
        tx.put("fy", fy["Id"], fy, company=cid)
    company["state"] = state
    company["locked_to"] = None
    if state == "period_locked":
        company["locked_to"] = locked_to or last_day_of_month(today).isoformat()
    tx.put("company", cid, company, company=cid)
    return company


def visible_fiscal_years(tx: Tx, cid: str) -> list[dict]:
    return sorted((fy for fy in tx.list("fy", cid) if not fy["hidden"]), key=lambda f: f["start"])


def fiscal_year_for(tx: Tx, cid: str, day: date) -> dict | None:
    iso_day = day.isoformat()
    return next((fy for fy in visible_fiscal_years(tx, cid) if fy["start"] <= iso_day <= fy["end"]), None)

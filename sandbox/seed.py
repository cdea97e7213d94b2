"""The seed: one OAuth client, three users, seven Dutch companies (docs/architecture.md "Seed").

Other code (core tests, the dashboard's demo mode, sales demos) relies on these values; change them only together with
docs/architecture.md. Ids of fiscal years, cost centres and items are derived with uuid5 so that they are the same after
every reset and in every process sharing a ``--db`` file.
"""

from __future__ import annotations

import uuid
from typing import Any

CLIENT_ID = "eaccounting-link-demo"
CLIENT_SECRET = "sandbox-demo-secret"  # a sandbox-only value, never a real credential
CLIENT_NAME = "eAccounting Link"
DEFAULT_REDIRECT_URIS = ("http://localhost:8501/", "http://127.0.0.1:8501/")
PASSWORD = "Welkom2026!"

ANNA = "anna.dekker@demo-bureau.nl"
JOOST = "joost.devries@demo-bureau.nl"
EVA = "eva.jansen@demo-bureau.nl"

# Companies: four healthy, one per article error.
BAKKERIJ = "a30dbfb4-d516-402f-bae3-ae900cd65085"
INSTALLATIE = "47644625-860d-434d-ad10-b6057e3b5106"
HOVENIER = "edcc16b5-506c-477d-890f-38f3819afe29"
TRANSPORT = "d719080d-4939-4c9e-a2ce-dfe27a633d8b"
KAPSALON = "e8599e7c-99a0-4b94-9b91-31f323e604f0"  # no_fiscal_year
DRUKKERIJ = "81f744cc-bedb-4e3b-97b7-4cd58d4d5e20"  # api_module_inactive
ADMINISTRATIE = "7f63c5ae-6d39-400b-b564-e7c3719665d4"  # ledger_empty

STATES = (
    "ok",
    "no_fiscal_year",
    "api_module_inactive",
    "ledger_empty",
    "no_user_access",
    "inactive",
    "read_only",
    "period_locked",
    "year_locked",
)

DEFAULT_FAULTS: dict[str, Any] = {
    "latency_ms": 0,
    "rate_limit_per_minute": None,
    "http_error": None,
    "commit_then_drop": 0,
}

COMPANIES: list[dict[str, Any]] = [
    {"id": BAKKERIJ, "name": "Bakkerij De Gouden Korst B.V.", "state": "ok", "city": "Utrecht",
     "address": "Oudegracht 112", "postal": "3511 AX", "kvk": "30145678"},
    {"id": INSTALLATIE, "name": "Van der Berg Installatietechniek B.V.", "state": "ok", "city": "Eindhoven",
     "address": "Kruisstraat 45", "postal": "5612 CJ", "kvk": "17234590"},
    {"id": HOVENIER, "name": "Hoveniersbedrijf Groen & Zonen", "state": "ok", "city": "Zwolle",
     "address": "Assendorperstraat 9", "postal": "8012 DE", "kvk": "05123987"},
    {"id": TRANSPORT, "name": "Transportbedrijf Visser B.V.", "state": "ok", "city": "Rotterdam",
     "address": "Waalhaven Oostzijde 60", "postal": "3087 BM", "kvk": "24456781"},
    {"id": KAPSALON, "name": "Kapsalon Het Knipperlicht", "state": "no_fiscal_year", "city": "Groningen",
     "address": "Folkingestraat 21", "postal": "9711 JT", "kvk": "01987654"},
    {"id": DRUKKERIJ, "name": "Drukkerij Smit & Co B.V.", "state": "api_module_inactive", "city": "Haarlem",
     "address": "Zijlweg 88", "postal": "2013 DJ", "kvk": "34567123"},
    {"id": ADMINISTRATIE, "name": "Administratiekantoor Mulder V.O.F.", "state": "ledger_empty", "city": "Amersfoort",
     "address": "Stationsplein 3", "postal": "3818 LE", "kvk": "32109876"},
]

USERS: list[dict[str, Any]] = [
    {"email": ANNA, "name": "Anna Dekker", "companies": [c["id"] for c in COMPANIES], "default_company": None},
    {"email": JOOST, "name": "Joost de Vries", "companies": [INSTALLATIE, DRUKKERIJ], "default_company": DRUKKERIJ},
    {"email": EVA, "name": "Eva Jansen", "companies": [HOVENIER], "default_company": None},
]

FISCAL_YEARS = (2025, 2026)

# (number, name, active, cost centre allowed)
CHART_OF_ACCOUNTS: list[tuple[int, str, bool, bool]] = [
    (1100, "Bank", True, False),
    (1300, "Debiteuren", True, False),
    (1500, "Te betalen loonheffing", True, False),
    (1510, "Te betalen pensioenpremies", True, False),
    (1520, "Te betalen nettolonen", True, False),
    (1530, "Reservering vakantiegeld", True, False),
    (1600, "Crediteuren", True, False),
    (4000, "Brutolonen", True, True),
    (4010, "Vakantiegeld", True, True),
    (4020, "Eindejaarsuitkering", True, True),
    (4100, "Sociale lasten werkgever", True, True),
    (4150, "Pensioenpremie werkgever", True, True),
    (4200, "Reiskostenvergoeding", True, True),
    (4990, "Overige personeelskosten", False, False),
    (8000, "Omzet", True, False),
]

# Accounts that allow a project on a voucher row (AccountApi.IsProjectAllowed): the wage-cost accounts. No account
# starts with the first cost centre mandatory (IsFirstCostCenterMandatory); the admin API sets that for demos.
PROJECT_ACCOUNTS = frozenset({4000, 4010, 4020, 4100, 4150, 4200})

# Projects (ProjectApi): (number, name, status 1 Ongoing / 2 Finished, start, end).
PROJECTS: list[tuple[str, str, int, str, str | None]] = [
    ("P100", "Nieuwbouw filiaal", 1, "2026-01-01", None),
    ("P090", "Verbouwing 2025", 2, "2025-03-01", "2025-12-31"),
]

# Dutch VAT codes (VatCodeApi): (code, description, rate, related account numbers 1-3).
VAT_CODES: list[tuple[str, str, float, tuple[int | None, int | None, int | None]]] = [
    ("NL21", "Btw hoog 21%", 21.0, (1600, None, None)),
    ("NL9", "Btw laag 9%", 9.0, (1600, None, None)),
    ("NL0", "Btw 0%", 0.0, (None, None, None)),
    ("NLGEEN", "Geen btw", 0.0, (None, None, None)),
]

# Cost centre dimensions (Visma has three); only dimension 1 is in use.
COST_CENTERS: list[tuple[int, str, bool, list[tuple[str, str, bool]]]] = [
    (1, "Afdeling", True, [("PROD", "Productie", True), ("VERK", "Verkoop", True), ("ADM", "Administratie", True),
                           ("LOG", "Logistiek", False)]),
    (2, "Project", False, []),
    (3, "Dimensie 3", False, []),
]

_NS = uuid.UUID("5e1f3c2a-8d4b-4e6f-9a7c-0b1d2e3f4a5b")


def derived_id(*parts: object) -> str:
    """A stable GUID for a seeded object (same after reset, same in every process)."""
    return str(uuid.uuid5(_NS, "/".join(str(p) for p in parts)))


def fiscal_year_id(company_id: str, year: int) -> str:
    return derived_id(company_id, "fy", year)


def cost_center_id(company_id: str, number: int) -> str:
    return derived_id(company_id, "cc", number)


def cost_center_item_id(company_id: str, short_name: str) -> str:
    return derived_id(company_id, "cci", short_name)


def company_by_name(name: str) -> dict[str, Any]:
    return next(c for c in COMPANIES if c["name"] == name)


def project_id(company_id: str, number: str) -> str:
    return derived_id(company_id, "project", number)


def vat_code_id(company_id: str, code: str) -> str:
    return derived_id(company_id, "vat", code)


def user_id(email: str) -> str:
    return derived_id("user", email.lower())

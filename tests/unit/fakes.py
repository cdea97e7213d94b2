"""Fakes for the service layer's unit tests, as cosmicpython's fake repository and unit of work: an in-memory Visma
(identity server and eAccounting API) behind the same methods the runtime's clients have, and a runtime over a
throwaway SQLite file whose schema comes from the models.

The seam is the composition root: ``Runtime.visma`` and ``Runtime.oauth`` are the only ways the service layer reaches
Visma, so a runtime built with these fakes runs every service function without a network, in milliseconds. The fakes
speak in Visma's shapes (``from_api`` dictionaries, ``VismaError`` with Visma's codes and texts) so that the code under
test cannot tell them from the real clients; behaviour against real HTTP is the integration suite's job.
"""

from __future__ import annotations

import base64
import json
import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlencode

from cryptography.fernet import Fernet
from sqlmodel import SQLModel

from core.db import models
from core.db.crypto import TokenCipher, resolve_encryption_key
from core.db.engine import make_engine
from core.runtime import Runtime
from core.settings import load_settings
from core.visma.errors import VismaError
from core.visma.models import CompanySettings, CostCenter, FiscalYear, LedgerAccount, VoucherInfo
from core.visma.oauth import OAuthError, TokenSet

# The demo chart (sandbox/seed.py) that the demo payroll's accounts map onto: number → (name, active, cost centres)
CHART = {
    1500: ("Te betalen loonheffing", True, False), 1510: ("Te betalen pensioenpremies", True, False),
    1520: ("Te betalen nettolonen", True, False), 1530: ("Reservering vakantiegeld", True, False),
    4000: ("Brutolonen", True, True), 4010: ("Vakantiegeld", True, True), 4020: ("Eindejaarsuitkering", True, True),
    4100: ("Sociale lasten werkgever", True, True), 4150: ("Pensioenpremie werkgever", True, True),
    4200: ("Reiskostenvergoeding", True, True), 4990: ("Overige personeelskosten", False, False),
}
COST_CENTRE_ITEMS = {"PROD": True, "VERK": True, "ADM": True, "LOG": False}


@dataclass
class FakeCompany:
    """One Visma company: its fiscal years, chart, cost centres, the vouchers it holds, and what goes wrong next."""

    id: str
    name: str
    fiscal_years: list[int] = field(default_factory=lambda: [2025, 2026])
    api_module: bool = True
    vouchers: list[dict] = field(default_factory=list)
    # What the next voucher POSTs do: "unavailable" (503 before storing), "drop" (stored, then the answer is lost)
    next_posts: list[str] = field(default_factory=list)

    def fiscal_year_id(self, year: int) -> str:
        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{self.id}/{year}"))


class FakeVisma:
    """The eAccounting API client's surface (``VismaClient``), over companies held in memory."""

    def __init__(self) -> None:
        self.companies: dict[str, FakeCompany] = {}
        self.posts = 0  # POST /vouchers calls answered or dropped (what "one Visma call per run" counts)

    def add_company(self, name: str, **kwargs) -> FakeCompany:
        company = FakeCompany(id=str(uuid.uuid5(uuid.NAMESPACE_URL, name)), name=name, **kwargs)
        self.companies[company.id] = company
        return company

    # -- what the token says ---------------------------------------------------------------------------------------
    def _company(self, token: str) -> FakeCompany:
        claims = _claims(token)
        company = self.companies.get(str(claims.get("customer_id")))
        if company is None or claims.get("revoked"):
            raise VismaError("AuthorizationException - Authorization has been denied for this request.",
                             status=401, error_code=4005, method="GET", path="/")
        if not company.api_module:
            raise VismaError("ForbiddenRequestException - No access to module: api_standard", status=403,
                             error_code=4002, method="GET", path="/")
        return company

    # -- reads -----------------------------------------------------------------------------------------------------
    def company_settings(self, token: str) -> CompanySettings:
        company = self._company(token)
        return CompanySettings.from_api({"Name": company.name, "CompanyStatus": 1, "UsesCostCenter": True,
                                         "ActivatedModules": ["api_standard"], "CountryCode": "NL"})

    def fiscal_years(self, token: str) -> list[FiscalYear]:
        company = self._company(token)
        return [FiscalYear.from_api({"Id": company.fiscal_year_id(y), "StartDate": f"{y}-01-01",
                                     "EndDate": f"{y}-12-31", "IsLockedForAccounting": False})
                for y in company.fiscal_years]

    def accounts(self, token: str, fiscal_year_id: str | None = None) -> list[LedgerAccount]:
        self._company(token)
        return [LedgerAccount.from_api({"Number": n, "Name": name, "FiscalYearId": fiscal_year_id, "IsActive": active,
                                        "IsCostCenterAllowed": cc}) for n, (name, active, cc) in CHART.items()]

    def cost_centers(self, token: str) -> list[CostCenter]:
        self._company(token)
        items = [{"Id": str(uuid.uuid5(uuid.NAMESPACE_URL, short)), "Name": short, "ShortName": short,
                  "IsActive": active} for short, active in COST_CENTRE_ITEMS.items()]
        return [CostCenter.from_api({"Id": "cc-1", "Number": 1, "Name": "Afdeling", "IsActive": True,
                                     "Items": items})]

    def cached_fiscal_years(self, company_key: str, token: str) -> list[FiscalYear]:
        return self.fiscal_years(token)

    def cached_accounts(self, company_key: str, token: str, fiscal_year_id: str | None) -> list[LedgerAccount]:
        return self.accounts(token, fiscal_year_id)

    def cached_cost_centers(self, company_key: str, token: str) -> list[CostCenter]:
        return self.cost_centers(token)

    def invalidate(self, company_key: str | None = None) -> None:
        """Nothing is cached here."""

    def vouchers(self, token: str, fiscal_year_id: str | None = None, *, filter: str | None = None,
                 page_size: int = 500) -> list[VoucherInfo]:
        return [VoucherInfo.from_api(v, fiscal_year_id) for v in self._company(token).vouchers]

    def voucher(self, token: str, fiscal_year_id: str, voucher_id: str) -> VoucherInfo:
        for v in self._company(token).vouchers:
            if v["Id"] == voucher_id:
                return VoucherInfo.from_api(v, fiscal_year_id)
        raise VismaError("ResourceNotFound - The voucher was not found.", status=404, error_code=3000)

    def find_vouchers_by_text(self, token: str, fiscal_year_id: str | None, text: str) -> list[VoucherInfo]:
        return [VoucherInfo.from_api(v, fiscal_year_id) for v in self._company(token).vouchers
                if text in v["VoucherText"]]

    # -- the write ---------------------------------------------------------------------------------------------------
    def create_voucher(self, token: str, body: dict) -> VoucherInfo:
        company = self._company(token)
        self.posts += 1
        fault = company.next_posts.pop(0) if company.next_posts else None
        if fault == "unavailable":
            raise VismaError("CantReachSystemDependendency - A system dependency could not be reached.", status=503,
                             error_code=5001, method="POST", path="/vouchers")
        year = date.fromisoformat(body["VoucherDate"][:10]).year
        if year not in company.fiscal_years:
            raise VismaError("FiscalYearDoesNotExist - Resource not found: fiscalYearId. There is no fiscal year for "
                             f"the date {body['VoucherDate'][:10]}.", status=400, error_code=3001,
                             method="POST", path="/vouchers")
        stored = {**body, "Id": str(uuid.uuid4()), "NumberAndNumberSeries": f"A{len(company.vouchers) + 1}",
                  "FiscalYearId": company.fiscal_year_id(year)}
        company.vouchers.append(stored)
        if fault == "drop":
            raise VismaError("The connection to Visma broke off (RemoteProtocolError)", method="POST",
                             path="/vouchers", outcome_unknown=True)
        return VoucherInfo.from_api(stored)

    def close(self) -> None:
        """No connections to close."""


class FakeOAuth:
    """The identity server's surface (``VismaOAuth``): the login URL, the code exchange, refresh and revocation.

    The code a test "receives" from the login names the company chosen there: ``code_for(company)``."""

    def __init__(self, visma: FakeVisma) -> None:
        self.visma = visma
        self.revoked: list[str] = []

    @staticmethod
    def code_for(company: FakeCompany) -> str:
        return f"code:{company.id}"

    def authorization_url(self, state: str, code_verifier: str, redirect_uri: str) -> str:
        return "https://identity.fake/connect/authorize?" + urlencode({"state": state, "redirect_uri": redirect_uri})

    def exchange_code(self, code: str, code_verifier: str, redirect_uri: str) -> TokenSet:
        company = self.visma.companies.get(code.removeprefix("code:"))
        if company is None:
            raise OAuthError("invalid_grant", "The authorization code is invalid (code exchange).", status=400)
        return _tokens(company)

    def refresh(self, refresh_token: str) -> TokenSet:
        company = self.visma.companies.get(refresh_token.removeprefix("refresh:"))
        if company is None or refresh_token in self.revoked:
            raise OAuthError("invalid_grant", "The refresh token is invalid.", status=400)
        return _tokens(company)

    def revoke(self, refresh_token: str) -> None:
        self.revoked.append(refresh_token)

    def close(self) -> None:
        """No connections to close."""


def _tokens(company: FakeCompany) -> TokenSet:
    claims = {"customer_id": company.id, "customer_name": company.name}
    payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    return TokenSet(access_token=f"header.{payload}.signature", refresh_token=f"refresh:{company.id}",
                    expires_at=models.utcnow() + timedelta(hours=1), expires_in=3600, scope="ea:api ea:accounting")


def _claims(token: str) -> dict:
    try:
        payload = token.split(".")[1]
        return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError):
        return {}


def fake_runtime(tmp_path: Path) -> tuple[Runtime, FakeVisma, FakeOAuth]:
    """A runtime whose Visma is ``FakeVisma``/``FakeOAuth`` and whose database is a new SQLite file."""
    settings = load_settings({
        "VISMA_IDENTITY_URL": "https://identity.fake", "VISMA_API_URL": "https://api.fake/v2",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'unit.db'}", "DATA_DIR": str(tmp_path / "data"),
        "TOKEN_ENCRYPTION_KEY": Fernet.generate_key().decode(),
        "STREAMLIT_SECRETS_PATH": str(tmp_path / "no-secrets.toml"),
    })
    engine = make_engine(settings.database_url)
    SQLModel.metadata.create_all(engine)
    rt = Runtime(settings=settings, engine=engine, cipher=TokenCipher(resolve_encryption_key(settings)))
    visma = FakeVisma()
    oauth = FakeOAuth(visma)
    rt.visma, rt.oauth = visma, oauth  # the composition root's two Visma clients, replaced
    return rt, visma, oauth


"""The one classifier (`core.troubleshooting.classify.entry_for`): every kind of error the product meets lands on
the entry the catalogue's data says, whichever path met it."""

from __future__ import annotations

import httpx
import pytest

from core.errors import ServiceError
from core.export.voucher import JournalError
from core.troubleshooting.catalogue import catalogue
from core.troubleshooting.classify import classify, entry_for
from core.visma.errors import VismaError
from core.visma.oauth import OAuthError


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (VismaError("FiscalYearDoesNotExist - Resource not found: fiscalYearId. There is no fiscal year for the date "
                    "2026-03-31.", status=400, error_code=3001), "fiscal-year-missing"),
        (VismaError("ForbiddenRequestException - No access to module: api_standard", status=403, error_code=4002),
         "api-module-inactive"),
        (VismaError("ForbiddenRequestException - No access to module: payroll_plus", status=403, error_code=4002),
         "module-no-access"),
        (VismaError("CanNotBeCreatedOrUpdated - The voucher cannot be created.", status=400, error_code=4002),
         "validation-failed"),
        (VismaError("DataModelValidationError - Cost center is not allowed on account 1500.", status=400,
                    error_code=2000), "cost-center-not-allowed"),
        (VismaError("InternalServerError - An unexpected error occurred.", status=500, error_code=5000),
         "visma-unavailable"),
        (VismaError("timed out", outcome_unknown=True), "visma-unavailable"),
        (OAuthError("invalid_grant", "The refresh token is invalid.", status=400), "reauthorize-needed"),
        (OAuthError("invalid_grant", "Authorization code is invalid or expired (code exchange).", status=400),
         "authorization-code-invalid"),
        (OAuthError("access_denied", "The user denied the request."), "consent-denied"),
        (OAuthError("invalid_client", "Client authentication failed.", status=401), "client-credentials-invalid"),
        (ServiceError("Map the company first.", entry_id="company-not-mapped"), "company-not-mapped"),
        (JournalError("account-not-mapped", "Payroll account 4990 has no Visma account."), "account-not-mapped"),
        (httpx.ConnectError("Connection refused"), "visma-unavailable"),
        (ValueError("a bug, not a Visma error"), None),
    ],
    ids=lambda v: type(v).__name__ if isinstance(v, BaseException) else str(v),
)
def test_entry_for_any_error(error, expected):
    assert entry_for(error) == expected


def test_the_defaults_come_from_the_catalogue_not_from_code():
    """Every answer the classifier gives without a pattern is an entry's declared ``default_for``."""
    declared = {evidence: e.id for e in catalogue() for evidence in e.default_for}
    assert declared["code:2000"] == classify(http_status=400, error_code=2000)
    assert declared["oauth:invalid_grant"] == classify(oauth_error="invalid_grant")
    assert declared["status:5xx"] == classify(http_status=502)
    assert declared["transport"] == classify()
    assert classify(http_status=418) is None  # no entry declares it: no guess


def test_a_specific_entry_needs_its_patterns_and_none_of_its_not_patterns():
    # "code_verifier" names the code exchange, but "refresh token" is a not_pattern of that entry: the default wins
    assert classify(oauth_error="invalid_grant", message="refresh token used; code_verifier") == "reauthorize-needed"
    assert classify(oauth_error="invalid_grant", message="code exchange failed") == "authorization-code-invalid"

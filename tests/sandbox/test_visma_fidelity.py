"""Behaviour of the real eAccounting API that the sandbox reproduces, each pinned to the public source it comes from.

sandbox/README.md ("Behaviour and its sources") lists the same decisions. Where no capture of the live API exists the
comment says so and names what the decision rests on instead.
"""

from __future__ import annotations

import uuid

import httpx

from sandbox import seed
from sandbox.testing import ENVELOPE_KEYS, error_of

BAKKERIJ = "Bakkerij De Gouden Korst B.V."
FY2026 = seed.fiscal_year_id(seed.BAKKERIJ, 2026)


def voucher(day: str = "2026-03-31", text: str = "Loonjournaal maart 2026", amount: float = 100.0) -> dict:
    return {"VoucherDate": day, "VoucherText": text, "Rows": [
        {"AccountNumber": 4000, "DebitAmount": amount, "TransactionText": "Brutolonen"},
        {"AccountNumber": 1520, "CreditAmount": amount, "TransactionText": "Nettolonen"}]}


# -- 1. Error bodies --------------------------------------------------------------------------------------------------


def test_error_body_has_exactly_vismas_three_keys(api, check, sbx):
    # developer.vismaonline.com/docs/rate-limits: the 429 body is {"ErrorCode", "DeveloperErrorMessage", "ErrorId"}
    # and nothing else; the "Error Handling" page (transcribed in api-evangelist/visma errors/visma-problem-types.yml
    # @ a37e692) names the same three fields; pwitab/visma issue #13 quotes a live 401 body with the same three keys.
    client = api(BAKKERIJ)
    refused = check(client.get("/v2/accounts/00000000-0000-0000-0000-000000000000"))
    assert refused.status_code == 400 and set(refused.json()) == ENVELOPE_KEYS
    uuid.UUID(refused.json()["ErrorId"])
    unauthorized = check(httpx.get(f"{sbx.url}/v2/fiscalyears", headers={"Authorization": "Bearer nope"}))
    assert unauthorized.status_code == 401 and error_of(unauthorized)["ErrorCode"] == 4005


def test_validation_error_names_every_field_in_the_message(api, check):
    # Same sources as above: with no "Errors" list in the body, the fields a 2000 is about are in the message.
    bad = voucher()
    bad["VoucherText"] = ""
    bad["Rows"][0]["TransactionText"] = "x" * 61
    err = error_of(check(api(BAKKERIJ).post("/v2/vouchers", json=bad)))
    assert err["ErrorCode"] == 2000
    assert err["DeveloperErrorMessage"] == (
        "DataModelValidationError - VoucherText: The VoucherText field is required. "
        "Rows[0].TransactionText: The TransactionText can be at most 60 characters.")


def test_unknown_resource_under_v2_is_vismas_404_envelope(api, sbx):
    # No capture of the live API's answer to an unknown path is public. The code is the published catalogue's
    # ResourceNotFound 3000 (developer.vismaonline.com/docs/error-codes-copy-1: "you refer to a specific object that
    # does not exist"); the wording is ASP.NET Web API's text for a URI no route matches (aspnet/AspNetWebStack), the
    # framework of the v2 API (its Swagger 2.0 document lists Web API's formatters under "consumes").
    for r in (api(BAKKERIJ).get("/v2/nosuchresource"), httpx.get(f"{sbx.url}/v2/nosuchresource/x?a=1"),
              httpx.post(f"{sbx.url}/v2/nosuchresource", json={})):
        assert r.status_code == 404 and r.headers["content-type"].startswith("application/json")
        err = error_of(r)
        assert err["ErrorCode"] == 3000
        assert err["DeveloperErrorMessage"].startswith(
            "ResourceNotFound - No HTTP resource was found that matches the request URI 'http")
        assert "/v2/nosuchresource" in err["DeveloperErrorMessage"]
    outside = httpx.get(f"{sbx.url}/nosuchpage")
    assert outside.status_code == 404 and outside.text == "Not Found"

"""Behaviour of the real eAccounting API that the sandbox reproduces, each pinned to the public source it comes from.

sandbox/README.md ("Behaviour and its sources") lists the same decisions. Where no capture of the live API exists the
comment says so and names what the decision rests on instead.
"""

from __future__ import annotations

import json
import re
import uuid
from datetime import date

import httpx
import pytest

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


# -- 2. Query options -------------------------------------------------------------------------------------------------


def _three_vouchers(client) -> None:
    for day in ("2026-03-31", "2026-01-31", "2026-02-28"):
        assert client.post("/v2/vouchers", json=voucher(day, f"Loonjournaal {day}")).status_code == 201


def test_orderby_on_vouchers(api, check):
    # Visma's docs list "Sorting" among the query options of every list (developer.vismaonline.com "Query
    # Customization", TOC in api-evangelist/visma llms/visma-eaccounting-llms.txt); pwitab/visma (visma/api.py,
    # OrderByFilterParser) sends $orderby=<PascalCase property>, optionally with asc/desc (OData).
    client = api(BAKKERIJ)
    _three_vouchers(client)
    dates = [v["VoucherDate"][:10] for v in check(client.get(
        "/v2/vouchers", params={"$orderby": "VoucherDate desc"})).json()["Data"]]
    assert dates == ["2026-03-31", "2026-02-28", "2026-01-31"]
    numbers = [v["NumberAndNumberSeries"] for v in check(client.get(
        f"/v2/vouchers/{FY2026}", params={"$orderby": "VoucherText asc,VoucherDate"})).json()["Data"]]
    assert numbers == ["A2", "A3", "A1"]


def test_orderby_or_select_on_a_property_the_resource_lacks_is_6000(api, check):
    # VoucherApi has no "Number" (Visma's OpenAPI document); OData refuses an undeclared property with
    # "Could not find a property named '…' on type '…'." (Microsoft.OData MetadataBinder_PropertyNotDeclared) and
    # Visma's catalogue answers a query it cannot use with 6000 QueryParameterError (docs/error-codes-copy-1).
    client = api(BAKKERIJ)
    for params in ({"$orderby": "Number"}, {"$select": "Id,Number"}, {"$filter": "Number eq 1"}):
        err = error_of(check(client.get("/v2/vouchers", params=params)))
        assert err["ErrorCode"] == 6000
        assert err["DeveloperErrorMessage"] == (
            "QueryParameterError - Could not find a property named 'Number' on type 'VoucherApi'.")
    rows = error_of(check(client.get("/v2/vouchers", params={"$orderby": "Rows"})))
    assert rows["ErrorCode"] == 6000 and "single value of primitive type" in rows["DeveloperErrorMessage"]
    bad = error_of(check(client.get("/v2/fiscalyears", params={"$orderby": "StartDate upwards"})))
    assert bad["ErrorCode"] == 6000 and "asc or desc" in bad["DeveloperErrorMessage"]


def test_select_keeps_only_the_named_properties(api, check):
    # "Selecting" is one of Visma's documented query options (same TOC as above); OData $select returns only the
    # named properties, the paging envelope stays whole.
    client = api(BAKKERIJ)
    _three_vouchers(client)
    body = client.get("/v2/vouchers", params={"$select": "Id,VoucherDate", "$orderby": "VoucherDate",
                                              "$pagesize": "2"}).json()
    assert body["Meta"]["TotalNumberOfResults"] == 3 and body["Meta"]["TotalNumberOfPages"] == 2
    assert [sorted(v) for v in body["Data"]] == [["Id", "VoucherDate"], ["Id", "VoucherDate"]]
    assert body["Data"][0]["VoucherDate"].startswith("2026-01-31")
    years = check(client.get("/v2/fiscalyears", params={"$select": "*"})).json()["Data"]
    assert set(years[0]) == {"Id", "StartDate", "EndDate", "IsLockedForAccounting", "BookkeepingMethod"}


def test_filter_and_paging_together(api, check):
    # $filter (OData, 6000/6001 on what Visma cannot use) and $page/$pagesize (1-based, as pwitab/visma and the
    # VismaAPI client of visma-eaccounting.md [C7] send them) combine on one list.
    client = api(BAKKERIJ)
    _three_vouchers(client)
    page = check(client.get("/v2/vouchers", params={"$filter": "VoucherDate ge 2026-02-01", "$orderby": "VoucherDate",
                                                    "$page": "2", "$pagesize": "1"})).json()
    assert page["Meta"]["CurrentPage"] == 2 and page["Meta"]["TotalNumberOfResults"] == 2
    assert [v["VoucherDate"][:10] for v in page["Data"]] == ["2026-03-31"]
    bad_date = error_of(check(client.get("/v2/vouchers", params={"$filter": "VoucherDate eq 2026-02-30"})))
    assert bad_date["ErrorCode"] == 6001


# -- 3. Request bodies ------------------------------------------------------------------------------------------------


def test_voucher_posted_form_encoded_in_aspnet_bracket_notation(api, check):
    # Visma's Swagger 2.0 document (2023, runeh/accounting-api-changelogs eaccounting.json) lists for POST /v2/vouchers
    # "consumes": application/json, text/json, application/xml, text/xml, multipart/form-data,
    # application/x-www-form-urlencoded: ASP.NET Web API's formatters. Its JQueryMvcFormUrlEncodedFormatter
    # (aspnet/AspNetWebStack) binds Rows[0][AccountNumber] (jQuery) and Rows[0].AccountNumber (MVC) alike.
    client = api(BAKKERIJ)
    form = {"VoucherDate": "2026-03-31", "VoucherText": "Loonjournaal maart 2026",
            "Rows[0][AccountNumber]": "4000", "Rows[0][DebitAmount]": "1250.50", "Rows[0][TransactionText]": "Bruto",
            "Rows[1].AccountNumber": "1520", "Rows[1].CreditAmount": "1250.50", "Rows[1].TransactionText": ""}
    created = check(client.post("/v2/vouchers", data=form))
    assert created.status_code == 201, created.text
    rows = created.json()["Rows"]
    assert [(r["AccountNumber"], r["DebitAmount"], r["CreditAmount"]) for r in rows] == [
        (4000, 1250.5, 0.0), (1520, 0.0, 1250.5)]
    assert rows[0]["TransactionText"] == "Bruto" and rows[1]["TransactionText"] is None
    year = check(client.post("/v2/fiscalyears", data={"StartDate": "2027-01-01", "EndDate": "2027-12-31"}))
    assert year.status_code == 201 and year.json()["StartDate"].startswith("2027-01-01")


def test_form_values_that_do_not_convert_are_vismas_2000(api, check):
    # Model binding leaves a value it cannot convert unset and the model is invalid: Visma answers 2000
    # DataModelValidationError (developer.vismaonline.com/docs/error-codes-copy-1) naming the field.
    form = {"VoucherDate": "2026-03-31", "VoucherText": "x", "Rows[0][AccountNumber]": "vierduizend",
            "Rows[0][DebitAmount]": "1", "Rows[1][AccountNumber]": "1520", "Rows[1][CreditAmount]": "één"}
    err = error_of(check(api(BAKKERIJ).post("/v2/vouchers", data=form)))
    assert err["ErrorCode"] == 2000
    assert "Rows[0].AccountNumber: " in err["DeveloperErrorMessage"]
    assert "Rows[1].CreditAmount: The CreditAmount must be a number." in err["DeveloperErrorMessage"]


def test_unsupported_media_type_is_web_apis_415(api):
    # ASP.NET Web API answers a body no formatter reads with 415 and {"Message": "The request entity's media type
    # '…' is not supported for this resource."} (aspnet/AspNetWebStack test/System.Web.Http.Test/ModelBinding/
    # FormatterParameterBindingTest.cs); a body without Content-Type is application/octet-stream to it.
    client = api(BAKKERIJ)
    cases = [("text/plain", b"VoucherText=x"), (None, b'{"VoucherText": "x"}')]
    for content_type, raw in cases:
        headers = {"Content-Type": content_type} if content_type else {}
        r = client.post("/v2/vouchers", content=raw, headers=headers)
        media = content_type or "application/octet-stream"
        assert r.status_code == 415
        assert r.json() == {"Message": f"The request entity's media type '{media}' is not supported for this resource."}
    assert client.get("/v2/vouchers").json()["Meta"]["TotalNumberOfResults"] == 0
    json_as_text_json = client.post("/v2/vouchers", content=json.dumps(voucher()).encode(),
                                    headers={"Content-Type": "text/json; charset=utf-8"})
    assert json_as_text_json.status_code == 201


# -- 4. Paging of an empty list ---------------------------------------------------------------------------------------


def test_empty_list_is_one_empty_page(api, check):
    # pwitab/visma (visma/query.py @ ffa6698, APIModelIterable) pages until CurrentPage == TotalNumberOfPages, and its
    # integration tests, run against Visma's own sandbox, list possibly empty resources and handle the empty result
    # (tests/integration/test_integration_cost_centers.py: "if length == 0"): that loop ends on an empty list only
    # if Visma answers TotalNumberOfPages 1 there, not 0. Visma's documentation gives no example of an empty page.
    body = check(api(BAKKERIJ).get("/v2/vouchers")).json()
    assert body["Data"] == []
    meta = body["Meta"]
    assert (meta["CurrentPage"], meta["PageSize"], meta["TotalNumberOfPages"], meta["TotalNumberOfResults"]) == (
        1, 50, 1, 0)
    assert check(api(BAKKERIJ).get("/v2/vouchers", params={"$filter": "VoucherText eq 'geen'"})).json()["Meta"][
        "TotalNumberOfPages"] == 1


def test_core_paging_ends_on_an_empty_list_whatever_visma_says(api, sbx):
    # The product must not depend on the decision above: with TotalNumberOfPages 0 or 1, one request and done.
    from core.visma.client import VismaClient

    for total_pages in (0, 1):
        calls: list[str] = []

        def answer(request: httpx.Request, pages: int = total_pages) -> httpx.Response:
            calls.append(str(request.url))
            meta = {"CurrentPage": 1, "PageSize": 500, "TotalNumberOfPages": pages, "TotalNumberOfResults": 0,
                    "ServerTimeUtc": "2026-03-31T00:00:00Z"}
            return httpx.Response(200, json={"Meta": meta, "Data": []})

        client = VismaClient("https://eaccountingapi.example/v2", transport=httpx.MockTransport(answer))
        assert client.get_all("/vouchers", token="t") == [] and len(calls) == 1
    token = api(BAKKERIJ).headers["Authorization"].split(" ", 1)[1]
    assert VismaClient(f"{sbx.url}/v2").vouchers(token) == []


# -- 5. Dates ---------------------------------------------------------------------------------------------------------

DATE_TIME_Z = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")


def _date_fields(node, path=""):
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _date_fields(value, f"{path}.{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _date_fields(value, f"{path}[{i}]")
    elif path.endswith(("Date", "Utc", "LockedTo")):
        yield path, node


def test_every_date_the_sandbox_serves_is_a_utc_date_time(api, check):
    # Field-exact captures of a live Spiris/eAccounting sandbox in 2026 (find_string index ids 57385394561, a public
    # Python client's tests): CreatedUtc "2026-06-27T17:34:17.672816Z", ModifiedUtc "2026-06-27T17:34:17.6730217Z",
    # PaymentDate "2026-06-10T00:00:00Z": with a time part, in UTC with a "Z". Visma's OpenAPI document types the
    # date fields (VoucherDate, StartDate, EndDate, AccountingLockedTo) format: date-time, which needs the offset.
    # Older answers without an offset ("2026-03-31T00:00:00") and plain dates are read by the client (test below).
    client = api(BAKKERIJ)
    assert client.post("/v2/vouchers", json=voucher()).status_code == 201
    answers = [check(client.get(path)).json() for path in (
        "/v2/vouchers", f"/v2/vouchers/{FY2026}", "/v2/fiscalyears", f"/v2/fiscalyears/{FY2026}", "/v2/accounts",
        "/v2/costcenters", "/v2/companysettings")]
    seen = [(path, value) for answer in answers for path, value in _date_fields(answer) if value is not None]
    assert {p.rsplit(".", 1)[-1] for p, _ in seen} >= {
        "VoucherDate", "CreatedUtc", "ModifiedUtc", "ServerTimeUtc", "StartDate", "EndDate", "AccountingLockedTo"}
    assert [(p, v) for p, v in seen if not DATE_TIME_Z.fullmatch(v)] == []
    voucher_date = answers[0]["Data"][0]["VoucherDate"]
    assert voucher_date == "2026-03-31T00:00:00Z"


@pytest.mark.parametrize(("text", "day"), [
    ("2026-03-31", date(2026, 3, 31)), ("2026-03-31T00:00:00", date(2026, 3, 31)),
    ("2026-03-31T00:00:00Z", date(2026, 3, 31)), ("2026-03-31T00:00:00+02:00", date(2026, 3, 31)),
    ("2026-03-31T23:30:00-05:00", date(2026, 3, 31)), ("2026-06-27T17:34:17.6730217Z", date(2026, 6, 27)),
])
def test_client_reads_every_date_form_as_the_date_written(text, day):
    # The forms above (live captures with Z, older .NET answers without an offset, plain dates seen on DueDate in the
    # same 2026 captures): the product takes the date as written, never shifted to UTC.
    from core.visma.models import parse_date

    assert parse_date(text) == day


@pytest.mark.parametrize("text", ["31-03-2026", "2026-02-30", "2026-03-31Tnoon", "2026-03-31 00:00:00",
                                  " 2026-03-31", "2026-03-31T24:00:00", "2026-03-31T00:00:00.12345678Z",
                                  "2026-03-31T00:00:00+2"])
def test_client_refuses_what_is_not_a_visma_date(text):
    from core.visma.models import parse_date

    with pytest.raises(ValueError):
        parse_date(text)


@pytest.mark.parametrize(("path", "type_name"), [
    ("/v2/projects", "ProjectApi"), ("/v2/vatcodes", "VatCodeApi"), ("/v2/users", "UserApi"),
    ("/v2/voucherdrafts", "VoucherDraftApi"), ("/v2/attachments", "Attachment"),
])
def test_every_list_names_its_type_when_a_query_names_a_property_it_lacks(api, check, path, type_name):
    # OData's "Could not find a property named 'X' on type 'T'" names the schema of Visma's document for every list.
    err = error_of(check(api(BAKKERIJ).get(path, params={"$orderby": "Nonexistent"})))
    assert err["ErrorCode"] == 6000
    assert err["DeveloperErrorMessage"] == (
        f"QueryParameterError - Could not find a property named 'Nonexistent' on type '{type_name}'.")

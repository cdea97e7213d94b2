"""Attachments (the payroll report) and their links to vouchers.

Sources: operations, shapes and scopes of Visma's OpenAPI document (sandbox/spec/: /attachments, /attachments/
{attachmentId} — "Only attachments without any linked transactions can be deleted" —, /attachmentlinks,
/attachmentlinks/{attachmentId}); AttachmentUploadApi's "Allowed values: 'image/jpeg', 'image/png', 'image/tiff',
'application/pdf'", ContentType at most 15 and FileName at most 200 characters of "alphabetic letters, numbers and
characters - _ ()"; the 2023 document's "Data or Url is required" and "Must be Base64 encoded byte array"; the
eAccounting help page "Last opp vedlegg" (help.visma.net/no_no/eaccounting, supported formats JPEG, PNG, PDF, TIFF);
error codes 3000, 4000, 4001, 5007 from Visma's catalogue (visma-eaccounting.md §5). Visma documents no size limit:
the sandbox's is its ``attachment_max_bytes`` setting.
"""

from __future__ import annotations

import base64

import httpx
import pytest

from sandbox import seed

BAKKERIJ = "Bakkerij De Gouden Korst B.V."
FY2026 = seed.fiscal_year_id(seed.BAKKERIJ, 2026)
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16
MISSING = "00000000-0000-0000-0000-0000000000bb"


def upload(content: bytes = PDF, name: str = "Loonstrook_maart-2026(1).pdf", ctype: str = "application/pdf",
           **extra) -> dict:
    return {"ContentType": ctype, "FileName": name, "Data": base64.b64encode(content).decode(), **extra}


def post_voucher(client: httpx.Client) -> dict:
    r = client.post("/v2/vouchers", json={
        "VoucherDate": "2026-03-31", "VoucherText": "Loonjournaal maart 2026",
        "Rows": [{"AccountNumber": 4000, "DebitAmount": 100.0}, {"AccountNumber": 1520, "CreditAmount": 100.0}]})
    assert r.status_code == 201, r.text
    return r.json()


def test_upload_read_list_and_download(api, check):
    client = api(BAKKERIJ)
    r = check(client.post("/v2/attachments", json=upload(Comment="Loonstrookoverzicht maart")))
    assert r.status_code == 201
    a = r.json()
    assert (a["ContentType"], a["FileName"], a["Comment"]) == (
        "application/pdf", "Loonstrook_maart-2026(1).pdf", "Loonstrookoverzicht maart")
    assert a["AttachmentStatus"] == 1 and a["DocumentId"] is None and a["AttachedDocumentType"] == 0
    assert a["UploadedBy"] == "Anna Dekker"
    assert check(client.get(f"/v2/attachments/{a['Id']}")).json() == a
    listed = check(client.get("/v2/attachments")).json()
    assert [x["Id"] for x in listed["Data"]] == [a["Id"]]
    download = httpx.get(a["TemporaryUrl"])
    assert download.status_code == 200 and download.content == PDF
    assert download.headers["content-type"] == "application/pdf"
    without_url = check(client.get("/v2/attachments", params={"includeTemporaryUrl": "false"})).json()
    assert without_url["Data"][0]["TemporaryUrl"] is None
    png = check(client.post("/v2/attachments", json=upload(PNG, "scan.png", "image/png")))
    assert png.status_code == 201 and png.json()["ContentType"] == "image/png"


def test_line_wrapped_base64_and_non_ascii_file_names(api, check):
    """.NET's Convert.FromBase64String (Visma's back end) ignores white space in base64; letters are any letters."""
    client = api(BAKKERIJ)
    data = base64.encodebytes(PDF * 10).decode()  # wrapped at 76 characters, with newlines
    assert "\n" in data.strip()
    r = check(client.post("/v2/attachments", json={**upload(name="Loonstrook_Łukasz_ØØ.pdf"), "Data": data}))
    assert r.status_code == 201
    download = httpx.get(r.json()["TemporaryUrl"])
    assert download.status_code == 200 and download.content == PDF * 10
    assert "Loonstrook_%C5%81ukasz" in download.headers["content-disposition"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"FileName": "a.pdf", "Data": base64.b64encode(PDF).decode()}, "ContentType"),
        (upload(ctype="text/plain"), "ContentType"),
        (upload(ctype="application/msword"), "ContentType"),
        (upload(name=""), "FileName"),
        (upload(name="x" * 197 + ".pdf"), "FileName"),
        (upload(name="Loonstrook maart.pdf"), "FileName"),  # a space
        (upload(name="../../etc/passwd"), "FileName"),
        ({"ContentType": "application/pdf", "FileName": "a.pdf"}, "Data"),
        ({**upload(), "Data": "not base64!"}, "Data"),
        ({**upload(), "Data": ""}, "Data"),
        (upload(PNG), "Data"),  # a PNG sent as a PDF
        ({"ContentType": "application/pdf", "FileName": "a.pdf", "Url": "https://example.org/a.pdf"}, "Url"),
        ({**upload(), "Id": "nope"}, "Id"),
    ],
)
def test_upload_validation(api, check, body, field):
    r = check(api(BAKKERIJ).post("/v2/attachments", json=body))
    assert r.status_code == 400 and r.json()["ErrorCode"] == 2000
    assert r.json()["DeveloperErrorMessage"].startswith("DataModelValidationError - ")
    assert f"{field}: " in r.json()["DeveloperErrorMessage"]


def test_size_limit_is_a_setting(api, check, sbx):
    httpx.put(f"{sbx.url}/_sandbox/settings", json={"attachment_max_bytes": len(PDF) - 1}).raise_for_status()
    client = api(BAKKERIJ)
    r = check(client.post("/v2/attachments", json=upload()))
    assert r.status_code == 400 and f"The file is {len(PDF)} bytes" in r.json()["DeveloperErrorMessage"]
    httpx.put(f"{sbx.url}/_sandbox/settings", json={"attachment_max_bytes": len(PDF)}).raise_for_status()
    assert check(client.post("/v2/attachments", json=upload())).status_code == 201


def test_admin_rejects_uploads(api, check, sbx):
    r = httpx.put(f"{sbx.url}/_sandbox/companies/{seed.BAKKERIJ}/attachments", json={"reject_uploads": True})
    assert r.status_code == 200 and r.json()["reject_attachments"] is True
    client = api(BAKKERIJ)
    refused = check(client.post("/v2/attachments", json=upload()))
    assert refused.status_code == 400 and refused.json()["DeveloperErrorMessage"] == (
        "DataModelValidationError - Data: The file could not be read.")
    httpx.put(f"{sbx.url}/_sandbox/companies/{seed.BAKKERIJ}/attachments", json={"reject_uploads": False})
    assert check(client.post("/v2/attachments", json=upload())).status_code == 201
    bad = httpx.put(f"{sbx.url}/_sandbox/companies/{seed.BAKKERIJ}/attachments", json={"reject_uploads": "yes"})
    assert bad.status_code == 400


def test_link_an_attachment_to_a_voucher(api, check):
    client = api(BAKKERIJ)
    voucher = post_voucher(client)
    att = check(client.post("/v2/attachments", json=upload())).json()
    link = {"DocumentId": voucher["Id"], "DocumentType": 3, "AttachmentIds": [att["Id"]]}
    r = check(client.post("/v2/attachmentlinks", json=link))
    assert r.status_code == 200 and r.json() == link
    matched = check(client.get(f"/v2/attachments/{att['Id']}")).json()
    assert (matched["DocumentId"], matched["AttachedDocumentType"], matched["AttachmentStatus"]) == (
        voucher["Id"], 3, 0)
    v = check(client.get(f"/v2/vouchers/{FY2026}/{voucher['Id']}")).json()
    assert v["Attachments"]["AttachmentIds"] == [att["Id"]] and v["Attachments"]["DocumentType"] == 3
    assert check(client.post("/v2/attachmentlinks", json=link)).status_code == 200  # linking again changes nothing
    assert check(client.get(f"/v2/vouchers/{FY2026}/{voucher['Id']}")).json()["Attachments"]["AttachmentIds"] == [
        att["Id"]]
    unmatched_only = check(client.get("/v2/attachments", params={"includeMatched": "false"})).json()
    assert unmatched_only["Data"] == []


def test_link_errors(api, check):
    client = api(BAKKERIJ)
    voucher = post_voucher(client)
    other_voucher = post_voucher(client)
    att = check(client.post("/v2/attachments", json=upload())).json()

    def link(**change) -> httpx.Response:
        body = {"DocumentId": voucher["Id"], "DocumentType": 3, "AttachmentIds": [att["Id"]], **change}
        return check(client.post("/v2/attachmentlinks", json=body))

    missing_attachment = link(AttachmentIds=[MISSING])
    assert missing_attachment.status_code == 400 and missing_attachment.json()["ErrorCode"] == 5007
    assert missing_attachment.json()["DeveloperErrorMessage"].startswith("ItemToAttachNotFound - ")
    missing_voucher = link(DocumentId=MISSING)
    assert missing_voucher.status_code == 400 and missing_voucher.json()["ErrorCode"] == 3000
    supplier_invoice = link(DocumentType=1)
    assert supplier_invoice.json()["ErrorCode"] == 3000
    for change in ({"DocumentType": 7}, {"DocumentType": 0}, {"DocumentId": None}, {"AttachmentIds": []},
                   {"AttachmentIds": ["x"]}):
        r = link(**change)
        assert r.status_code == 400 and r.json()["ErrorCode"] == 2000, change
    assert link().status_code == 200
    elsewhere = link(DocumentId=other_voucher["Id"])
    assert elsewhere.status_code == 400 and elsewhere.json()["ErrorCode"] == 4000
    other_company = api("Transportbedrijf Visser B.V.")
    theirs = check(other_company.post("/v2/attachments", json=upload())).json()
    assert link(AttachmentIds=[theirs["Id"]]).json()["ErrorCode"] == 5007


def test_delete_only_unlinked_and_unlink(api, check):
    client = api(BAKKERIJ)
    voucher = post_voucher(client)
    att = check(client.post("/v2/attachments", json=upload())).json()
    check(client.post("/v2/attachmentlinks",
                      json={"DocumentId": voucher["Id"], "DocumentType": 3, "AttachmentIds": [att["Id"]]}))
    refused = check(client.delete(f"/v2/attachments/{att['Id']}"))
    assert refused.status_code == 400 and refused.json()["ErrorCode"] == 4001
    assert check(client.delete(f"/v2/attachmentlinks/{att['Id']}")).status_code == 200
    assert check(client.get(f"/v2/vouchers/{FY2026}/{voucher['Id']}")).json()["Attachments"]["AttachmentIds"] == []
    assert check(client.get(f"/v2/attachments/{att['Id']}")).json()["AttachmentStatus"] == 1
    not_linked = check(client.delete(f"/v2/attachmentlinks/{att['Id']}"))
    assert not_linked.status_code == 400 and not_linked.json()["ErrorCode"] == 2000
    assert check(client.delete(f"/v2/attachments/{att['Id']}")).status_code == 200
    gone = check(client.get(f"/v2/attachments/{att['Id']}"))
    assert gone.status_code == 400 and gone.json()["ErrorCode"] == 3000  # the document declares 200/400 only
    assert httpx.get(att["TemporaryUrl"]).status_code == 404


@pytest.mark.parametrize(
    ("scope", "method", "path", "status"),
    [
        ("ea:api ea:purchase", "post", "/v2/attachments", 201),
        ("ea:api ea:accounting_readonly", "post", "/v2/attachments", 403),
        ("ea:api ea:purchase_readonly", "get", "/v2/attachments", 200),
        ("ea:api ea:sales", "get", "/v2/attachments", 403),
        ("ea:api ea:sales", "post", "/v2/attachmentlinks", 403),
    ],
)
def test_scopes(api, check, scope, method, path, status):
    client = api(BAKKERIJ, scope=scope)
    r = check(client.post(path, json=upload()) if method == "post" else client.get(path))
    assert r.status_code == status
    if status == 403:
        assert r.json()["ErrorCode"] == 4006


def test_a_body_in_another_media_type_is_415(api):
    """ASP.NET Web API's answer for a media type it has no formatter for (sandbox/api.py ``read_body``)."""
    r = api(BAKKERIJ).post("/v2/attachments", content=PDF, headers={"Content-Type": "application/pdf"})
    assert r.status_code == 415 and "application/pdf" in r.json()["Message"]


def test_link_form_encoded_binds_the_document_type_as_web_api_does(api, check):
    # ASP.NET Web API binds a form field "3" to the DocumentType enum, as it binds Rows[0][AccountNumber] on vouchers
    # (aspnet/AspNetWebStack model binding; the 2023 Swagger lists form-urlencoded for this POST).
    client = api(BAKKERIJ)
    voucher = post_voucher(client)
    att = check(client.post("/v2/attachments", json=upload())).json()
    r = check(client.post("/v2/attachmentlinks", data={
        "DocumentId": voucher["Id"], "DocumentType": "3", "AttachmentIds[0]": att["Id"]}))
    assert r.status_code == 200, r.text
    assert r.json() == {"DocumentId": voucher["Id"], "DocumentType": 3, "AttachmentIds": [att["Id"]]}
    bad = check(client.post("/v2/attachmentlinks", data={
        "DocumentId": voucher["Id"], "DocumentType": "voucher", "AttachmentIds[0]": att["Id"]}))
    assert bad.status_code == 400 and "DocumentType" in bad.json()["DeveloperErrorMessage"]

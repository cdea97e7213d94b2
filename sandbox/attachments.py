"""Attachments and their links to vouchers: ``/v2/attachments`` and ``/v2/attachmentlinks`` (the payroll report that
goes with a payroll voucher).

Shapes and scopes from Visma's OpenAPI document: uploads (``AttachmentUploadApi``) and deletes need ``ea:purchase``
or ``ea:accounting``, reads also accept the read-only ones; links (``AttachmentLinkApi``) need ``ea:accounting`` or
``ea:purchase``. The rules, with where each comes from:

- ``ContentType`` is required, at most 15 characters, one of ``image/jpeg``, ``image/png``, ``image/tiff``,
  ``application/pdf`` (the document's "Allowed values"; the eAccounting help page "Last opp vedlegg" lists the same
  formats: JPEG, PNG, PDF, TIFF). ``FileName`` is required, at most 200 characters, of "alphabetic letters, numbers and
  characters - _ ()" (the document) plus the dot before the extension. ``Data`` is a "Base64 encoded byte array";
  ``Data`` or ``Url`` is required (the 2023 document's words for the sales-document upload). The sandbox makes no
  outbound requests, so a ``Url`` alone is refused as a file it could not download.
- Visma documents no size limit; the sandbox refuses a decoded file above the ``attachment_max_bytes`` setting
  (10 MiB by default), and a file whose first bytes do not match its ``ContentType`` (a PDF starts with ``%PDF``, and
  so on). All of these are 2000 DataModelValidationError naming the field, every problem at once.
- The admin API's ``reject_uploads`` makes every upload of a company fail as an unreadable file (a demo of a refused
  payroll report).
- A new attachment is unmatched (``AttachmentStatus`` 1, no ``DocumentId``). Linking it to a voucher
  (``DocumentType`` 3) matches it: ``DocumentId`` and ``AttachedDocumentType`` 3 on the attachment, its id in the
  voucher's ``Attachments.AttachmentIds``. An attachment id that does not exist is 5007 ItemToAttachNotFound (Visma's
  catalogue; which of the two ids the name refers to is not documented — the sandbox reads "the item to attach" as
  the attachment); a voucher that does not exist, or any other document type (the sandbox keeps no supplier invoices,
  receipts or transfers), is 3000 ResourceNotFound. An attachment already matched to another document is 4000
  Conflict. Only an unmatched attachment can be deleted ("Only attachments without any linked transactions can be
  deleted"): 4001 CanNotBeDeleted otherwise.
- ``TemporaryUrl`` points at ``/_sandbox/attachments/{id}/content`` (the stored bytes with their content type), unless
  ``includeTemporaryUrl=false``; ``includeMatched=false`` lists only unmatched attachments.
"""

from __future__ import annotations

import base64
import binascii
import re
import uuid
from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sandbox import clock, errors, model
from sandbox.api import _json, _page, _store, read_body, v2
from sandbox.errors import ApiError
from sandbox.ids import guid
from sandbox.store import Tx

ATTACHMENT_WRITE = ["ea:purchase", "ea:accounting"]
ATTACHMENT_READ = ["ea:purchase", "ea:purchase_readonly", "ea:accounting", "ea:accounting_readonly"]
LINK_WRITE = ["ea:accounting", "ea:purchase"]

CONTENT_TYPES = {
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/tiff": (b"II*\x00", b"MM\x00*"),
    "application/pdf": (b"%PDF-",),
}
FILE_NAME = re.compile(r"[\w\-().]+")  # letters and digits (\w), - _ ( ) and the dot of the extension
DOCUMENT_TYPES = {0, 1, 2, 3, 4, 5, 6, 8}
VOUCHER = 3
ATTACHMENT_FIELDS = {"Id", "ContentType", "DocumentId", "AttachedDocumentType", "FileName", "TemporaryUrl", "Comment",
                     "SupplierName", "CurrencyCode", "AmountInvoiceCurrency", "Type", "AttachmentStatus",
                     "UploadedBy", "ImageDate", "TransactionDate"}


def _check_names(body: dict[str, Any], problems: list[tuple[str, str]]) -> None:
    ctype = body.get("ContentType")
    if not isinstance(ctype, str) or not ctype:
        problems.append(("ContentType", "The ContentType field is required."))
    elif len(ctype) > 15 or ctype.lower() not in CONTENT_TYPES:
        problems.append(("ContentType", "The ContentType must be one of image/jpeg, image/png, image/tiff, "
                                        "application/pdf."))
    name = body.get("FileName")
    if not isinstance(name, str) or not name:
        problems.append(("FileName", "The FileName field is required."))
    elif len(name) > 200:
        problems.append(("FileName", "The FileName can be at most 200 characters."))
    elif not FILE_NAME.fullmatch(name):
        problems.append(("FileName", "The FileName may contain only letters, numbers and the characters - _ ( ) "
                                     "and a dot."))
    comment = body.get("Comment")
    if comment is not None and not isinstance(comment, str):
        problems.append(("Comment", "The Comment must be text."))
    if body.get("Id") is not None and guid(body.get("Id")) is None:
        problems.append(("Id", f"'{body.get('Id')}' is not a valid GUID."))


def _check_data(body: dict[str, Any], max_bytes: int, problems: list[tuple[str, str]]) -> bytes:
    data = body.get("Data")
    if data is None:
        if body.get("Url") is None:
            problems.append(("Data", "Data or Url is required."))
        else:
            problems.append(("Url", "The file at the Url could not be downloaded."))
        return b""
    try:
        if not isinstance(data, str):
            raise ValueError
        # .NET's Convert.FromBase64String, behind Visma's API, ignores white space (line-wrapped base64 is fine).
        content = base64.b64decode(re.sub(r"\s+", "", data), validate=True)
    except (ValueError, binascii.Error):
        problems.append(("Data", "The Data must be a Base64 encoded byte array."))
        return b""
    if not content:
        problems.append(("Data", "The file is empty."))
    elif len(content) > max_bytes:
        problems.append(("Data", f"The file is {len(content)} bytes; at most {max_bytes} bytes are accepted."))
    else:
        ctype = body.get("ContentType")
        magic = CONTENT_TYPES.get(ctype.lower()) if isinstance(ctype, str) else None
        if magic and not content.startswith(magic):
            problems.append(("Data", f"The file is not a {ctype} file."))
    return content


def attachment_api(a: dict[str, Any], base_url: str, with_url: bool = True) -> dict[str, Any]:
    return {
        "Id": a["Id"], "ContentType": a["ContentType"], "DocumentId": a["DocumentId"],
        "AttachedDocumentType": a["AttachedDocumentType"], "FileName": a["FileName"],
        "TemporaryUrl": f"{base_url}_sandbox/attachments/{a['Id']}/content" if with_url else None,
        "Comment": a["Comment"], "SupplierName": None, "CurrencyCode": None, "AmountInvoiceCurrency": 0.0,
        "Type": 2, "AttachmentStatus": 0 if a["DocumentId"] else 1, "UploadedBy": a["UploadedBy"],
        "ImageDate": clock.iso(a["created"]), "TransactionDate": None, "Ocr": None, "InvoiceNumber": None,
        "Vat": None, "DueDate": None, "SupplierCorporateIdentityNumber": None, "PaymentDate": None,
        "MessageThreads": [], "Notes": [], "PhotoSource": 105,
    }


def _bool_param(request: Request, name: str) -> bool:
    raw = request.query_params.get(name)
    if raw is None:
        return True
    if raw.lower() not in ("true", "false"):
        raise errors.validation_error(name, f"The value '{raw}' is not valid for {name}; use true or false.")
    return raw.lower() == "true"


def _attachment_or_400(tx: Tx, cid: str, raw_id: str) -> dict[str, Any]:
    """The attachment, or 400 ResourceNotFound: Visma's document declares only 200 and 400 for the operations on
    one attachment (GET/DELETE /attachments/{id}, DELETE /attachmentlinks/{id}), unlike the 404 of other resources."""
    aid = guid(raw_id)
    att = tx.get("attachment", aid) if aid else None
    if att is None or att["company"] != cid:
        raise ApiError(400, 3000, f"ResourceNotFound - The attachment {raw_id} was not found.")
    return att


@v2("/v2/attachments", ATTACHMENT_WRITE, write=True)
async def upload(request: Request, ctx: dict[str, Any]) -> Response:
    body = await read_body(request)
    company = ctx["company"]
    with _store(request).tx() as tx:
        problems: list[tuple[str, str]] = []
        _check_names(body, problems)
        content = _check_data(body, model.settings(tx)["attachment_max_bytes"], problems)
        if not problems and company.get("reject_attachments"):
            problems.append(("Data", "The file could not be read."))
        if problems:
            raise errors.validation_errors(problems)
        aid = guid(body.get("Id")) or str(uuid.uuid4())
        if tx.get("attachment", aid) is not None:
            raise ApiError(400, 4000, f"Conflict - An attachment with id {aid} already exists.")
        user = tx.get("user", ctx["token"]["user"]) or {}
        att = {"Id": aid, "company": company["id"], "ContentType": body["ContentType"].lower(),
               "FileName": body["FileName"], "Comment": body.get("Comment"), "DocumentId": None,
               "AttachedDocumentType": 0, "UploadedBy": user.get("name"), "size": len(content),
               "created": clock.now_ts(tx)}
        tx.put("attachment", aid, att, company=company["id"])
        tx.put("attachment_data", aid, {"data": base64.b64encode(content).decode()}, company=company["id"])
    return _json(attachment_api(att, str(request.base_url)), 201)


@v2("/v2/attachments", ATTACHMENT_READ)
async def list_attachments(request: Request, ctx: dict[str, Any]) -> Response:
    matched = _bool_param(request, "includeMatched")
    with_url = _bool_param(request, "includeTemporaryUrl")
    base = str(request.base_url)
    with _store(request).tx(write=False) as tx:
        items = [attachment_api(a, base, with_url) for a in tx.list("attachment", ctx["company"]["id"])
                 if matched or a["DocumentId"] is None]
        return _page(request, tx, items, ATTACHMENT_FIELDS, "Attachment")


@v2("/v2/attachments/{attachmentId}", ATTACHMENT_READ)
async def get_attachment(request: Request, ctx: dict[str, Any]) -> Response:
    with _store(request).tx(write=False) as tx:
        att = _attachment_or_400(tx, ctx["company"]["id"], request.path_params["attachmentId"])
    return _json(attachment_api(att, str(request.base_url)))


@v2("/v2/attachments/{attachmentId}", ATTACHMENT_WRITE, write=True)
async def delete_attachment(request: Request, ctx: dict[str, Any]) -> Response:
    with _store(request).tx() as tx:
        att = _attachment_or_400(tx, ctx["company"]["id"], request.path_params["attachmentId"])
        if att["DocumentId"] is not None:
            raise ApiError(400, 4001, "CanNotBeDeleted - The attachment is linked to a document and cannot be "
                                      "deleted.")
        tx.delete("attachment", att["Id"])
        tx.delete("attachment_data", att["Id"])
    return Response(status_code=200)


def _link_request(body: dict[str, Any]) -> tuple[int, str | None, list[str]]:
    problems: list[tuple[str, str]] = []
    dtype = body.get("DocumentType")
    if isinstance(dtype, str) and dtype.strip().isdigit():  # a form field binds to the enum, as in Web API
        dtype = int(dtype)
    if isinstance(dtype, bool) or not isinstance(dtype, int) or dtype not in DOCUMENT_TYPES - {0}:
        problems.append(("DocumentType", "The DocumentType field is required and must name a document type "
                                         "(1-6 or 8)."))
    doc_id = guid(body.get("DocumentId"))
    if doc_id is None:
        problems.append(("DocumentId", "The DocumentId field is required and must be a GUID."))
    ids = body.get("AttachmentIds")
    if not isinstance(ids, list) or not ids:
        problems.append(("AttachmentIds", "The AttachmentIds field is required and must list at least one id."))
        ids = []
    parsed = [guid(i) for i in ids]
    if any(p is None for p in parsed):
        problems.append(("AttachmentIds", "Every attachment id must be a GUID."))
    if problems:
        raise errors.validation_errors(problems)
    return dtype, doc_id, [p for p in parsed if p is not None]


def _voucher_or_3000(tx: Tx, cid: str, dtype: int, doc_id: str | None) -> dict[str, Any]:
    doc = tx.get("voucher", doc_id) if dtype == VOUCHER and doc_id else None
    if doc is None or doc["company_id"] != cid:
        raise ApiError(400, 3000, f"ResourceNotFound - The document {doc_id} of type {dtype} was not found.")
    return doc


@v2("/v2/attachmentlinks", LINK_WRITE, write=True)
async def link(request: Request, ctx: dict[str, Any]) -> Response:
    dtype, doc_id, ids = _link_request(await read_body(request))
    cid = ctx["company"]["id"]
    with _store(request).tx() as tx:
        doc = _voucher_or_3000(tx, cid, dtype, doc_id)
        atts = []
        for aid in ids:
            att = tx.get("attachment", aid)
            if att is None or att["company"] != cid:
                raise ApiError(400, 5007, f"ItemToAttachNotFound - The attachment {aid} was not found.")
            if att["DocumentId"] not in (None, doc_id):
                raise ApiError(400, 4000, f"Conflict - The attachment {aid} is already linked to another document.")
            atts.append(att)
        linked = doc["api"]["Attachments"]["AttachmentIds"]
        for att in atts:
            att["DocumentId"], att["AttachedDocumentType"] = doc_id, VOUCHER
            tx.put("attachment", att["Id"], att, company=cid)
            if att["Id"] not in linked:
                linked.append(att["Id"])
        doc["api"]["ModifiedUtc"] = clock.iso(clock.now(tx))
        tx.put("voucher", doc_id, doc, company=cid)
    return _json({"DocumentId": doc_id, "DocumentType": dtype, "AttachmentIds": ids})


@v2("/v2/attachmentlinks/{attachmentId}", LINK_WRITE, write=True)
async def unlink(request: Request, ctx: dict[str, Any]) -> Response:
    cid = ctx["company"]["id"]
    with _store(request).tx() as tx:
        att = _attachment_or_400(tx, cid, request.path_params["attachmentId"])
        if att["DocumentId"] is None:
            raise ApiError(400, 2000, f"DataModelValidationError - attachmentId: The attachment {att['Id']} is not "
                                      "linked to a document.")
        doc = tx.get("voucher", att["DocumentId"])
        if doc is not None:
            doc["api"]["Attachments"]["AttachmentIds"] = [
                i for i in doc["api"]["Attachments"]["AttachmentIds"] if i != att["Id"]]
            doc["api"]["ModifiedUtc"] = clock.iso(clock.now(tx))
            tx.put("voucher", doc["api"]["Id"], doc, company=cid)
        att["DocumentId"], att["AttachedDocumentType"] = None, 0
        tx.put("attachment", att["Id"], att, company=cid)
    return Response(status_code=200)


async def content(request: Request) -> Response:
    """The stored bytes behind ``TemporaryUrl`` (sandbox-only, like the rest of ``/_sandbox``)."""
    aid = guid(request.path_params["attachmentId"])
    with _store(request).tx(write=False) as tx:
        att = tx.get("attachment", aid) if aid else None
        data = tx.get("attachment_data", aid) if aid else None
    if att is None or data is None:
        return Response("No such attachment.", status_code=404, media_type="text/plain")
    return Response(base64.b64decode(data["data"]), media_type=att["ContentType"],
                    headers={"Content-Disposition": f"inline; filename*=UTF-8''{quote(att['FileName'])}"})


ROUTES = [
    Route("/v2/attachments", upload, methods=["POST"]),
    Route("/v2/attachments", list_attachments, methods=["GET"]),
    Route("/v2/attachments/{attachmentId}", get_attachment, methods=["GET"]),
    Route("/v2/attachments/{attachmentId}", delete_attachment, methods=["DELETE"]),
    Route("/v2/attachmentlinks", link, methods=["POST"]),
    Route("/v2/attachmentlinks/{attachmentId}", unlink, methods=["DELETE"]),
    Route("/_sandbox/attachments/{attachmentId}/content", content, methods=["GET"]),
]

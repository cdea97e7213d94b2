"""The one error type of the eAccounting API client, and the parsing of every body shape Visma answers with.

Why one type: callers (preflight, export, the dashboard) need the same few facts about any failure — HTTP status,
Visma's ``ErrorCode``, the message, the ``ErrorId`` support asks for, and whether a POST may have been processed —
whatever the body looked like. Bodies seen in the wild (visma-eaccounting.md §5): eAccounting's envelope
``{"ErrorCode","DeveloperErrorMessage","ErrorId","Errors"}``, Visma.net ERP's ``{"message": "VismaId: <guid>. …"}``,
HTML error pages from proxies/load balancers, empty bodies (some 404s) and truncated JSON.

Nothing here ever sees an ``Authorization`` header or a token: errors are built from the response body, the method
and the URL path only.
"""

from __future__ import annotations

import contextlib
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from html.parser import HTMLParser
from typing import Any

BODY_LIMIT = 4000
_TRY_AGAIN = re.compile(r"try again in\s+(\d+(?:\.\d+)?)\s*second", re.IGNORECASE)
_VISMA_ID = re.compile(r"VismaId:\s*([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})")


class VismaError(Exception):
    """A failed call to the eAccounting API (an HTTP error answer or a transport failure).

    ``outcome_unknown`` is True when a write may have been processed although no success was seen (a timeout or a
    dropped connection after the request was sent, or a 5xx answer to a POST): the caller must reconcile — look the
    voucher up — before sending again, because Visma has no idempotency key and vouchers cannot be deleted.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        error_code: int | None = None,
        error_id: str | None = None,
        errors: list[dict] | None = None,
        body: str = "",
        method: str = "",
        path: str = "",
        outcome_unknown: bool = False,
        retry_after: float | None = None,
        transport_error: str | None = None,
    ) -> None:
        self.message = message
        self.status = status
        self.error_code = error_code
        self.error_id = error_id
        self.errors = list(errors or [])
        self.body = body[:BODY_LIMIT]
        self.method = method
        self.path = path.split("?", 1)[0]
        self.outcome_unknown = outcome_unknown
        self.retry_after = retry_after
        self.transport_error = transport_error
        super().__init__(self._one_line())

    # -- classification -------------------------------------------------------------------------------------------
    @property
    def is_transport(self) -> bool:
        """No HTTP answer at all (timeout, refused or dropped connection)."""
        return self.status is None

    @property
    def is_unauthorized(self) -> bool:
        """The token was refused (401). Never true for a 403: a 403 4002 means the token is fine."""
        return self.status == 401

    @property
    def is_api_module_inactive(self) -> bool:
        """403/4002 ``No access to module: api_standard``: the company has not activated the API module.

        Re-authorizing does not help (the token is valid); the customer activates the module in eAccounting, or
        authorizes another company. Treating this as "auth expired" is the reconnect loop of visma-eaccounting.md §6(a).
        """
        return self.status == 403 and self.error_code == 4002 and "api_standard" in self.message.lower()

    @property
    def is_rate_limited(self) -> bool:
        return self.status == 429

    # -- rendering ------------------------------------------------------------------------------------------------
    def _one_line(self) -> str:
        where = f"{self.method} {self.path}".strip()
        text = " ".join(self.message.split())
        if len(text) > 300:
            text = text[:297] + "..."
        if self.status is None:
            head = "No answer from Visma"
        else:
            head = f"Visma answered HTTP {self.status}"
            if self.error_code is not None:
                head += f" (ErrorCode {self.error_code})"
        line = f"{head} to {where}: {text}" if where else f"{head}: {text}"
        if self.error_id:
            line += f" [ErrorId {self.error_id}]"
        if self.outcome_unknown:
            line += " — the request may have been processed; check in Visma before sending it again."
        return line

    def to_dict(self) -> dict[str, Any]:
        """Plain facts for logs and support bundles (no token can be in here: none was ever stored)."""
        return {
            "status": self.status,
            "error_code": self.error_code,
            "message": self.message,
            "error_id": self.error_id,
            "errors": self.errors,
            "method": self.method,
            "path": self.path,
            "outcome_unknown": self.outcome_unknown,
            "retry_after": self.retry_after,
            "transport_error": self.transport_error,
            "body": self.body,
        }


@dataclass
class ParsedBody:
    message: str
    error_code: int | None = None
    error_id: str | None = None
    errors: list[dict] = field(default_factory=list)


class _TitleParser(HTMLParser):
    """Collects the text of <title> and the first <h1> of an HTML error page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.title = ""
        self.h1 = ""
        self._in: str | None = None
        self._seen: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in ("title", "h1") and self._in is None and tag not in self._seen:
            self._in = tag

    def handle_endtag(self, tag: str) -> None:
        if tag == self._in:
            self._seen.add(tag)
            self._in = None

    def handle_data(self, data: str) -> None:
        if self._in == "title":
            self.title += data
        elif self._in == "h1":
            self.h1 += data


def _as_int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _html_message(text: str) -> str:
    parser = _TitleParser()
    with contextlib.suppress(Exception):  # a broken page still has to become a message
        parser.feed(text)
        parser.close()
    title = " ".join(parser.title.split())
    h1 = " ".join(parser.h1.split())
    parts = [p for p in (title, h1) if p]
    if len(parts) == 2 and (h1 in title or title in h1):
        parts = [max(parts, key=len)]
    return " — ".join(parts) or "an HTML page without a title"


def looks_like_html(text: str, content_type: str = "") -> bool:
    head = text.lstrip()[:200].lower()
    return "html" in content_type.lower() or head.startswith(("<!doctype html", "<html"))


def parse_error_body(text: str, content_type: str = "", *, status: int | None = None, reason: str = "") -> ParsedBody:
    """Turn any error body into a message, ErrorCode, ErrorId and Errors (missing facts stay None/empty)."""
    stripped = text.strip()
    if not stripped:
        return ParsedBody(f"empty answer (HTTP {status} {reason})".replace(" )", ")") if status else "empty answer")
    if looks_like_html(stripped, content_type):
        return ParsedBody(f"HTML error page: {_html_message(stripped)}")
    try:
        data = json.loads(stripped)
    except ValueError:
        snippet = " ".join(stripped.split())
        return ParsedBody(snippet[:500] if snippet else "unreadable answer")
    if isinstance(data, dict):
        lowered = {k.lower(): v for k, v in data.items() if isinstance(k, str)}
        if "errorcode" in lowered or "developererrormessage" in lowered:
            errors = lowered.get("errors") or []
            return ParsedBody(
                message=str(lowered.get("developererrormessage") or lowered.get("message") or "").strip()
                or f"ErrorCode {lowered.get('errorcode')}",
                error_code=_as_int(lowered.get("errorcode")),
                error_id=str(lowered["errorid"]) if lowered.get("errorid") else None,
                errors=[e for e in errors if isinstance(e, dict)] if isinstance(errors, list) else [],
            )
        if isinstance(lowered.get("message"), str):
            # Visma.net ERP's envelope: keep the whole text, the VismaId is what its support asks for.
            message = lowered["message"]
            match = _VISMA_ID.search(message)
            return ParsedBody(message=message, error_id=match.group(1) if match else None)
        if isinstance(lowered.get("error"), str):  # an OAuth 2.0 error body
            desc = lowered.get("error_description")
            return ParsedBody(f"{lowered['error']}: {desc}" if desc else lowered["error"])
    snippet = " ".join(stripped.split())
    return ParsedBody(snippet[:500])


def retry_after_seconds(header: str | None, message: str = "", *, now: datetime | None = None) -> float | None:
    """Seconds to wait: the ``Retry-After`` header (seconds or an HTTP date) else "Try again in N seconds"."""
    if header:
        header = header.strip()
        try:
            return max(0.0, float(header))
        except ValueError:
            try:
                when = parsedate_to_datetime(header)
            except (TypeError, ValueError):
                when = None
            if when is not None:
                if when.tzinfo is None:
                    when = when.replace(tzinfo=UTC)
                return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())
    match = _TRY_AGAIN.search(message or "")
    return float(match.group(1)) if match else None

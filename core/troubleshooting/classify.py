"""The one classifier: any error the product meets → the troubleshooting entry that explains it.

``entry_for(error)`` is what every path calls (sending, preflight, authorization, token refresh); ``classify(...)``
takes the structured parts of a failed call when no exception object is at hand. Both decide from the catalogue's
data, never from entry ids written here:

1. an OAuth ``error`` value, then a Visma ``ErrorCode``, picks the entries that declare it (narrowed by the HTTP
   status when one of them declares that status); when several do, the first whose own patterns occur in the message
   (and none of its ``not_patterns``) wins, else the entry whose ``default_for`` names that evidence;
2. otherwise the message is matched like any pasted text (``core.troubleshooting.matcher``);
3. otherwise the HTTP status decides through ``default_for`` (``status:401``, ``status:5xx``…), and a failure with no
   answer at all (no status, no code) is ``default_for: transport``.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

import httpx

from core.errors import ServiceError
from core.troubleshooting.catalogue import Entry, entries
from core.troubleshooting.matcher import match, pattern_hit
from core.troubleshooting.text import clip, normalize
from core.visma.errors import VismaError
from core.visma.oauth import OAuthError


def entry_for(error: BaseException) -> str | None:
    """The catalogue entry id for any error the product meets, or ``None`` when the catalogue knows none.

    A ``ServiceError`` already says its entry; a Visma API error and an identity-server error are classified from
    their status, code, OAuth error and message; a transport failure (no answer) is Visma being unreachable.
    """
    if isinstance(error, ServiceError):
        return error.entry_id
    if isinstance(error, VismaError):
        return classify(http_status=error.status, error_code=error.error_code, message=error.message)
    if isinstance(error, OAuthError):
        return classify(http_status=error.status, oauth_error=error.error, message=error.description)
    if isinstance(error, httpx.TransportError):
        return classify(message=str(error))
    return None


def classify(
    *,
    http_status: int | None = None,
    error_code: int | None = None,
    message: str = "",
    oauth_error: str | None = None,
) -> str | None:
    """The entry id for a failed call whose structured parts are known; ``None`` when nothing fits."""
    light = normalize(clip(message or ""))
    oauth = (oauth_error or "").strip().lower() or None
    if oauth:
        found = _pick(lambda e: oauth in e.oauth_errors, f"oauth:{oauth}", light, http_status)
        if found:
            return found
    if error_code is not None:
        found = _pick(lambda e: error_code in e.codes, f"code:{error_code}", light, http_status)
        if found:
            return found
    if light:
        result = match(message)
        if result.id:
            return result.id
    if http_status is not None:
        return _default_for(f"status:{http_status}") or _default_for(f"status:{http_status // 100}xx")
    if error_code is None and oauth is None:
        return _default_for("transport")
    return None


def _pick(declares: Callable[[Entry], bool], evidence: str, light: str, http_status: int | None) -> str | None:
    """Among the entries that declare this evidence: the specific one the message names, else the default."""
    candidates = [e for e in entries() if declares(e)]
    if http_status is not None:
        at_status = [e for e in candidates if http_status in e.http_statuses]
        if at_status:
            candidates = at_status
        elif default := _default_for(f"{evidence}@{http_status}"):
            return default  # e.g. 4002 on a 400 is a validation error, not the API module
    default = _default_for(evidence)
    for entry in candidates:
        if entry.id != default and pattern_hit(entry, light):
            return entry.id
    if default:
        return default
    return candidates[0].id if candidates else None


def _default_for(evidence: str) -> str | None:
    return _defaults().get(evidence)


@lru_cache(maxsize=1)
def _defaults() -> dict[str, str]:
    """``default_for`` evidence → entry id (the catalogue's loader refuses one evidence named twice)."""
    return {evidence: entry.id for entry in entries() for evidence in entry.default_for}

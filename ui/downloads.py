"""The support bundle as scrubbed JSON, for download (the export log's CSV and XLSX are made by
``core.export.log_files``)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

_SECRET_WORDS = ("token", "secret", "password", "authorization", "code_verifier", "cookie", "api_key")


def scrub(value: Any) -> Any:
    """Belt and braces for the support bundle: drop any key that names a token or a secret, at every depth.

    The service already builds the bundle without them; this makes a slip there harmless in a ticket.
    """
    if isinstance(value, Mapping):
        return {
            k: ("[removed]" if any(w in str(k).lower() for w in _SECRET_WORDS) else scrub(v))
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [scrub(v) for v in value]
    return value


def bundle_bytes(bundle: Mapping[str, Any]) -> bytes:
    """The support bundle as pretty JSON, scrubbed of secrets, ready to attach to a ticket."""
    return json.dumps(scrub(bundle), indent=2, ensure_ascii=False, default=str).encode("utf-8")

"""Ids as Visma reads them: a GUID in a path or a body, in its canonical lower-case form, or nothing."""

from __future__ import annotations

import uuid
from typing import Any


def guid(value: Any) -> str | None:
    """``value`` as a canonical GUID string, or ``None`` when it is not a string holding a GUID."""
    if not isinstance(value, str):
        return None
    try:
        return str(uuid.UUID(value))
    except ValueError:
        return None

"""How sure the catalogue is that a given entry explains a given message.

A failed send, an account needing action or a preflight finding is classified when it happens, from Visma's
structured answer (its ``ErrorCode``, an OAuth ``error``, the HTTP status) or the product's own check. Wherever that
entry is shown, the message it came with is read by the matcher too, so every place says how sure it is in the same
words as the Troubleshooting page's paste box: the matcher's confidence when it reads the message as the same entry;
*low*, naming the other entry, when the words point elsewhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from core.troubleshooting.matcher import MATCH_CONFIDENCE, match


@dataclass(frozen=True, slots=True)
class EntryConfidence:
    """``level`` is one of the matcher's confidences (``high``, ``medium``, ``low``); ``meaning`` says what it means;
    ``note`` says why it is low, when it is."""

    level: str
    meaning: str
    note: str | None = None


@lru_cache(maxsize=2048)
def entry_confidence(entry_id: str, message: str | None) -> EntryConfidence | None:
    """The confidence that ``entry_id`` explains ``message``; ``None`` without a message to read."""
    if not entry_id or not (message or "").strip():
        return None
    result = match(message)
    if result.id == entry_id:
        return EntryConfidence(result.confidence, MATCH_CONFIDENCE.get(result.confidence, ""), result.note)
    if result.id is None:
        return EntryConfidence("low", MATCH_CONFIDENCE.get("low", ""),
                               "the words of the message match no entry well; this one comes from how the error was "
                               "classified (Visma's error code, the HTTP status or the dashboard's own check)")
    return EntryConfidence("low", MATCH_CONFIDENCE.get("low", ""),
                           f"the words of the message read more like “{result.title}”")

"""How an error text is read before it is matched: normalised (markup, escapes, accents, case and spacing removed),
clipped when it is a whole log, and reduced further for fuzzy similarity."""

from __future__ import annotations

import html
import re
import unicodedata
from urllib.parse import unquote

MAX_TEXT_HEAD = 2_000
MAX_TEXT_TAIL = 8_000
"""A paste longer than head + tail (a whole log file) is read as its start and its end, where errors usually are;
this keeps a pathological paste in the tens of milliseconds instead of seconds."""

_TAG_RE = re.compile(r"<[^<>]{0,2000}>")
_ESCAPE_RE = re.compile(r"\\(?:r\\n|n|r|t)")
_UNICODE_ESCAPE_RE = re.compile(r"\\u([0-9a-fA-F]{4})")
_PERCENT_RE = re.compile(r"%[0-9a-fA-F]{2}")
_QUERY_RE = re.compile(r"[?&][a-z_]+=")
_WS_RE = re.compile(r"\s+")
_GUID_RE = re.compile(r"\b[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}\b")
_PLACEHOLDER_RE = re.compile(r"\[code\]|<guid>|\bguid\b")
_NUMBER_RE = re.compile(r"\d+(?:[.,]\d+)*")
_NON_ALNUM_RE = re.compile(r"[^a-z0-9]+")
_ENVELOPE_WORDS_RE = re.compile(
    r"\b(?:errorcode|developererrormessage|errorid|errors|field|key|null|message|error_description|visma ?id)\b"
)


def clip(text: str) -> str:
    if len(text) <= MAX_TEXT_HEAD + MAX_TEXT_TAIL:
        return text
    return text[:MAX_TEXT_HEAD] + "\n" + text[-MAX_TEXT_TAIL:]


def normalize(text: str) -> str:
    """Light normalisation the patterns run on: markup, escapes, accents, case and spacing removed."""
    text = html.unescape(_TAG_RE.sub(" ", text))
    text = _ESCAPE_RE.sub(" ", text)
    text = _UNICODE_ESCAPE_RE.sub(lambda m: chr(int(m.group(1), 16)), text)
    text = text.replace('\\"', '"').replace("\\'", "'")
    if _PERCENT_RE.search(text) or _QUERY_RE.search(text.lower()):
        text = unquote(text.replace("+", " "))
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return _WS_RE.sub(" ", text.casefold()).strip()


def fuzzy_form(light: str) -> str:
    """Heavier normalisation for similarity: ids and numbers become placeholders, JSON keys and punctuation go."""
    text = _GUID_RE.sub(" id ", light)
    text = _PLACEHOLDER_RE.sub(" id ", text)
    text = _NUMBER_RE.sub("0", text)
    text = _NON_ALNUM_RE.sub(" ", text)
    text = _ENVELOPE_WORDS_RE.sub(" ", text)
    return _WS_RE.sub(" ", text).strip()



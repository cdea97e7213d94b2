"""The troubleshooting catalogue and the matcher from a raw error text to its entry.

Support staff paste whatever they have — Visma's JSON body, an HTML error page, a log line, an e-mail, Dutch or
English, cut short — and need the one entry that explains it, or an honest "no known error". The catalogue itself is
data (``catalogue.yaml``, reviewed like code); this module loads and validates it once and scores
every entry against a text:

* structured evidence first: a Visma ``ErrorCode`` (strong), an OAuth ``error`` value (strong), an HTTP status (weak);
* the entry's regex patterns (English and Dutch) on the normalised text;
* a fuzzy similarity (rapidfuzz) with the entry's examples, weak, so that cut-short texts are still found;
* ``not_patterns`` of an entry count against it (a more specific entry owns that text).

Scores are 0..100; below :data:`THRESHOLD` the answer is "no known error". Everything is deterministic: ties are
broken by id. ``classify`` serves callers that already hold the structured parts of a failed Visma call.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import yaml
from rapidfuzz import fuzz

CATALOGUE_PATH = Path(__file__).with_name("catalogue.yaml")

FIX_IN = ("visma_portal", "dashboard", "payroll_system")
SEVERITIES = ("error", "warning", "info")
LANGUAGES = ("en", "nl")
SOURCES = ("article", "visma", "dashboard", "authlib")
MIN_ENTRIES = 30

THRESHOLD = 40.0
"""Lowest score that names an entry; below it ``match`` answers ``id=None`` rather than guess."""
ALTERNATIVE_MIN = 20.0
"""Lowest score an alternative needs to be listed."""
MAX_ALTERNATIVES = 3

# Weights of the evidence (see module docstring). Codes in a JSON body count more than words.
W_PRIMARY_CODE = 55.0
W_OTHER_CODE = 35.0
W_CODE_MISMATCH = -15.0
W_OAUTH = 55.0
W_STATUS = 12.0
W_FIRST_PATTERN = 35.0
W_MORE_PATTERN = 12.0
W_PATTERN_CAP = 59.0
W_NOT_PATTERN = -50.0
W_FUZZY = 45.0
FUZZY_FLOOR = 60.0  # similarity (0..100) below which the fuzzy part adds nothing
FUZZY_MIN_SHARED_WORDS = 0.34  # probes sharing fewer words than this with the text are not compared
FUZZY_FULL_LENGTH = 20  # texts shorter than this get proportionally less fuzzy weight ("OK" must not match)
FUZZY_MAX_TEXT = 3000  # fuzzy compares at most this many characters of a long paste
MAX_TEXT_HEAD = 2_000
MAX_TEXT_TAIL = 8_000
"""A paste longer than head + tail (a whole log file) is read as its start and its end, where errors usually are;
this keeps a pathological paste in the tens of milliseconds instead of seconds."""

_REQUIRED = (
    "id",
    "title",
    "patterns",
    "codes",
    "oauth_errors",
    "http_statuses",
    "cause",
    "solution",
    "fix_in",
    "severity",
    "example",
)
_OPTIONAL = ("not_patterns", "steps", "example_nl", "other_examples", "language", "source")
_ID_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


class CatalogueError(ValueError):
    """The catalogue file is malformed; the message names the entry and the field."""


@dataclass(frozen=True)
class Entry:
    """One known error: how to recognise it, why it happens and how to fix it."""

    id: str
    title: str
    patterns: tuple[str, ...]
    codes: tuple[int, ...]
    oauth_errors: tuple[str, ...]
    http_statuses: tuple[int, ...]
    cause: str
    solution: str
    fix_in: str
    severity: str
    example: str
    example_nl: str | None = None
    other_examples: tuple[str, ...] = ()
    not_patterns: tuple[str, ...] = ()
    steps: tuple[str, ...] = ()
    language: tuple[str, ...] = ("en",)
    source: str = "visma"

    @property
    def examples(self) -> tuple[str, ...]:
        """Every example text of the entry: the main one, the Dutch one, then the others."""
        out = [self.example]
        if self.example_nl:
            out.append(self.example_nl)
        out.extend(self.other_examples)
        return tuple(out)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (``errors list --json``)."""
        return {
            "id": self.id,
            "title": self.title,
            "source": self.source,
            "patterns": list(self.patterns),
            "not_patterns": list(self.not_patterns),
            "codes": list(self.codes),
            "oauth_errors": list(self.oauth_errors),
            "http_statuses": list(self.http_statuses),
            "cause": self.cause,
            "solution": self.solution,
            "steps": list(self.steps),
            "fix_in": self.fix_in,
            "severity": self.severity,
            "example": self.example,
            "example_nl": self.example_nl,
            "other_examples": list(self.other_examples),
            "language": list(self.language),
        }


@dataclass(frozen=True)
class MatchResult:
    """The best entry for a text (or none), its score 0..100 and up to three alternatives."""

    id: str | None
    title: str | None
    cause: str | None
    solution: str | None
    score: float
    alternatives: list[dict[str, Any]] = field(default_factory=list)
    entry: Entry | None = None

    def to_dict(self) -> dict[str, Any]:
        """The JSON contract of ``errors match --json``: id, title, cause, solution, score, alternatives."""
        return {
            "id": self.id,
            "title": self.title,
            "cause": self.cause,
            "solution": self.solution,
            "score": self.score,
            "alternatives": [dict(a) for a in self.alternatives],
        }


# --------------------------------------------------------------------------------------------------- loading


def _str_list(raw: dict, key: str, where: str, *, required: bool = True) -> tuple[str, ...]:
    value = raw.get(key, [] if not required else None)
    if value is None:
        value = []
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise CatalogueError(f"{where}: '{key}' must be a list of non-empty strings")
    return tuple(value)


def _int_list(raw: dict, key: str, where: str) -> tuple[int, ...]:
    value = raw.get(key)
    if value is None:
        value = []
    if not isinstance(value, list) or not all(isinstance(v, int) and not isinstance(v, bool) for v in value):
        raise CatalogueError(f"{where}: '{key}' must be a list of integers")
    return tuple(value)


def _text(raw: dict, key: str, where: str, *, required: bool = True) -> str | None:
    value = raw.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip():
        raise CatalogueError(f"{where}: '{key}' must be a non-empty string")
    return value


def _entry_from_raw(raw: Any, index: int) -> Entry:
    if not isinstance(raw, dict):
        raise CatalogueError(f"entry #{index}: must be a mapping")
    where = f"entry #{index} ({raw.get('id', '?')})"
    missing = [k for k in _REQUIRED if k not in raw]
    if missing:
        raise CatalogueError(f"{where}: missing field(s) {', '.join(missing)}")
    unknown = sorted(set(raw) - set(_REQUIRED) - set(_OPTIONAL))
    if unknown:
        raise CatalogueError(f"{where}: unknown field(s) {', '.join(unknown)}")
    entry_id = _text(raw, "id", where)
    assert entry_id is not None
    if not _ID_RE.match(entry_id):
        raise CatalogueError(f"{where}: id must be kebab-case (a-z, 0-9, '-')")
    patterns = _str_list(raw, "patterns", where)
    not_patterns = _str_list(raw, "not_patterns", where, required=False)
    for pattern in patterns + not_patterns:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise CatalogueError(f"{where}: bad regex {pattern!r}: {exc}") from exc
    oauth_errors = tuple(v.lower() for v in _str_list(raw, "oauth_errors", where, required=False))
    statuses = _int_list(raw, "http_statuses", where)
    if any(not 100 <= s <= 599 for s in statuses):
        raise CatalogueError(f"{where}: http_statuses must be HTTP status codes")
    fix_in = raw["fix_in"]
    if fix_in not in FIX_IN:
        raise CatalogueError(f"{where}: fix_in must be one of {', '.join(FIX_IN)}")
    severity = raw["severity"]
    if severity not in SEVERITIES:
        raise CatalogueError(f"{where}: severity must be one of {', '.join(SEVERITIES)}")
    source = raw.get("source", "visma")
    if source not in SOURCES:
        raise CatalogueError(f"{where}: source must be one of {', '.join(SOURCES)}")
    example_nl = _text(raw, "example_nl", where, required=False)
    if "language" in raw:
        language = _str_list(raw, "language", where)
        if any(lang not in LANGUAGES for lang in language):
            raise CatalogueError(f"{where}: language tags must be among {', '.join(LANGUAGES)}")
    else:
        language = ("en", "nl") if example_nl else ("en",)
    if not (patterns or raw.get("codes") or oauth_errors):
        raise CatalogueError(f"{where}: needs at least one pattern, code or OAuth error to be recognisable")
    return Entry(
        id=entry_id,
        title=_text(raw, "title", where) or "",
        patterns=patterns,
        codes=_int_list(raw, "codes", where),
        oauth_errors=oauth_errors,
        http_statuses=statuses,
        cause=_text(raw, "cause", where) or "",
        solution=_text(raw, "solution", where) or "",
        fix_in=fix_in,
        severity=severity,
        example=_text(raw, "example", where) or "",
        example_nl=example_nl,
        other_examples=_str_list(raw, "other_examples", where, required=False),
        not_patterns=not_patterns,
        steps=_str_list(raw, "steps", where, required=False),
        language=language,
        source=source,
    )


def load_catalogue(path: Path | str = CATALOGUE_PATH) -> list[Entry]:
    """Read and validate a catalogue file; raises :class:`CatalogueError` saying what is wrong and where."""
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise CatalogueError(f"cannot read the troubleshooting catalogue {path}: {exc}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("entries"), list):
        raise CatalogueError(f"{path}: expected a mapping with an 'entries' list")
    entries = [_entry_from_raw(raw, i) for i, raw in enumerate(data["entries"], start=1)]
    seen: set[str] = set()
    for entry in entries:
        if entry.id in seen:
            raise CatalogueError(f"{path}: duplicate id {entry.id!r}")
        seen.add(entry.id)
    if len(entries) < MIN_ENTRIES:
        raise CatalogueError(f"{path}: {len(entries)} entries, at least {MIN_ENTRIES} expected")
    return entries


@lru_cache(maxsize=1)
def _catalogue() -> tuple[Entry, ...]:
    return tuple(load_catalogue())


def catalogue() -> list[Entry]:
    """All entries, in file order (loaded and validated once per process)."""
    return list(_catalogue())


@lru_cache(maxsize=1)
def _by_id() -> dict[str, Entry]:
    return {e.id: e for e in _catalogue()}


def get_entry(entry_id: str) -> Entry:
    """The entry with this id; ``KeyError`` when there is none (see :func:`find_entry`)."""
    return _by_id()[entry_id]


def find_entry(entry_id: str | None) -> Entry | None:
    """The entry with this id, or ``None``."""
    return _by_id().get(entry_id) if entry_id else None


# --------------------------------------------------------------------------------------------------- normalising

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


def _clip(text: str) -> str:
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


def _fuzzy_form(light: str) -> str:
    """Heavier normalisation for similarity: ids and numbers become placeholders, JSON keys and punctuation go."""
    text = _GUID_RE.sub(" id ", light)
    text = _PLACEHOLDER_RE.sub(" id ", text)
    text = _NUMBER_RE.sub("0", text)
    text = _NON_ALNUM_RE.sub(" ", text)
    text = _ENVELOPE_WORDS_RE.sub(" ", text)
    return _WS_RE.sub(" ", text).strip()


# --------------------------------------------------------------------------------------------------- evidence

_CODE_RES = (
    re.compile(r"\berrorcode\"?\s*[:=]\s*\"?(\d{3,5})\b"),
    re.compile(r"\b(?:error[\s_-]?code|fout[\s-]?code|foutcode|visma[\s-]?code)\s*[\"']?\s*[:=#]?\s*[\"']?(\d{4})\b"),
)
_STATUS_RES = (
    re.compile(r"\bhttp(?:/\d(?:\.\d)?)?\s*[:=]?\s*([1-5]\d\d)\b"),
    re.compile(r"\bstatus(?:[\s_-]?code)?\"?\s*[:=]?\s*\"?([1-5]\d\d)\b"),
    re.compile(
        r"\b([45]\d\d)\s+(?:unauthorized|forbidden|too many requests|internal server error|service unavailable|"
        r"bad gateway|gateway time-?out|bad request|not found|conflict)\b"
    ),
)
_OAUTH_ERRORS = (
    "invalid_grant",
    "invalid_client",
    "unauthorized_client",
    "access_denied",
    "invalid_request",
    "invalid_scope",
    "insufficient_scope",
    "unsupported_grant_type",
    "unsupported_response_type",
    "server_error",
    "temporarily_unavailable",
    "mismatching_state",
    "login_required",
    "consent_required",
    "interaction_required",
)
_OAUTH_RE = re.compile(r"(?<![a-z0-9])(" + "|".join(_OAUTH_ERRORS) + r")(?![a-z0-9])")


@dataclass(frozen=True)
class _Evidence:
    codes: tuple[int, ...]
    oauth_errors: tuple[str, ...]
    statuses: tuple[int, ...]


def _ordered_unique(values: list) -> tuple:
    return tuple(dict.fromkeys(values))


def _extract(light: str) -> _Evidence:
    """Structured parts found in a text: Visma ErrorCodes (first = the body's own), OAuth errors, HTTP statuses.

    Regexes rather than ``json.loads`` so that a body cut short or embedded in a log line still gives its code.
    Bare 4-digit numbers are never taken as codes (account 4000 is not Visma error 4000).
    """
    found: list[tuple[int, int]] = []
    for rx in _CODE_RES:
        found.extend((m.start(), int(m.group(1))) for m in rx.finditer(light))
    codes = _ordered_unique([code for _, code in sorted(found)])
    statuses = _ordered_unique([int(m.group(1)) for rx in _STATUS_RES for m in rx.finditer(light)])
    oauth = _ordered_unique([m.group(1) for m in _OAUTH_RE.finditer(light)])
    return _Evidence(codes=codes, oauth_errors=oauth, statuses=statuses)


# --------------------------------------------------------------------------------------------------- scoring


@dataclass(frozen=True)
class _Compiled:
    entry: Entry
    patterns: tuple[re.Pattern[str], ...]
    not_patterns: tuple[re.Pattern[str], ...]
    probes: tuple[str, ...]
    probe_words: tuple[frozenset[str], ...]


def _words(text: str) -> frozenset[str]:
    return frozenset(w for w in text.split() if len(w) >= 3)


@lru_cache(maxsize=1)
def _compiled() -> tuple[_Compiled, ...]:
    out = []
    for entry in _catalogue():
        probes = _ordered_unique([p for p in (_fuzzy_form(normalize(x)) for x in entry.examples) if p])
        out.append(
            _Compiled(
                entry=entry,
                patterns=tuple(re.compile(p, re.IGNORECASE) for p in entry.patterns),
                not_patterns=tuple(re.compile(p, re.IGNORECASE) for p in entry.not_patterns),
                probes=probes,
                probe_words=tuple(_words(p) for p in probes),
            )
        )
    return tuple(out)


def _fuzzy(item: _Compiled, fuzzy_text: str, text_words: frozenset[str]) -> float:
    """Best partial similarity with the entry's examples; probes sharing too few words are skipped (speed only:
    their similarity would stay under :data:`FUZZY_FLOOR` anyway)."""
    best = 0.0
    for probe, words in zip(item.probes, item.probe_words, strict=True):
        if words and text_words:
            shared = len(words & text_words) / min(len(words), len(text_words))
            if shared < FUZZY_MIN_SHARED_WORDS:
                continue
        best = max(best, fuzz.partial_ratio(fuzzy_text, probe, score_cutoff=FUZZY_FLOOR))
    return best


def _score(item: _Compiled, light: str, fuzzy_text: str, text_words: frozenset[str], evidence: _Evidence) -> float:
    entry = item.entry
    score = 0.0
    if evidence.codes and entry.codes:
        if evidence.codes[0] in entry.codes:
            score += W_PRIMARY_CODE
        elif any(c in entry.codes for c in evidence.codes):
            score += W_OTHER_CODE
        else:
            score += W_CODE_MISMATCH
    if any(o in entry.oauth_errors for o in evidence.oauth_errors):
        score += W_OAUTH
    if any(s in entry.http_statuses for s in evidence.statuses):
        score += W_STATUS
    hits = sum(1 for rx in item.patterns if rx.search(light))
    if hits:
        score += min(W_PATTERN_CAP, W_FIRST_PATTERN + W_MORE_PATTERN * (hits - 1))
    if any(rx.search(light) for rx in item.not_patterns):
        score += W_NOT_PATTERN
    if fuzzy_text:
        best = _fuzzy(item, fuzzy_text, text_words)
        if best > FUZZY_FLOOR:
            length_factor = min(1.0, len(fuzzy_text) / FUZZY_FULL_LENGTH)
            score += W_FUZZY * (best - FUZZY_FLOOR) / (100.0 - FUZZY_FLOOR) * length_factor
    return round(max(0.0, min(100.0, score)), 1)


def _ranked(text: str, extra: _Evidence | None = None) -> list[tuple[float, Entry]]:
    light = normalize(_clip(text or ""))
    evidence = _extract(light)
    if extra is not None:
        evidence = _Evidence(
            codes=_ordered_unique(list(extra.codes) + list(evidence.codes)),
            oauth_errors=_ordered_unique(list(extra.oauth_errors) + list(evidence.oauth_errors)),
            statuses=_ordered_unique(list(extra.statuses) + list(evidence.statuses)),
        )
    fuzzy_text = _fuzzy_form(light)[:FUZZY_MAX_TEXT]
    text_words = _words(fuzzy_text)
    scored = [(_score(item, light, fuzzy_text, text_words, evidence), item.entry) for item in _compiled()]
    scored.sort(key=lambda pair: (-pair[0], pair[1].id))
    return scored


def match(text: str) -> MatchResult:
    """The entry that best explains ``text``, or ``id=None`` when no entry reaches :data:`THRESHOLD`.

    ``score`` is the chosen entry's score (0.0 when none is chosen); ``alternatives`` lists up to three other entries
    that scored at least :data:`ALTERNATIVE_MIN`, best first, as ``{"id", "title", "score"}``.
    """
    ranked = _ranked(text)
    best_score, best = ranked[0]
    chosen = best if best_score >= THRESHOLD else None
    rest = ranked[1:] if chosen else ranked
    alternatives = [{"id": e.id, "title": e.title, "score": s} for s, e in rest if s >= ALTERNATIVE_MIN][
        :MAX_ALTERNATIVES
    ]
    if chosen is None:
        return MatchResult(None, None, None, None, 0.0, alternatives, None)
    return MatchResult(chosen.id, chosen.title, chosen.cause, chosen.solution, best_score, alternatives, chosen)


# --------------------------------------------------------------------------------------------------- classify


def _pattern_hit(entry_id: str, light: str, *, negative: bool = False) -> bool:
    """Whether one of the entry's own patterns (or not_patterns) occurs: classify refines with the catalogue's words."""
    for item in _compiled():
        if item.entry.id == entry_id:
            return any(rx.search(light) for rx in (item.not_patterns if negative else item.patterns))
    return False


_MODULE_RE = re.compile(r"no access to module:?\s*([a-z0-9_]+)")


def _first_entry_with(predicate: Callable[[Entry], bool]) -> str | None:
    for entry in _catalogue():
        if predicate(entry):
            return entry.id
    return None


def classify(
    *,
    http_status: int | None = None,
    error_code: int | None = None,
    message: str = "",
    oauth_error: str | None = None,
) -> str | None:
    """The entry id for a failed call whose structured parts are known; ``None`` when nothing fits.

    Structured parts decide first and the message refines: 2000 splits into cost-center-not-allowed,
    voucher-unbalanced and validation-failed by its text; 4002 is api-module-inactive for ``api_standard`` (or a 403
    naming no module) and module-no-access for other modules; 401/4005 is token-expired; ``invalid_grant`` is
    reauthorize-needed unless the text is about the code exchange; 429/4010 is rate-limited; 5xx/5000/5001 is
    visma-unavailable. With no status, no code and no OAuth error (a transport failure) the message is matched and
    visma-unavailable is the fallback.
    """
    light = normalize(_clip(message or ""))
    oauth = (oauth_error or "").strip().lower() or None
    if oauth:
        if oauth == "invalid_grant":
            about_code = _pattern_hit("authorization-code-invalid", light) and not _pattern_hit(
                "authorization-code-invalid", light, negative=True
            )
            return "authorization-code-invalid" if about_code else "reauthorize-needed"
        found = _first_entry_with(lambda e: oauth in e.oauth_errors)
        if found:
            return found
    if error_code is not None:
        if error_code == 2000:
            if _pattern_hit("cost-center-not-allowed", light):
                return "cost-center-not-allowed"
            if _pattern_hit("voucher-unbalanced", light):
                return "voucher-unbalanced"
            return "validation-failed"
        if error_code == 4002:
            module = _MODULE_RE.search(light)
            if module:
                return "api-module-inactive" if module.group(1) == "api_standard" else "module-no-access"
            if "api_standard" in light or re.search(r"api[ -]?module", light) or http_status in (None, 403):
                return "api-module-inactive"
            return "validation-failed"  # 4002 is also CanNotBeCreatedOrUpdated on a 400
        found = _first_entry_with(lambda e: error_code in e.codes)
        if found:
            return found
    if http_status is not None:
        if http_status == 401:
            return "token-expired"
        if http_status == 429:
            return "rate-limited"
        if http_status >= 500:
            return "visma-unavailable"
    if light:
        result = match(message)
        if result.id:
            return result.id
    if http_status is None and error_code is None and oauth is None:
        return "visma-unavailable"
    if http_status == 404:
        return "resource-not-found"
    if http_status == 409:
        return "duplicate-conflict"
    return None


# --------------------------------------------------------------------------------------------------- search


@lru_cache(maxsize=1)
def _search_texts() -> dict[str, str]:
    out = {}
    for entry in _catalogue():
        parts = [
            entry.id,
            entry.title,
            entry.cause,
            entry.solution,
            *entry.steps,
            *entry.examples,
            " ".join(str(c) for c in entry.codes),
            " ".join(entry.oauth_errors),
            " ".join(str(s) for s in entry.http_statuses),
            entry.fix_in.replace("_", " "),
        ]
        out[entry.id] = normalize(" \n ".join(parts))
    return out


def search(
    query: str,
    *,
    fix_in: str | None = None,
    severity: str | None = None,
    language: str | None = None,
) -> list[Entry]:
    """Entries for the searchable table: every word of ``query`` must occur (case- and accent-insensitive) in the
    entry's id, title, messages, codes, cause or solution; filters narrow by ``fix_in``, ``severity`` and ``language``.
    Entries whose title or id contains the whole query come first, then file order. An empty query lists all.
    """
    words = normalize(query or "").split()
    phrase = " ".join(words)
    texts = _search_texts()
    hits = []
    for position, entry in enumerate(_catalogue()):
        if fix_in and entry.fix_in != fix_in:
            continue
        if severity and entry.severity != severity:
            continue
        if language and language.lower() not in entry.language:
            continue
        haystack = texts[entry.id]
        if all(word in haystack for word in words):
            in_title = bool(phrase) and (phrase in normalize(entry.title) or phrase in entry.id)
            hits.append((0 if in_title else 1, position, entry))
    hits.sort(key=lambda h: (h[0], h[1]))
    return [entry for _, _, entry in hits]

"""The matcher: from any error text (a Visma body, an HTML page, a log line, an e-mail; English or Dutch; cut short)
to the one catalogue entry that explains it, or an honest "no known error".

Every entry is scored against the text:

* structured evidence first: a Visma ``ErrorCode`` (strong), an OAuth ``error`` value (strong), an HTTP status (weak);
* the entry's regex patterns (English and Dutch) on the normalised text;
* a fuzzy similarity (rapidfuzz) with the entry's examples, weak, so that cut-short texts are still found;
* ``not_patterns`` of an entry count against it (a more specific entry owns that text).

Scores are 0..100; below :data:`THRESHOLD` the answer is "no known error". Everything is deterministic: ties are
broken by id.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from rapidfuzz import fuzz

from core.troubleshooting.catalogue import Entry, entries
from core.troubleshooting.text import clip, fuzzy_form, normalize

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
    for entry in entries():
        probes = _ordered_unique([p for p in (fuzzy_form(normalize(x)) for x in entry.examples) if p])
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
    light = normalize(clip(text or ""))
    evidence = _extract(light)
    if extra is not None:
        evidence = _Evidence(
            codes=_ordered_unique(list(extra.codes) + list(evidence.codes)),
            oauth_errors=_ordered_unique(list(extra.oauth_errors) + list(evidence.oauth_errors)),
            statuses=_ordered_unique(list(extra.statuses) + list(evidence.statuses)),
        )
    fuzzy_text = fuzzy_form(light)[:FUZZY_MAX_TEXT]
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



def pattern_hit(entry: Entry, light: str) -> bool:
    """Whether one of the entry's patterns occurs in the normalised text and none of its not_patterns does."""
    item = _compiled_by_id()[entry.id]
    return any(rx.search(light) for rx in item.patterns) and not any(rx.search(light) for rx in item.not_patterns)


@lru_cache(maxsize=1)
def _compiled_by_id() -> dict[str, _Compiled]:
    return {item.entry.id: item for item in _compiled()}

"""The matcher: from any error text (a Visma body, an HTML page, a log line, an e-mail, a row of Visma's error table,
an exception repr; English or Dutch; cut short, retyped with typos) to the one catalogue entry that explains it, or
an honest "no known error".

Every entry is scored against the text from four kinds of evidence:

* **structured**: a Visma ``ErrorCode`` (strong; a four-digit number right next to a documented error name counts as
  that name's code, as in Visma's table ``FiscalYearDoesNotExist | 3001``), an OAuth ``error`` value (strong), an
  HTTP status (weak). A Visma code that an entry does not declare counts against it;
* **names**: Visma's documented error names (``FiscalYearDoesNotExist``, ``VoucherDateIsInLockedYearException``…)
  from the entry's ``names`` and the exception names in its examples, found in the text even with a typo or an
  ``Exception`` suffix. A name several entries share (``ForbiddenRequestException``) counts for each, less;
* **patterns**: the entry's regexes (English and Dutch) on the normalised text; ``not_patterns`` count against it;
* **similarity**: how much of one of the entry's descriptions (an example's message, the title, a pattern's literal
  words, a name's words, the cause) the text's words cover, weighted by how rare each word is in the catalogue;
  words are stemmed, negations folded (``isn't``, ``unmapped``, ``inactive``) and typos mapped to the catalogue's
  vocabulary, so word order, tense, British spelling and wrappers do not matter. A partial similarity (rapidfuzz)
  with the examples keeps cut-short texts found.

Where the catalogue's ``default_for`` names the entry that answers a piece of structured evidence, that entry leans
on it: a code several entries share (a tie-breaker), an HTTP status from Visma (or one that means the same from
anyone: 429, 502-504) and a failed HTTP call (more when the call was to Visma's own host).

Someone else's error scores nothing: a text that names another vendor, host or Python package, or carries a JSON
error in a shape Visma never sends (``{"error": {...}}``, a non-four-digit ``ErrorCode``), and has nothing of Visma
in it; and a traceback with nothing of Visma or this product in it.

Scores are 0..100 (ranking uses the unclipped sum; ties are broken by id, so everything is deterministic). Below
:data:`THRESHOLD` the answer is "no known error". Every answer says how sure it is (:data:`CONFIDENCE`) and, when a
second entry is close or the code and the words disagree, names that ``runner_up``.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from rapidfuzz import fuzz, process

from core.troubleshooting.catalogue import Entry, entries
from core.troubleshooting.text import (
    clip,
    content_words,
    expand_negations,
    fuzzy_form,
    normalize,
    raw_words,
    unwrap,
    word_stems,
)

try:  # Python 3.11+
    from re import _parser as _sre_parse  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - older Pythons
    import sre_parse as _sre_parse  # type: ignore[no-redef]

THRESHOLD = 40.0
"""Lowest score that names an entry; below it ``match`` answers ``id=None`` rather than guess."""
ALTERNATIVE_MIN = 20.0
"""Lowest score an alternative needs to be listed."""
MAX_ALTERNATIVES = 3
CLOSE_GAP = 15.0
"""A second entry this close to the best (in points) is the ``runner_up``."""
HIGH_SCORE = 70.0
HIGH_GAP = 25.0
MEDIUM_GAP = 10.0

CONFIDENCE = {
    "high": "strong evidence that agrees: a score of 70 or more, 25 points or more ahead of the next entry, the "
    "Visma code (if any) and the words pointing to the same entry, and something only Visma says in the text (a Visma "
    "code or error name, its host or envelope) unless the entry is this product's own message",
    "medium": "above the threshold (40) and 10 points or more ahead of the next entry, on less evidence",
    "low": "named, but another entry is within 10 points, or the Visma code and the words point to different "
    "entries: read both",
    "none": "no entry is close enough to name",
}
"""What each ``MatchResult.confidence`` means (shown by the CLI's help and the Troubleshooting page)."""
MATCH_CONFIDENCE = CONFIDENCE  # the name ``core.services`` exports it under

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
W_NAME = 45.0  # a documented name only this entry has; shared names count W_NAME / number of entries sharing it
W_FUZZY = 45.0
W_SIMILAR = 60.0
W_FOREIGN = -100.0
W_DEFAULT = 30.0  # the entry the catalogue names as the answer for this status or transport failure
W_DEFAULT_VISMA = 15.0  # … more when the failed call was to Visma's own host
W_DEFAULT_CODE = 8.0  # … for a code several entries share: a tie-breaker when the words do not say which
OVERLAP_SHARE = 0.5
UNKNOWN_WORD_WEIGHT = 2.0  # how much a word the catalogue never uses counts as unexplained text
SIMILAR_BETA = 2.0  # recall counts this many times more than precision in the word similarity
ORDER_SHARE = 0.2  # part of a description's coverage that depends on its word pairs being in the text in order
UNNEGATED_SHARE = 0.6  # what a description that says "not" still counts for a text that never does
FUZZY_FLOOR = 60.0  # similarity (0..100) below which the fuzzy part adds nothing
FUZZY_MIN_SHARED_WORDS = 0.34  # probes sharing fewer words than this with the text are not compared
FUZZY_FULL_LENGTH = 20  # texts shorter than this get proportionally less fuzzy weight ("OK" must not match)
FUZZY_MAX_TEXT = 3000  # fuzzy compares at most this many characters of a long paste
SIMILAR_FLOOR = 0.4  # word coverage (0..1) below which the similarity part adds nothing
SIMILAR_MIN_WORDS = 2  # a description counts only when at least this many of its words are in the text
SIMILAR_MIN_INFO = 1.5  # … and it says enough (sum of its words' rarity) to identify anything
CAUSE_WEIGHT = 0.85  # the cause explains the error in other words than Visma's: a little less telling
SHARED_NAME_WEIGHT = 0.9  # a name's words, for an entry that shares the name and is not its code's default
TYPO_CUTOFF = 84.0  # a word this similar (rapidfuzz ratio) to a catalogue word is read as that word
NAME_TYPO_CUTOFF = 90.0
NAME_MIN_LENGTH = 8
MAX_WORD_LENGTH = 40  # longer "words" (a run of letters in a dump) are not read as typos or compounds

# --------------------------------------------------------------------------------------------------- the result


@dataclass(frozen=True)
class MatchResult:
    """The best entry for a text (or none), its score 0..100, how sure the match is, the close runner-up and up to
    three alternatives."""

    id: str | None
    title: str | None
    cause: str | None
    solution: str | None
    score: float
    alternatives: list[dict[str, Any]] = field(default_factory=list)
    entry: Entry | None = None
    confidence: str = "none"
    runner_up: dict[str, Any] | None = None
    note: str | None = None
    """Why the confidence is low, in words (for example the code and the words disagreeing); ``None`` otherwise."""

    def to_dict(self) -> dict[str, Any]:
        """The match itself: id, title, cause, solution, score, alternatives (see :meth:`to_report` for more)."""
        return {
            "id": self.id,
            "title": self.title,
            "cause": self.cause,
            "solution": self.solution,
            "score": self.score,
            "alternatives": [dict(a) for a in self.alternatives],
        }

    def to_report(self) -> dict[str, Any]:
        """The JSON of ``errors match --json``: :meth:`to_dict` plus ``confidence`` and ``runner_up``
        (``{"id", "title", "score"}`` or ``None``)."""
        return {
            **self.to_dict(),
            "confidence": self.confidence,
            "runner_up": dict(self.runner_up) if self.runner_up else None,
        }


# --------------------------------------------------------------------------------------------------- evidence

_CODE_RES = (
    re.compile(r"\berrorcode\"?\s*[:=]\s*\"?(\d{3,5})\b"),
    re.compile(r"\b(?:error[\s_-]?code|fout[\s-]?code|foutcode|visma[\s-]?code)\s*[\"']?\s*[:=#]?\s*[\"']?(\d{4})\b"),
    re.compile(r"\b(?:visma |eaccounting )?(?:api )?error\s*#?\s*(\d{4})\b"),
    re.compile(r"^\s*(\d{4})\s+-\s+[a-z]"),  # a line of Visma's error table: "4026 - This error is thrown…"
)
_STATUS_RES = (
    re.compile(r"^\s*([45]\d\d)\s+-\s+[a-z]"),  # a web server's error page: "502 - Web server received…"
    re.compile(r"\bhttp(?:/\d(?:\.\d)?)?\s*[:=]?\s*([1-5]\d\d)\b"),
    re.compile(r"\bstatus(?:[\s_-]?code)?\"?\s*[:=]?\s*\"?([1-5]\d\d)\b"),
    re.compile(
        r"\b([45]\d\d)\s+(?:unauthorized|forbidden|too many requests|internal server error|service unavailable|"
        r"bad gateway|gateway time-?out|bad request|not found|conflict|client error|server error)\b"
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
_IDENTIFIER_RE = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:[._][A-Za-z][A-Za-z0-9]*)*")
_EXAMPLE_NAME_RE = re.compile(r"(?<![\].\w])(?:[a-z]+\.)*([A-Z][a-z0-9]+(?:[A-Z][a-z0-9]*)+)(?=\s*(?:-\s|:|\())")
_NEAR_CODE_AFTER_RE = re.compile(r"^(?:exception)?[\s\"'`|,:;=()\[\]#-]*(?:(?:error\s*)?code\s*[:=#]?\s*)?(\d{4})\b")
_NEAR_CODE_BEFORE_RE = re.compile(r"\b(\d{4})[\s\"'`|,:;=()\[\]#-]{1,8}$")
_SUFFIXES = ("exception", "error")
_NAME_POSITION_RE = re.compile(r"\s+-\s+\S")  # "Conflict - A voucher with number … already exists"

# Someone else's error: another vendor's service named, and nothing of Visma or this product in the text.
_FOREIGN_RE = re.compile(
    r"\b(?:github|gitlab|stripe|amazonaws|aws|azure|googleapis|google|microsoft|salesforce|shopify|paypal|twilio|"
    r"slack|hubspot|mollie|adyen|exact ?online|exactonline|moneybird|twinfield|xero|quickbooks|intuit|openai|"
    r"anthropic|dropbox|docker|kubernetes|postgres(?:ql)?|mysql|redis|mongodb|jira|atlassian|sendgrid|mailchimp|"
    r"zendesk|firebase|heroku|cloudflare|oracle|sap|snelstart|yuki|e-boekhouden|psycopg2?|"
    r"sqlalchemy|sqlite3?|django|celery|kafka|rabbitmq|elasticsearch|smtplib|smtp|imap|ldap|java|javascript|node)\b"
)
_TRACEBACK_RE = re.compile(r"traceback \(most recent call last\)")
_VISMA_RE = re.compile(r"visma|eaccounting|spiris|developererrormessage")
_PAYROLL_RE = re.compile(r"\bpayroll|salaris|\bloonrun")  # the payroll side is this product's too
_OURS_RE = re.compile(
    r"\bvoucher|fiscal ?year|boekjaar|\bpayroll|\bjournal|\bledger|grootboek|"
    r"core[./](?:visma|export|accounts|payroll|troubleshooting)|\bhttpx\b|authori[sz]|oauth|invalid_grant|\btoken\b"
)
_HOST_RE = re.compile(
    r"(?<![@\w.-])((?:[a-z0-9-]+\.)+(?:com|net|org|io|tv|in|co|de|nl|se|dev|app|cloud|ai|me|info|biz|uk|eu|us|fr|"
    r"be|no|dk|fi))\b(?![.-]\w)"
)
_OUR_HOST_RE = re.compile(r"visma|spiris|localhost|example|mozilla\.org|python\.org|readthedocs|w3\.org")
_PACKAGE_RE = re.compile(r"(?<![\w.])([a-z][a-z0-9_]*)(?:\.[a-z0-9_]+)*\.(?:exceptions?|errors?)\b")
_OUR_PACKAGES = frozenset({
    "core", "visma", "httpx", "httpcore", "requests", "urllib3", "authlib", "oauthlib", "http", "aiohttp", "builtins",
    "ssl", "socket", "json", "asyncio", "concurrent", "integration", "eaccounting", "spiris", "client", "api",
})  # fmt: skip
# JSON error bodies in shapes Visma never sends: {"error": {...}} (Google, Microsoft, Stripe…), Intuit's "fault",
# Spring's {"timestamp", "status", "error", "path"}; and an "ErrorCode" that is not four digits (Visma's all are).
_FOREIGN_SHAPE_RE = re.compile(
    r"[\"']error[\"']\s*:\s*\{|[\"']fault[\"']\s*:\s*\{|[\"']timestamp[\"']\s*:.{0,80}[\"']path[\"']\s*:|"
    r"\berrorcode\"?\s*[:=]\s*\"?(?:\d{1,3}|\d{5,})\b"
)
# A failure of the HTTP call itself (no answer): the client library's own words.
_TRANSPORT_RE = re.compile(
    r"\b(?:connecterror|connecttimeout|readtimeout|writetimeout|pooltimeout|remoteprotocolerror|timeoutexception|"
    r"connectionerror|sslerror|maxretryerror|newconnectionerror|proxyerror|enotfound|econnrefused|econnreset|"
    r"etimedout|eai_again|getaddrinfo|certificate verify failed|max retries exceeded|"
    r"failed to establish a new connection|fetch failed|socket hang up|network ?error)\b"
)
_CUT_WORD_RE = re.compile(r"([a-z][a-z0-9]*_[a-z0-9_]{1,30})$")  # a text ending inside a snake_case identifier
_STATUS_ALONE = frozenset({429, 502, 503, 504})  # statuses that mean one thing whoever sends them


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
    Bare 4-digit numbers are never taken as codes here (account 4000 is not Visma error 4000); see
    :meth:`Matcher._names_in` for a number right next to a documented name.
    """
    found: list[tuple[int, int]] = []
    for rx in _CODE_RES:
        found.extend((m.start(), int(m.group(1))) for m in rx.finditer(light))
    codes = _ordered_unique([code for _, code in sorted(found)])
    statuses = _ordered_unique([int(m.group(1)) for rx in _STATUS_RES for m in rx.finditer(light)])
    oauth = _ordered_unique([m.group(1) for m in _OAUTH_RE.finditer(light)])
    return _Evidence(codes=codes, oauth_errors=oauth, statuses=statuses)


def _compact(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def _bare(compact: str) -> str:
    """A name without its ``Exception``/``Error`` suffix (Visma writes both ``…LockedYear`` and
    ``…LockedYearException``)."""
    for suffix in _SUFFIXES:
        if compact.endswith(suffix) and len(compact) - len(suffix) >= 6:
            return compact[: -len(suffix)]
    return compact


# --------------------------------------------------------------------------------------------------- regex literals


def literal_phrases(pattern: str, limit: int = 6) -> list[str]:
    """Up to ``limit`` plain texts a regex matches (first alternatives first; optional parts with and without;
    character classes as their first character; ``.{0,30}``/``\\S+`` as a space). Used as descriptions for word
    similarity, so that a pattern's words still count when the text says them in another order or tense."""
    try:
        parsed = _sre_parse.parse(pattern)
    except (re.error, OverflowError, RecursionError):
        return []
    out = []
    for phrase in _expand(list(parsed), limit):
        phrase = " ".join(phrase.split())
        if phrase and phrase not in out:
            out.append(phrase)
    return out


def required_literal(pattern: str) -> str:
    """The longest piece of plain text every match of ``pattern`` contains, lower case ("" when there is none): a
    text without it cannot match, so the regex need not run (speed only)."""
    try:
        parsed = list(_sre_parse.parse(pattern))
    except (re.error, OverflowError, RecursionError):
        return ""
    best, run = "", ""
    for op, av in parsed:
        if str(op) == "LITERAL":
            run += chr(av)
            continue
        best = max(best, run, key=len)
        run = ""
    best = max(best, run, key=len).lower()
    return best if len(best) >= 3 else ""


def _class_char(items: list) -> str:
    for op, av in items:
        name = str(op)
        if name == "LITERAL":
            return chr(av)
        if name == "RANGE":
            return chr(av[0])
        if name == "NEGATE":
            return " "
    return " "


def _expand(seq: list, limit: int) -> list[str]:
    outs = [""]
    for op, av in seq:
        name = str(op)
        if name == "LITERAL":
            options = [chr(av)]
        elif name == "IN":
            options = [_class_char(list(av))]
        elif name == "SUBPATTERN":
            options = _expand(list(av[-1]), limit)
        elif name == "BRANCH":
            options = [x for branch in av[1] for x in _expand(list(branch), limit)][:limit]
        elif name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
            low, high, sub = av
            inner = _expand(list(sub), limit)
            if all(not x.strip() for x in inner):
                options = [" "]
            elif low == 0:
                options = ["", *inner] if high == 1 else [" "]
            else:
                options = inner
        elif name in ("AT", "ASSERT", "ASSERT_NOT", "GROUPREF"):
            options = [""]
        else:  # ANY, NOT_LITERAL, CATEGORY…
            options = [" "]
        outs = [o + x for o in outs for x in options][:limit]
    return outs


# --------------------------------------------------------------------------------------------------- the matcher


@dataclass(frozen=True)
class _Compiled:
    entry: Entry
    patterns: tuple[re.Pattern[str], ...]
    needles: tuple[str, ...]  # per pattern, a piece of text every match contains ("" when there is none)
    not_patterns: tuple[re.Pattern[str], ...]
    probes: tuple[str, ...]
    probe_words: tuple[frozenset[str], ...]
    descriptions: tuple[tuple[frozenset[str], frozenset[frozenset[str]], float], ...]
    vocabulary: frozenset[str]
    informations: tuple[float, ...] = ()  # each description's sum of word rarities, filled in once the idf is known


@dataclass(frozen=True, eq=False)
class _Scored:
    entry: Entry
    total: float  # unclipped, for ranking
    words: float  # what the text's words, names and patterns alone say (no code, OAuth error or status)


def _words(text: str) -> frozenset[str]:
    return frozenset(w for w in text.split() if len(w) >= 3)


def _entry_names(entry: Entry) -> set[str]:
    """Compact documented names of an entry: its ``names`` field, the exception names its examples start with, and
    its patterns that are one long identifier (``fiscalyeardoesnotexist``)."""
    names = {_compact(n) for n in entry.names}
    for example in entry.examples:
        names.update(_compact(m.group(1)) for m in _EXAMPLE_NAME_RE.finditer(unwrap(example)))
    for pattern in entry.patterns:
        for phrase in literal_phrases(pattern):
            if re.fullmatch(r"[a-z][a-z0-9]{13,}", phrase):
                names.add(phrase)
    return {n for n in names if len(n) >= NAME_MIN_LENGTH or n in {_compact(x) for x in entry.names}}


def _pairs(words: list[str], reach: int = 1) -> frozenset[frozenset[str]]:
    """Words at most ``reach`` apart (either order; negations left out, as languages put them in different places).
    A text's pairs reach one word further than a description's: a name or code sits between them ("cost centre LOG
    is inactive")."""
    kept = [w for w in words if w != "not"]
    return frozenset(
        frozenset((a, b)) for step in range(1, reach + 1) for a, b in zip(kept, kept[step:], strict=False) if a != b
    )


def _descriptions(
    entry: Entry, names: set[str], display: dict[str, str], name_weights: dict[str, float]
) -> list[tuple[frozenset[str], frozenset[frozenset[str]], float]]:
    texts: list[tuple[str, float]] = [(entry.title, 1.0)]
    texts += [(unwrap(example), 1.0) for example in entry.examples]
    texts += [(phrase, 1.0) for pattern in entry.patterns for phrase in literal_phrases(pattern) if " " in phrase]
    texts += [(display.get(name, name), name_weights.get(name, 1.0)) for name in names]
    texts += [(sentence, CAUSE_WEIGHT) for sentence in re.split(r"(?<=[.;])\s+", entry.cause) if sentence.strip()]
    out: dict[frozenset[str], tuple[frozenset[frozenset[str]], float]] = {}
    for text, weight in texts:
        sequence = content_words(text)
        words = frozenset(sequence)
        if words and weight > out.get(words, (frozenset(), 0.0))[1]:
            out[words] = (_pairs(sequence), weight)
    return [(words, pairs, weight) for words, (pairs, weight) in out.items()]


class Matcher:
    """A matcher built from a list of entries (the catalogue, or part of it when cross-validating)."""

    def __init__(self, catalogue: Sequence[Entry]):
        self.entries = tuple(catalogue)
        entry_names = {entry.id: _entry_names(entry) for entry in self.entries}
        self._index_names(entry_names)
        display: dict[str, str] = {}
        for entry in self.entries:
            for example in entry.examples:
                for m in _EXAMPLE_NAME_RE.finditer(unwrap(example)):
                    display[_compact(m.group(1))] = m.group(1)
            for name in entry.names:
                display[_compact(name)] = name
        self._compiled = tuple(self._compile(entry, entry_names[entry.id], display) for entry in self.entries)
        self._by_id = {item.entry.id: item for item in self._compiled}
        total = max(1, len(self._compiled))
        df: dict[str, int] = {}
        for item in self._compiled:
            for word in item.vocabulary:
                df[word] = df.get(word, 0) + 1
        self._idf = {word: math.log(total / n) + 0.1 for word, n in df.items()}
        self._compiled = tuple(
            dataclasses.replace(item, informations=tuple(sum(self._idf[w] for w in d) for d, _, _ in item.descriptions))
            for item in self._compiled
        )
        self._by_id = {item.entry.id: item for item in self._compiled}
        raw_vocabulary: set[str] = set()
        for entry in self.entries:
            for text in (entry.title, entry.cause, entry.solution, *entry.steps, *entry.examples, *entry.patterns):
                raw_vocabulary.update(w for w in raw_words(text) if len(w) >= 4)
        self._raw_vocabulary = sorted(raw_vocabulary)
        self._typo_cache: dict[str, list[str]] = {}
        self._name_typos: dict[str, str | None] = {}
        self._all_codes = {c for entry in self.entries for c in entry.codes}
        self._identifiers = sorted(
            {
                word
                for entry in self.entries
                for pattern in entry.patterns
                for phrase in literal_phrases(pattern)
                for word in phrase.split()
                if "_" in word and len(word) >= 6
            }
        )

    def _index_names(self, entry_names: dict[str, set[str]]) -> None:
        """Bare name → owners and codes; a name several entries share (DataModelValidationError) speaks for the one
        the catalogue makes the default answer of its code, the others need their own words."""
        self._names: dict[str, list[str]] = {}
        self._name_codes: dict[str, set[int]] = {}
        for entry in self.entries:
            for name in entry_names[entry.id]:
                owners = self._names.setdefault(_bare(name), [])
                if entry.id not in owners:
                    owners.append(entry.id)
                self._name_codes.setdefault(_bare(name), set()).update(entry.codes)
        by_id = {entry.id: entry for entry in self.entries}
        self._name_default: dict[str, str] = {}
        for name, owners in self._names.items():
            for owner in owners:
                if len(owners) > 1 and any(f"code:{c}" in by_id[owner].default_for for c in self._name_codes[name]):
                    self._name_default[name] = owner
        self._long_names = sorted(n for n in self._names if len(n) >= 12)

    def _compile(self, entry: Entry, names: set[str], display: dict[str, str]) -> _Compiled:
        probes = _ordered_unique([p for p in (fuzzy_form(normalize(x)) for x in entry.examples) if p])
        shared = {
            n: SHARED_NAME_WEIGHT
            for n in names
            if len(self._names.get(_bare(n), ())) > 1 and self._name_default.get(_bare(n)) != entry.id
        }
        descriptions = _descriptions(entry, names, display, shared)
        return _Compiled(
            entry=entry,
            patterns=tuple(re.compile(p, re.IGNORECASE) for p in entry.patterns),
            needles=tuple(required_literal(p) for p in entry.patterns),
            not_patterns=tuple(re.compile(p, re.IGNORECASE) for p in entry.not_patterns),
            probes=probes,
            probe_words=tuple(_words(p) for p in probes),
            descriptions=tuple(descriptions),
            vocabulary=frozenset(w for words, _, _ in descriptions for w in words).union(
                content_words(" ".join([entry.solution, *entry.steps]))
            ),
        )

    # ----------------------------------------------------------------------------------------------- reading

    def _stems(self, raw: str) -> tuple[list[str], int]:
        """The catalogue stems a raw word stands for (read as the catalogue word it is a typo of, if it is one), and
        how many of its stems are unknown to the catalogue."""
        stems = word_stems(raw)
        if all(w in self._idf for w in stems):
            return stems, 0
        cached = self._typo_cache.get(raw)
        if cached is None:
            cached = stems
            compound = self._split_compound(raw)
            if compound:
                cached = compound
            elif 5 <= len(raw) <= MAX_WORD_LENGTH:
                best = process.extractOne(raw, self._raw_vocabulary, scorer=fuzz.ratio, score_cutoff=TYPO_CUTOFF)
                if best is not None and abs(len(best[0]) - len(raw)) <= 2:
                    cached = word_stems(best[0])
            if len(self._typo_cache) < 50_000:
                self._typo_cache[raw] = cached
        known = [w for w in cached if w in self._idf]
        return known, len(cached) - len(known)

    def _complete_cut_word(self, light: str) -> str:
        """A text cut short in the middle of an identifier (``…module: api_st``) gets the one catalogue identifier
        that word is the start of appended, so the patterns that name it still see it."""
        m = _CUT_WORD_RE.search(light[-40:])
        if not m:
            return light
        start = m.group(1)
        found = [word for word in self._identifiers if word.startswith(start) and word != start]
        return f"{light} {found[0]}" if len(found) == 1 else light

    def _split_compound(self, raw: str) -> list[str] | None:
        """``fiscalyear`` → ``fiscal``, ``year``: a word the catalogue does not know made of two words it does."""
        if not 8 <= len(raw) <= MAX_WORD_LENGTH:
            return None
        for cut in range(3, len(raw) - 2):
            left, right = word_stems(raw[:cut]), word_stems(raw[cut:])
            if left and right and all(w in self._idf for w in left + right):
                return left + right
        return None

    def _names_in(self, text: str) -> tuple[dict[str, float], list[int]]:
        """Entry id → name weight for the documented names in the text, and the codes written right next to them."""
        weights: dict[str, float] = {}
        codes: list[tuple[int, int]] = []
        for m in _IDENTIFIER_RE.finditer(text):
            token = m.group(0).rsplit(".", 1)[-1]
            if len(token) < NAME_MIN_LENGTH and not token[:1].isupper():
                continue
            compact = _bare(_compact(token))
            owners = self._names.get(compact)
            if owners is None and 12 <= len(compact) <= MAX_WORD_LENGTH * 2 and self._long_names:
                if compact not in self._name_typos and len(self._name_typos) < 50_000:
                    best = process.extractOne(
                        compact, self._long_names, scorer=fuzz.ratio, score_cutoff=NAME_TYPO_CUTOFF
                    )
                    self._name_typos[compact] = best[0] if best else None
                known = self._name_typos.get(compact)
                owners = self._names.get(known) if known else None
                compact = known or compact
            if not owners:
                continue
            after = _NEAR_CODE_AFTER_RE.match(text[m.end() : m.end() + 40].lower())
            before = _NEAR_CODE_BEFORE_RE.search(text[max(0, m.start() - 20) : m.start()])
            near = [int(x.group(1)) for x in (after, before) if x and int(x.group(1)) in self._all_codes]
            camel = any(c.isupper() for c in token[1:]) or len(compact) >= 12
            if not camel and len(compact) < 10:
                # a short, ordinary word ("Conflict") is a name only next to its own code or in Visma's
                # "Name - message" position
                own = self._name_codes.get(compact, set())
                if not (token[:1].isupper() and (own & set(near) or _NAME_POSITION_RE.match(text, m.end()))):
                    continue
            for owner in owners:
                weight = W_NAME / len(owners) + (W_DEFAULT_CODE if self._name_default.get(compact) == owner else 0.0)
                weights[owner] = max(weights.get(owner, 0.0), weight)
            codes.extend((m.start(), code) for code in near)
        return weights, [code for _, code in sorted(codes)]

    def _is_foreign(self, light: str, evidence: _Evidence, names: dict[str, float]) -> bool:
        """Someone else's error: another vendor, host or package named, or a JSON shape Visma never sends, and
        nothing of Visma in the text; or a traceback with nothing of Visma or this product in it."""
        if _VISMA_RE.search(light) or any(c in self._all_codes for c in evidence.codes if c >= 1000):
            return False
        if _PAYROLL_RE.search(light):
            return False
        if _FOREIGN_RE.search(light) or _FOREIGN_SHAPE_RE.search(light):
            return True
        if any(not _OUR_HOST_RE.search(host) for host in _HOST_RE.findall(light)):
            return True
        if any(package not in _OUR_PACKAGES for package in _PACKAGE_RE.findall(light)):
            return True
        return bool(_TRACEBACK_RE.search(light)) and not names and not _OURS_RE.search(light)

    def _similarity(
        self, item: _Compiled, words: frozenset[str], pairs: frozenset[frozenset[str]], informative: float
    ) -> float:
        """0..1, like an F-measure: how much of one of the entry's descriptions the text's words cover (recall) and
        how much of the text the entry's words explain (precision), rarer words counting more. A description of a
        few common words that happens to occur in unrelated prose explains little of that prose. Recall counts more
        than precision (a wrapper adds words), and a description whose word pairs the text keeps in order counts
        fully (``account … does not exist`` is not ``fiscal year does not exist``)."""
        if len(words & item.vocabulary) < SIMILAR_MIN_WORDS:
            return 0.0
        idf = self._idf
        recall = 0.0
        for (description, description_pairs, weight), info in zip(item.descriptions, item.informations, strict=True):
            if info < SIMILAR_MIN_INFO:
                continue
            shared = description & words
            if len(shared) < SIMILAR_MIN_WORDS:
                continue
            in_order = len(description_pairs & pairs) / len(description_pairs) if description_pairs else 1.0
            covered = sum(idf[w] for w in shared) / info
            if "not" in description and "not" not in words:
                covered *= UNNEGATED_SHARE  # "fiscal year missing" is not said by "our fiscal year ends in June"
            recall = max(recall, weight * covered * (1.0 - ORDER_SHARE + ORDER_SHARE * in_order))
        if recall <= 0.0 or not informative:
            return 0.0
        precision = min(1.0, sum(idf[w] for w in words & item.vocabulary) / informative)
        beta2 = SIMILAR_BETA**2
        return (1 + beta2) * recall * precision / (beta2 * precision + recall) if precision else 0.0

    def _fuzzy(self, item: _Compiled, fuzzy_text: str, text_words: frozenset[str]) -> float:
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

    # ----------------------------------------------------------------------------------------------- scoring

    def _structured(self, entry: Entry, ctx: dict[str, Any]) -> float:
        """Points from the Visma code, OAuth error, HTTP status and the catalogue's ``default_for``."""
        evidence: _Evidence = ctx["evidence"]
        points = 0.0
        if evidence.codes:
            if evidence.codes[0] in entry.codes:
                points += W_PRIMARY_CODE
            elif any(c in entry.codes for c in evidence.codes):
                points += W_OTHER_CODE
            elif entry.codes or any(c in self._all_codes for c in evidence.codes):
                points += W_CODE_MISMATCH
        if any(o in entry.oauth_errors for o in evidence.oauth_errors):
            points += W_OAUTH
        if any(s in entry.http_statuses for s in evidence.statuses):
            points += W_STATUS
        defaults = ctx["defaults"]
        for key in defaults & set(entry.default_for):
            points += W_DEFAULT_CODE if key.startswith("code:") else W_DEFAULT
        if "transport@visma" in defaults and "transport" in entry.default_for:
            points += W_DEFAULT + W_DEFAULT_VISMA  # the call to Visma's own host failed
        return points

    def _lexical(self, item: _Compiled, ctx: dict[str, Any]) -> float:
        """Points from how alike the text and the entry's texts are: partial similarity with the examples, or word
        similarity with the descriptions, whichever is higher."""
        lexical = 0.0
        fuzzy_text = ctx["fuzzy_text"]
        if fuzzy_text:
            best = self._fuzzy(item, fuzzy_text, ctx["text_words"])
            if best > FUZZY_FLOOR:
                length_factor = min(1.0, len(fuzzy_text) / FUZZY_FULL_LENGTH)
                lexical = W_FUZZY * (best - FUZZY_FLOOR) / (100.0 - FUZZY_FLOOR) * length_factor
        similar = self._similarity(item, ctx["words"], ctx["pairs"], ctx["informative"])
        if similar > SIMILAR_FLOOR:
            lexical = max(lexical, W_SIMILAR * min(1.0, (similar - SIMILAR_FLOOR) / (1.0 - SIMILAR_FLOOR)))
        return lexical

    def _score(self, item: _Compiled, ctx: dict[str, Any]) -> _Scored:
        entry = item.entry
        light, expanded = ctx["light"], ctx["expanded"]
        hits = sum(
            1
            for rx, needle in zip(item.patterns, item.needles, strict=True)
            if (needle in light and rx.search(light)) or (expanded and needle in expanded and rx.search(expanded))
        )
        patterns = min(W_PATTERN_CAP, W_FIRST_PATTERN + W_MORE_PATTERN * (hits - 1)) if hits else 0.0
        lexical = self._lexical(item, ctx)
        # patterns and similarity often see the same words: the stronger counts whole, the other half
        words = max(patterns, lexical) + OVERLAP_SHARE * min(patterns, lexical) + ctx["names"].get(entry.id, 0.0)
        if any(rx.search(light) for rx in item.not_patterns):
            words += W_NOT_PATTERN
        total = self._structured(entry, ctx) + words + (W_FOREIGN if ctx["foreign"] else 0.0)
        return _Scored(entry=entry, total=total, words=words)

    def scored(self, text: str) -> tuple[list[_Scored], _Evidence, bool]:
        """Every entry scored against ``text``, best first (ties by id), with the structured evidence found and
        whether the text carries anything only Visma says (its name, host or envelope, a Visma code or error name)."""
        raw = clip(text or "")
        light = self._complete_cut_word(normalize(raw))
        evidence = _extract(light)
        names, near_codes = self._names_in(raw)
        if near_codes:
            evidence = _Evidence(_ordered_unique([*evidence.codes, *near_codes]), evidence.oauth_errors,
                                 evidence.statuses)
        sequence: list[str] = []
        unknown: set[str] = set()
        for word in raw_words(unwrap(raw)[:FUZZY_MAX_TEXT]):
            stems, missing = self._stems(word)
            sequence.extend(stems)
            if missing:
                unknown.add(word)
        frozen = frozenset(sequence)
        expanded = expand_negations(light)
        fuzzy_text = fuzzy_form(light)[:FUZZY_MAX_TEXT]
        ctx = {
            "evidence": evidence,
            "light": light,
            "names": names,
            "fuzzy_text": fuzzy_text,
            "text_words": _words(fuzzy_text),
            "words": frozen,
            "pairs": _pairs(sequence, reach=2),
            "informative": sum(self._idf[w] for w in frozen) + UNKNOWN_WORD_WEIGHT * len(unknown),
            "expanded": expanded if expanded != light else "",
            "foreign": self._is_foreign(light, evidence, names),
            "defaults": _default_evidence(light, evidence),
        }
        out = [self._score(item, ctx) for item in self._compiled]
        out.sort(key=lambda s: (-s.total, s.entry.id))
        visma_specific = bool(names or _VISMA_RE.search(light) or any(c in self._all_codes for c in evidence.codes))
        return out, evidence, visma_specific

    def ranked(self, text: str) -> list[tuple[float, Entry]]:
        """(score 0..100, entry) for every entry, best first; ties broken by id."""
        return [(_clip_score(s.total), s.entry) for s in self.scored(text)[0]]

    def match(self, text: str) -> MatchResult:
        """The entry that best explains ``text``, or ``id=None`` when no entry reaches :data:`THRESHOLD`."""
        scored, evidence, visma_specific = self.scored(text)
        best = scored[0]
        best_score = _clip_score(best.total)
        chosen = best.entry if best_score >= THRESHOLD else None
        rest = scored[1:] if chosen else scored
        alternatives = [
            {"id": s.entry.id, "title": s.entry.title, "score": _clip_score(s.total)}
            for s in rest
            if _clip_score(s.total) >= ALTERNATIVE_MIN
        ][:MAX_ALTERNATIVES]
        if chosen is None:
            near = rest[0] if rest and _clip_score(rest[0].total) >= ALTERNATIVE_MIN else None
            runner_up = _brief(near) if near else None
            return MatchResult(None, None, None, None, 0.0, alternatives, None, "none", runner_up, None)
        second = scored[1] if len(scored) > 1 else None
        partner, note = self._disagreement(scored, evidence)
        gap = best.total - second.total if second else math.inf
        if partner is not None:
            confidence = "low"
        elif gap < MEDIUM_GAP:
            confidence = "low"
            note = f"'{second.entry.title}' scores almost as well; read both."
        elif best_score >= HIGH_SCORE and gap >= HIGH_GAP and (visma_specific or chosen.source == "dashboard"):
            confidence = "high"  # only Visma (or this product) says it: a look-alike from another API cannot be
        else:
            confidence = "medium"
        runner = partner or (second if second and gap <= CLOSE_GAP and _clip_score(second.total) >= ALTERNATIVE_MIN
                             else None)
        return MatchResult(
            chosen.id, chosen.title, chosen.cause, chosen.solution, best_score, alternatives, chosen, confidence,
            _brief(runner) if runner else None, note,
        )

    def _disagreement(self, scored: list[_Scored], evidence: _Evidence) -> tuple[_Scored | None, str | None]:
        """When the text's Visma code belongs to one entry and its words plainly describe another, the other one of
        the two (the best is one of them) and a sentence saying so; else ``(None, None)``."""
        if not evidence.codes:
            return None, None
        code = evidence.codes[0]
        by_code = [s for s in scored if code in s.entry.codes]
        if not by_code:
            return None, None
        code_best = by_code[0]
        words_best = max(enumerate(scored), key=lambda pair: (pair[1].words, -pair[0]))[1]
        code_words = max(s.words for s in by_code)
        if code in words_best.entry.codes or words_best.words < THRESHOLD or words_best.words < code_words + MEDIUM_GAP:
            return None, None
        best = scored[0]
        partner = words_best if best is code_best else code_best
        if best is not code_best and best is not words_best:
            partner = code_best
        note = (
            f"Visma's ErrorCode {code} belongs to '{code_best.entry.title}', but the message's words describe "
            f"'{words_best.entry.title}'. Read both."
        )
        return partner, note


def _default_evidence(light: str, evidence: _Evidence) -> set[str]:
    """The ``default_for`` keys the text's structured evidence names: its Visma code (the entry the catalogue says
    answers that code when the words do not say which), an HTTP status when the text is Visma's or the status means
    one thing from anyone (429, 502-504), and ``transport`` when the HTTP call itself failed."""
    keys: set[str] = set()
    if evidence.codes:
        code = evidence.codes[0]
        keys.add(f"code:{code}")
        keys.update(f"code:{code}@{status}" for status in evidence.statuses)
    visma = bool(_VISMA_RE.search(light))
    for status in evidence.statuses:
        if status >= 400 and (visma or status in _STATUS_ALONE):
            keys.update({f"status:{status}", f"status:{status // 100}xx"})
    if _TRANSPORT_RE.search(light):
        keys.add("transport" if not visma else "transport@visma")
    return keys


def _clip_score(total: float) -> float:
    return round(max(0.0, min(100.0, total)), 1)


def _brief(scored: _Scored) -> dict[str, Any]:
    return {"id": scored.entry.id, "title": scored.entry.title, "score": _clip_score(scored.total)}


# --------------------------------------------------------------------------------------------------- module API


@lru_cache(maxsize=1)
def default_matcher() -> Matcher:
    """The matcher over the shipped catalogue (built once per process)."""
    return Matcher(entries())


def _ranked(text: str) -> list[tuple[float, Entry]]:
    return default_matcher().ranked(text)


def match(text: str) -> MatchResult:
    """The entry that best explains ``text``, or ``id=None`` when no entry reaches :data:`THRESHOLD`.

    ``score`` is the chosen entry's score (0.0 when none is chosen); ``alternatives`` lists up to three other entries
    that scored at least :data:`ALTERNATIVE_MIN`, best first, as ``{"id", "title", "score"}``; ``confidence`` is one
    of :data:`CONFIDENCE`; ``runner_up`` is the close second (or, when the code and the words disagree, the other of
    the two), or ``None``.
    """
    return default_matcher().match(text)


def pattern_hit(entry: Entry, light: str) -> bool:
    """Whether one of the entry's patterns occurs in the normalised text and none of its not_patterns does."""
    item = default_matcher()._by_id[entry.id]
    return any(rx.search(light) for rx in item.patterns) and not any(rx.search(light) for rx in item.not_patterns)

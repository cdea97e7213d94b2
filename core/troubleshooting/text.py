"""How an error text is read before it is matched: normalised (markup, escapes, accents, case and spacing removed),
clipped when it is a whole log, and reduced further for fuzzy similarity."""

from __future__ import annotations

import html
import json
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




# --------------------------------------------------------------------------------------------------- unwrapping

_MESSAGE_KEYS = (
    "developererrormessage", "message", "errormessage", "error_description", "detail", "title", "description",
    "msg", "reason", "error",
)
_JSON_STRING_RE = re.compile(
    r'"(developererrormessage|message|errormessage|error_description|detail|msg)"\s*:\s*"((?:[^"\\]|\\.){1,2000})',
    re.IGNORECASE,
)
_LOG_PREFIX_RE = re.compile(
    r"^\s*\[?\d{4}-\d{2}-\d{2}[ t]\d{2}:\d{2}(?::\d{2})?(?:[.,]\d+)?(?:z|[+-]\d{2}:?\d{2})?\]?\s*"
    r"(?:[\[(]?(?:trace|debug|info|warn|warning|error|err|fatal|critical|crit|fail)[\])]?\s*[:|-]?\s*)?"
    r"(?:[\[(]?[a-z_][\w.-]*(?:\[\d+\])?[\])]?\s*[:|-]\s*)?",
    re.IGNORECASE,
)
_LEVEL_PREFIX_RE = re.compile(
    r"^\s*(?:trace|debug|info|warn|warning|error|fatal|critical|fail)\s*[:|]\s*", re.IGNORECASE
)
_REPR_RE = re.compile(r"\b([A-Z][\w.]*(?:Error|Exception|Warning))\(\s*(['\"])(.{1,2000}?)\2\s*(?:,[^()]*)?\)")
_STATUS_LINE_RE = re.compile(r"^\s*http/\d(?:\.\d)?\s+([1-5]\d\d)\b[^\n]*$", re.IGNORECASE | re.MULTILINE)
_TRACEBACK_FRAME_RE = re.compile(r'^\s*(?:File "[^"\n]*", line \d+.*|Traceback \(most recent call last\):)\s*$',
                                 re.MULTILINE)


def _strings_under_message_keys(data: object, out: list[str], depth: int = 0) -> None:
    if depth > 6:
        return
    if isinstance(data, dict):
        lowered = {str(k).lower(): v for k, v in data.items()}
        for key in _MESSAGE_KEYS:
            value = lowered.get(key)
            if isinstance(value, str) and value.strip():
                out.append(value)
            elif isinstance(value, (dict, list)):
                _strings_under_message_keys(value, out, depth + 1)
        for key, value in lowered.items():
            if key not in _MESSAGE_KEYS and isinstance(value, (dict, list)):
                _strings_under_message_keys(value, out, depth + 1)
    elif isinstance(data, list):
        for item in data[:20]:
            _strings_under_message_keys(item, out, depth + 1)


def _json_messages(text: str) -> list[str]:
    """Messages of the JSON object(s) in a text: parsed when whole, read with a regex when cut short."""
    out: list[str] = []
    start = text.find("{")
    end = text.rfind("}")
    if 0 <= start < end:
        try:
            _strings_under_message_keys(json.loads(text[start : end + 1]), out)
        except (ValueError, RecursionError):  # not JSON, or nested deeper than any error body
            out.clear()
    if not out:
        out.extend(m.group(2).replace('\\"', '"') for m in _JSON_STRING_RE.finditer(text))
    return list(dict.fromkeys(s.strip() for s in out if s.strip()))


def unwrap(text: str) -> str:
    """The error message inside its wrappers, for similarity: the messages of a JSON body (Visma's envelope, an OAuth
    error, a problem document, cut short or not), without markup, log prefixes (time stamp, level, logger),
    traceback frames, HTTP status lines or an exception repr's quotes (``VismaError('...')`` → ``VismaError ...``).

    Nothing is invented: when no wrapper is recognised the text comes back as it was. Codes and names in the
    wrapper are read from the whole text by the matcher, so unwrapping never loses evidence.
    """
    if not text:
        return ""
    if "<" in text:
        text = html.unescape(_TAG_RE.sub(" ", text))
    text = _REPR_RE.sub(lambda m: f"{m.group(1)} {m.group(3)}", text)
    text = _TRACEBACK_FRAME_RE.sub(" ", text)
    text = _STATUS_LINE_RE.sub(" ", text)
    messages = _json_messages(text)
    if messages:
        before = text[: max(0, text.find("{"))]
        return " \n ".join([before.strip(), *messages]).strip()
    lines = [_LEVEL_PREFIX_RE.sub("", _LOG_PREFIX_RE.sub("", line)) for line in text.splitlines()]
    return "\n".join(line for line in lines if line.strip())


# --------------------------------------------------------------------------------------------------- words

_CAMEL_RE = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_WORD_RE = re.compile(r"[a-z]+(?:'[a-z]+)?")
_STOP_WORDS_TEXT = """
    a an the is are was were be been being am to of for in on at by from as with and or but if then than that this
    these those it its it's there here which who whom what when where while so such into onto about over under via per
    do does did done has have had having i you we they he she our your their my me us them can could should would will
    shall may might must please try again also just only any some each every one more most other same very yet still
    de het een en van voor op in is zijn was werd wordt te met aan bij uit of om dat die dit deze er niet
    geen
    error errors thrown throw throws occur occurs occurred happen happens happened exception issue problem get got
    getting receive received return returns returned response message see eg make made makes trying tried specific
    towards toward endpoint endpoints provided contain contains containing certain given fail failed failure
    meer ook wel naar door als maar kan kon worden heeft hebben wordt u je jij we wij ze zij hij"""
STOP_WORDS = frozenset(_STOP_WORDS_TEXT.split())
_NEGATIONS = {
    "not": "not", "no": "not", "never": "not", "cannot": "not", "can't": "not", "isn't": "not", "doesn't": "not",
    "don't": "not", "hasn't": "not", "haven't": "not", "wasn't": "not", "aren't": "not", "won't": "not",
    "couldn't": "not", "didn't": "not", "without": "not", "missing": "not", "niet": "not", "geen": "not",
    "nog": "", "ontbreekt": "not", "ontbreken": "not", "lack": "not", "lacks": "not", "lacking": "not",
    "doesnt": "not", "isnt": "not", "cant": "not", "hasnt": "not", "dont": "not", "wasnt": "not",
}
_SPELLING = (("centre", "center"), ("licence", "license"), ("authoris", "authoriz"), ("organis", "organiz"),
             ("cancell", "cancel"), ("recognis", "recogniz"))
_SUFFIXES = ("ations", "ation", "ated", "ings", "ing", "ies", "ied", "ed", "es", "s", "ate", "e", "y")


def split_camel(name: str) -> str:
    """``FiscalYearDoesNotExist`` → ``Fiscal Year Does Not Exist`` (names in Visma's docs are CamelCase)."""
    return _CAMEL_RE.sub(" ", name)


def stem(word: str) -> str:
    """A crude, deterministic stem: British spellings made American, one common suffix cut (``authorised`` and
    ``authorization`` both give ``authoriz``; ``locked`` gives ``lock``). Good enough to compare error texts."""
    if word in _IN_WORDS:
        return _IN_WORDS[word]
    for british, american in _SPELLING:
        if british in word:
            word = word.replace(british, american)
    if word.startswith("un") and len(word) > 6 and word[2:] in _UN_WORDS:
        return "not " + stem(word[2:])
    for suffix in _SUFFIXES:
        if suffix == "s" and word.endswith(("ss", "us", "is")):
            continue  # access, status, analysis
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            word = word[: -len(suffix)]
            if len(word) > 3 and word[-1] == word[-2] and word[-1] not in "lsz":
                word = word[:-1]  # mapped → mapp → map
            return word
    return word


_IN_WORDS = {"inactive": "not activ", "inactief": "not activ", "actief": "activ", "unable": "not able"}
_UN_WORDS = frozenset({"mapped", "authorized", "authorised", "known", "available", "able", "balanced", "locked",
                       "registered", "linked", "allowed", "expected", "recognized", "recognised", "paid", "used"})


_URL_OR_EMAIL_RE = re.compile(r"\b(?:https?://|www\.)\S+|\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b", re.IGNORECASE)
_SYNONYMS = {
    "link": "map", "koppel": "map", "gekoppeld": "map", "unlink": "not map", "authent": "authoriz",
    # a closed period or year is a locked one (Visma and its Dutch screens say both)
    "clos": "lock", "afgesloten": "lock", "vergrendeld": "lock", "geblokkeerd": "lock",
}  # fmt: skip
_CONTRACTION_RE = re.compile(r"\b(is|are|was|were|has|have|had|does|do|did|could|would|should)n[’']?t\b")
_CANT_RE = re.compile(r"\bcan[’']?t\b|\bcan not\b")
_UN_RE = re.compile(r"\b(?:un)(" + "|".join(sorted(_UN_WORDS)) + r")\b")


_HTTP_TALK_RE = re.compile(
    r"\b(?:request failed with )?status ?code:? ?\d{3}\b|\bhttp(?:/\d(?:\.\d)?)? ?\d{3}\b|\brequest failed\b",
    re.IGNORECASE,
)


def raw_words(text: str) -> list[str]:
    """The lower-case words of a text (CamelCase names split; addresses, links and "status code 400" left out: the
    status is read as evidence of its own), before stemming."""
    text = _HTTP_TALK_RE.sub(" ", _URL_OR_EMAIL_RE.sub(" ", text))
    text = split_camel(text)
    text = unicodedata.normalize("NFKD", text.casefold())
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return _WORD_RE.findall(text.replace("’", "'"))


def word_stems(raw: str) -> list[str]:
    """The stem(s) one raw word stands for: ``[]`` for a stop word, ``["not"]`` for a negation, two for ``unmapped``."""
    if raw in _NEGATIONS:
        return ["not"] if _NEGATIONS[raw] else []
    raw = raw.replace("'", "")
    if raw in STOP_WORDS or len(raw) < 2:
        return []
    return [_SYNONYMS.get(w, w) for w in stem(raw).split()]


def content_words(text: str) -> list[str]:
    """Stemmed content words of a text (stop words out, negations as ``not``, CamelCase names split), in order."""
    return [w for raw in raw_words(text) for w in word_stems(raw)]


def expand_negations(light: str) -> str:
    """``isn't`` → ``is not``, ``can't`` → ``cannot``, ``unmapped`` → ``not mapped``: the words patterns are
    written with, for a normalised text."""
    light = _CONTRACTION_RE.sub(lambda m: f"{m.group(1)} not", light)
    light = _CANT_RE.sub("cannot", light)
    return _UN_RE.sub(lambda m: f"not {m.group(1)}", light)

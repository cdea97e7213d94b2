"""The troubleshooting catalogue: the schema of an entry and ``catalogue.yaml``, loaded and validated once.

The catalogue is data, reviewed like code: one entry per known error with how to recognise it (patterns, Visma
codes and their documented names, OAuth errors, HTTP statuses), why it happens, how to fix it, and the public sources
of its texts (``references``). ``default_for`` names the structured evidence an entry answers when nothing more
specific fits (see ``core.troubleshooting.classify``). A Visma error name belongs to one entry only, and a key written
twice in the file is refused (plain YAML would silently keep the last one).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

CATALOGUE_PATH = Path(__file__).with_name("catalogue.yaml")

FIX_IN = ("visma_portal", "dashboard", "payroll_system")
SEVERITIES = ("error", "warning", "info")
LANGUAGES = ("en", "nl")
SOURCES = ("article", "visma", "dashboard", "authlib", "httpx")
MIN_ENTRIES = 30
# What an entry may be the default answer for: an OAuth error, a Visma code (at an HTTP status), an HTTP status or
# class (5xx), or a transport failure (no answer at all).
_DEFAULT_FOR_RE = re.compile(r"^(?:oauth:[a-z_]+|code:\d{3,5}(?:@\d{3})?|status:(?:\d{3}|\dxx)|transport)$")

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
_OPTIONAL = (
    "not_patterns",
    "steps",
    "example_nl",
    "other_examples",
    "language",
    "source",
    "default_for",
    "names",
    "references",
)
_ID_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
# Visma's error names are identifiers as its error-code page spells them (FiscalYearDoesNotExist).
_NAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
# A reference is a web address, or a citation of a file in a public repository: "<owner>/<repo>@<commit> <path>".
_URL_RE = re.compile(r"^https?://[^\s/]+\.[^\s]+$")
_CITATION_RE = re.compile(r"^[\w.-]+/[\w.-]+@[0-9a-f]{7,40} \S+")


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
    default_for: tuple[str, ...] = ()
    names: tuple[str, ...] = ()
    references: tuple[str, ...] = ()

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
            "names": list(self.names),
            "references": list(self.references),
        }


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


def _where(raw: Any, index: int) -> str:
    """Name the entry in messages, after checking it has exactly the known fields."""
    if not isinstance(raw, dict):
        raise CatalogueError(f"entry #{index}: must be a mapping")
    where = f"entry #{index} ({raw.get('id', '?')})"
    missing = [k for k in _REQUIRED if k not in raw]
    if missing:
        raise CatalogueError(f"{where}: missing field(s) {', '.join(missing)}")
    unknown = sorted(set(raw) - set(_REQUIRED) - set(_OPTIONAL))
    if unknown:
        raise CatalogueError(f"{where}: unknown field(s) {', '.join(unknown)}")
    return where


def _entry_id(raw: dict, where: str) -> str:
    entry_id = _text(raw, "id", where) or ""
    if not _ID_RE.match(entry_id):
        raise CatalogueError(f"{where}: id must be kebab-case (a-z, 0-9, '-')")
    return entry_id


def _regexes(raw: dict, key: str, where: str, *, required: bool) -> tuple[str, ...]:
    patterns = _str_list(raw, key, where, required=required)
    for pattern in patterns:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise CatalogueError(f"{where}: bad regex {pattern!r}: {exc}") from exc
    return patterns


def _choice(raw: dict, key: str, allowed: tuple[str, ...], where: str, default: str | None = None) -> str:
    value = raw.get(key, default)
    if value not in allowed:
        raise CatalogueError(f"{where}: {key} must be one of {', '.join(allowed)}")
    return value


def _statuses(raw: dict, where: str) -> tuple[int, ...]:
    statuses = _int_list(raw, "http_statuses", where)
    if any(not 100 <= s <= 599 for s in statuses):
        raise CatalogueError(f"{where}: http_statuses must be HTTP status codes")
    return statuses


def _language(raw: dict, where: str, example_nl: str | None) -> tuple[str, ...]:
    if "language" not in raw:
        return ("en", "nl") if example_nl else ("en",)
    language = _str_list(raw, "language", where)
    if any(lang not in LANGUAGES for lang in language):
        raise CatalogueError(f"{where}: language tags must be among {', '.join(LANGUAGES)}")
    return language


def _default_for(raw: dict, where: str) -> tuple[str, ...]:
    values = _str_list(raw, "default_for", where, required=False)
    bad = [v for v in values if not _DEFAULT_FOR_RE.match(v)]
    if bad:
        raise CatalogueError(f"{where}: default_for values must look like oauth:invalid_grant, code:2000, "
                             f"code:4002@400, status:401, status:5xx or transport, not {', '.join(bad)}")
    return values


def _names(raw: dict, where: str) -> tuple[str, ...]:
    names = _str_list(raw, "names", where, required=False)
    bad = [n for n in names if not _NAME_RE.match(n)]
    if bad:
        raise CatalogueError(f"{where}: names are Visma's error names as identifiers (FiscalYearDoesNotExist), "
                             f"not {', '.join(bad)}")
    if len({_bare_name(n) for n in names}) != len(names):
        raise CatalogueError(f"{where}: a name is listed twice")
    return names


def _bare_name(name: str) -> str:
    """A name as the matcher compares it: lower case, without an ``Exception``/``Error`` suffix (Visma writes both
    ``VoucherDateIsInLockedYear`` and ``VoucherDateIsInLockedYearException``)."""
    bare = name.lower()
    for suffix in ("exception", "error"):
        if bare.endswith(suffix) and len(bare) - len(suffix) >= 6:
            return bare[: -len(suffix)]
    return bare


def _references(raw: dict, where: str) -> tuple[str, ...]:
    references = _str_list(raw, "references", where, required=False)
    bad = [r for r in references if not (_URL_RE.match(r) or _CITATION_RE.match(r))]
    if bad:
        raise CatalogueError(f"{where}: references must be https:// addresses or '<owner>/<repo>@<commit> <path>' "
                             f"citations, not {', '.join(bad)}")
    return references


def _entry_from_raw(raw: Any, index: int) -> Entry:
    where = _where(raw, index)
    patterns = _regexes(raw, "patterns", where, required=True)
    oauth_errors = tuple(v.lower() for v in _str_list(raw, "oauth_errors", where, required=False))
    if not (patterns or raw.get("codes") or oauth_errors):
        raise CatalogueError(f"{where}: needs at least one pattern, code or OAuth error to be recognisable")
    example_nl = _text(raw, "example_nl", where, required=False)
    return Entry(
        id=_entry_id(raw, where),
        title=_text(raw, "title", where) or "",
        patterns=patterns,
        codes=_int_list(raw, "codes", where),
        oauth_errors=oauth_errors,
        http_statuses=_statuses(raw, where),
        cause=_text(raw, "cause", where) or "",
        solution=_text(raw, "solution", where) or "",
        fix_in=_choice(raw, "fix_in", FIX_IN, where),
        severity=_choice(raw, "severity", SEVERITIES, where),
        example=_text(raw, "example", where) or "",
        example_nl=example_nl,
        other_examples=_str_list(raw, "other_examples", where, required=False),
        not_patterns=_regexes(raw, "not_patterns", where, required=False),
        steps=_str_list(raw, "steps", where, required=False),
        language=_language(raw, where, example_nl),
        source=_choice(raw, "source", SOURCES, where, default="visma"),
        default_for=_default_for(raw, where),
        names=_names(raw, where),
        references=_references(raw, where),
    )


class _UniqueKeyLoader(yaml.SafeLoader):
    """YAML's safe loader, refusing a key written twice in one mapping (plain YAML keeps the last one silently, so a
    second ``references:`` would hide the first)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"the key {key!r} is written twice in one mapping", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _UniqueKeyLoader.construct_mapping)


def load_catalogue(path: Path | str = CATALOGUE_PATH) -> list[Entry]:
    """Read and validate a catalogue file; raises :class:`CatalogueError` saying what is wrong and where."""
    try:
        data = yaml.load(Path(path).read_text(encoding="utf-8"), Loader=_UniqueKeyLoader)  # noqa: S506 - a SafeLoader
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
    owners: dict[str, str] = {}
    for entry in entries:
        for name in entry.names:
            other = owners.setdefault(_bare_name(name), entry.id)
            if other != entry.id:
                raise CatalogueError(f"{path}: the name {name} is on {other} and {entry.id}; a name is strong "
                                     f"evidence for one entry")
    defaults = [evidence for entry in entries for evidence in entry.default_for]
    twice = sorted({evidence for evidence in defaults if defaults.count(evidence) > 1})
    if twice:
        raise CatalogueError(f"{path}: default_for names {', '.join(twice)} on more than one entry")
    if len(entries) < MIN_ENTRIES:
        raise CatalogueError(f"{path}: {len(entries)} entries, at least {MIN_ENTRIES} expected")
    return entries


@lru_cache(maxsize=1)
def entries() -> tuple[Entry, ...]:
    """All entries, in file order, as a tuple (loaded and validated once per process)."""
    return tuple(load_catalogue())


def catalogue() -> list[Entry]:
    """All entries, in file order (loaded and validated once per process)."""
    return list(entries())


@lru_cache(maxsize=1)
def _by_id() -> dict[str, Entry]:
    return {e.id: e for e in entries()}


def get_entry(entry_id: str) -> Entry:
    """The entry with this id; ``KeyError`` when there is none (see :func:`find_entry`)."""
    return _by_id()[entry_id]


def find_entry(entry_id: str | None) -> Entry | None:
    """The entry with this id, or ``None``."""
    return _by_id().get(entry_id) if entry_id else None

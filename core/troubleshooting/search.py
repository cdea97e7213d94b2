"""The searchable table of the Troubleshooting page: every word of a query in an entry's texts, with filters."""

from __future__ import annotations

from functools import lru_cache

from core.troubleshooting.catalogue import Entry, entries
from core.troubleshooting.text import normalize


@lru_cache(maxsize=1)
def _search_texts() -> dict[str, str]:
    out = {}
    for entry in entries():
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
    for position, entry in enumerate(entries()):
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

"""The matcher on its development set (``tests/data/matcher_devset.yaml``): real error texts gathered from public
sources apart from the catalogue, each labelled with the entry a support person would pick.

A text with a catalogue id must land on that entry; a text labelled ``null`` (not a Visma or integration error) must
stay "no known error" — a wrong entry is worse than none. ``pending`` texts are real faults the catalogue has no entry
for yet: they are skipped, with the fault named. ``benchmarks/bench_matcher.py`` prints the same set as figures.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest
import yaml

from core.troubleshooting.catalogue import catalogue
from core.troubleshooting.matcher import match

DEVSET = Path(__file__).resolve().parents[1] / "data" / "matcher_devset.yaml"
PENDING = "pending"

SWEDISH = "Swedish (Spiris) wording: the catalogue has no Swedish texts, names or patterns to compare it with"
DOCS = "Visma's documentation describes the code in words that share almost nothing with the entry's own texts"
OAUTH_STEP = "says which OAuth step failed (get/refresh/exchange a token) but not the grant or error that decides it"
LOOKALIKE = "another vendor's text in the very shape and words of a Visma or OAuth error, with no vendor named"
# Texts the matcher is known to miss, by the first 12 hex digits of the text's SHA-1, with why. Strict: a text that
# starts to match fails here, so the list only shrinks. A new miss is not listed and fails plainly.
KNOWN_MISSES = {
    "94c5917c0ce0": "a Dutch FAQ describes a symptom (green light, nothing sent), not the error",
    "a71c906c0b41": DOCS,
    "bb40d6ca60c9": SWEDISH,
    "18358ef4e5a2": SWEDISH,
    "73e62f8e4db7": OAUTH_STEP,
    "ad90927085b9": OAUTH_STEP,
    "6221479f2cf1": DOCS,
    "ce909c67cacf": DOCS,
    "c707c5869a0b": DOCS,
    "3da63784871e": DOCS,
    "2c82ce1d0a9a": "a changelog sentence naming two codes: the codes outweigh its words about cost centres",
    "b6cc923501f6": DOCS,
    "823c147a26c6": DOCS,
    "0737e2a12785": DOCS,
    "a342ad313a8e": SWEDISH,
    "672c79441f32": SWEDISH,
    "d76e060ec432": SWEDISH,
    "c9b67e0ee133": SWEDISH,
    "a10a7fc7892c": SWEDISH,
    "4b32e186ff65": SWEDISH,
    "9c52fc84b391": SWEDISH,
    "2908e7336625": LOOKALIKE,
    "d196d68f24df": LOOKALIKE,
    "443fdf3cc139": LOOKALIKE,
    "951faaa36191": LOOKALIKE,
}


def digest(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:12]


def _items() -> list[dict]:
    if not DEVSET.exists():
        return []
    data = yaml.safe_load(DEVSET.read_text(encoding="utf-8"))
    items = data.get("texts", []) if isinstance(data, dict) else data
    return [i for i in items or [] if isinstance(i, dict) and isinstance(i.get("text"), str)]


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-")[:40]


def _params() -> list:
    out = []
    for n, item in enumerate(_items(), start=1):
        expected = item.get("expected")
        label = "unknown" if expected is None else expected
        marks = []
        if expected == PENDING:
            marks.append(pytest.mark.skip(reason=f"not catalogued yet: {item.get('fault', 'fault not described')}"))
        elif digest(item["text"]) in KNOWN_MISSES:
            marks.append(pytest.mark.xfail(strict=True, reason=f"known miss: {KNOWN_MISSES[digest(item['text'])]}"))
        out.append(pytest.param(item, id=f"{n:03d}-{label}-{_slug(item['text'])}", marks=marks))
    return out


pytestmark = pytest.mark.skipif(not DEVSET.exists(), reason=f"{DEVSET.name} is not there yet")


def test_known_misses_are_texts_of_the_dev_set():
    texts = {digest(item["text"]) for item in _items()}
    assert not sorted(set(KNOWN_MISSES) - texts), "known misses whose text left the dev set: drop them from the list"


def test_the_dev_set_labels_are_catalogue_ids_null_or_pending():
    ids = {e.id for e in catalogue()}
    unknown_labels = sorted({str(i.get("expected")) for i in _items()} - ids - {"None", PENDING})
    assert not unknown_labels, f"labels that are no catalogue id: {unknown_labels}"


@pytest.mark.parametrize("item", _params())
def test_dev_set_text(item: dict):
    result = match(item["text"])
    expected = item.get("expected")
    if expected is None:
        assert result.id is None, f"named {result.id} for a text that is not a Visma error ({item.get('fault')})"
    else:
        assert result.id == expected, (
            f"{item.get('fault')}: got {result.id} (score {result.score}, runner-up {result.runner_up})"
        )

"""The catalogue tells the truth: every button, tab, page and setting of this product that an entry's texts name
exists in the product.

Convention (catalogue.yaml header): this product's labels are written in double quotes ("Check in Visma now") or in
*asterisks*, its pages as "<Title> page", its settings as VISMA_... names; Visma's own menus and quoted message texts
are in single quotes and are not checked here. The labels are looked up in the string literals of pages/ and ui/
(an f-string label such as ``f"Retry all {n}"`` stands for "Retry all N"), the page names in their ``st.title`` and
the settings in ``core.settings.KEYS``.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import pytest

from core.settings import KEYS
from core.troubleshooting.catalogue import Entry, catalogue

ROOT = Path(__file__).resolve().parents[2]
UI_DIRS = (ROOT / "pages", ROOT / "ui")

_QUOTED = re.compile(r'"([^"\n]{1,80})"|(?<![\w*])\*([^*\n]{1,80})\*(?![\w*])')
_PAGE_OR_TAB = re.compile(r"\b([A-Z][\w-]*(?: [A-Z][\w-]*)*) (page|tab)\b")
_SETTING = re.compile(r"\b(VISMA_[A-Z_]+|[A-Z]{2,}(?:_[A-Z]+)+)\b")


@dataclass(frozen=True)
class Product:
    """What the product's UI source says: its literal strings, its f-string labels (as regexes) and page titles."""

    literals: frozenset[str]
    templates: tuple[re.Pattern[str], ...]
    pages: frozenset[str]

    def has_label(self, label: str) -> bool:
        label = label.strip()
        return label in self.literals or any(t.fullmatch(label) for t in self.templates)

    def has_page(self, name: str) -> bool:
        return name in self.pages

    def has_tab(self, name: str) -> bool:
        return self.has_label(name)


def _template(node: ast.JoinedStr) -> re.Pattern[str] | None:
    parts, literal = [], 0
    for value in node.values:
        if isinstance(value, ast.Constant) and isinstance(value.value, str):
            parts.append(re.escape(value.value))
            literal += len(value.value.strip())
        else:
            parts.append(".+")
    return re.compile("".join(parts)) if literal >= 3 else None


@lru_cache(maxsize=1)
def product() -> Product:
    literals: set[str] = set()
    templates: list[re.Pattern[str]] = []
    pages: set[str] = set()
    for folder in UI_DIRS:
        for path in sorted(folder.rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if isinstance(node, ast.Constant) and isinstance(node.value, str):
                    literals.add(node.value.strip())
                    literals.add(node.value.strip().strip("*").strip())  # "**Retry failed runs, by cause**"
                elif isinstance(node, ast.JoinedStr) and (template := _template(node)):
                    templates.append(template)
                if (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Attribute)
                    and node.func.attr == "title"
                    and node.args
                    and isinstance(node.args[0], ast.Constant)
                ):
                    pages.add(str(node.args[0].value))
    return Product(frozenset(literals), tuple(templates), frozenset(pages))


def user_texts(entry: Entry) -> list[str]:
    return [entry.title, entry.cause, entry.solution, *entry.steps]


def references(text: str) -> list[tuple[str, str]]:
    """(kind, name) of every UI reference in a text: label, page, tab or setting."""
    found = [("label", (m.group(1) or m.group(2)).strip()) for m in _QUOTED.finditer(text)]
    for m in _PAGE_OR_TAB.finditer(text):
        found.append((m.group(2), m.group(1)))
    found += [("setting", m.group(1)) for m in _SETTING.finditer(text)]
    return found


def missing(text: str, where: Product | None = None) -> list[str]:
    """The references of a text the product does not have."""
    where = where or product()
    out = []
    for kind, name in references(text):
        ok = {
            "label": where.has_label,
            "page": where.has_page,
            "tab": where.has_tab,
            "setting": lambda n: n in KEYS,
        }[kind](name)
        if not ok:
            out.append(f"{kind} {name!r}")
    return out


# --------------------------------------------------------------------------------------------- the checker itself


def test_the_product_is_read_from_its_ui_source():
    p = product()
    assert {"Accounts", "Administrations", "Journal Export", "Troubleshooting"} <= p.pages
    assert p.has_label("Check in Visma now")
    assert p.has_label("Retry failed runs, by cause")  # written as **bold** markdown
    assert p.has_label("Retry all N")  # f"Retry all {n}"
    assert not p.has_label("Retry")


def test_the_checker_reports_what_the_product_does_not_have():
    text = (
        '1. Lower the "Bulk send pace" in the dashboard. 2. Open the Settings page and its "Pacing" tab. '
        "3. Set VISMA_SEND_PACE. 4. Click *Send faster*."
    )
    assert missing(text) == [
        "label 'Bulk send pace'",
        "label 'Pacing'",
        "label 'Send faster'",
        "page 'Settings'",
        "setting 'VISMA_SEND_PACE'",
    ]
    good = (
        'Open the Accounts page, click "Re-authorize"; then "Retry all 3" under "Retry failed runs, by cause" on the '
        "\"Send pending\" tab (VISMA_CLIENT_ID). Visma's own 'Apps and extensions' is not ours to check."
    )
    assert missing(good) == []
    assert missing("Open the Journal Export page and its Attempts tab.") == []
    assert missing("Open the Payroll page.") == ["page 'Payroll'"]


def test_the_catalogue_names_enough_of_the_product_for_the_check_to_mean_something():
    names = {name for e in catalogue() for t in user_texts(e) for _, name in references(t)}
    assert len(names) >= 15, names


# --------------------------------------------------------------------------------------------- the catalogue


@pytest.mark.parametrize("entry", catalogue(), ids=lambda e: e.id)
def test_every_button_tab_page_and_setting_an_entry_names_exists(entry: Entry):
    problems = [p for text in user_texts(entry) for p in missing(text)]
    assert problems == [], f"{entry.id} names what the product does not have: {problems}"


def test_no_entry_promises_a_send_pace_setting():
    """Pacing is automatic (core.visma.pacing); there is no setting for it."""
    for entry in catalogue():
        for text in user_texts(entry):
            assert not re.search(r"\bpace\b.{0,40}\bsetting|settings?\b.{0,40}\bpace\b", text, re.I), entry.id

"""The layers of DESIGN.md hold: pages, ui and the CLI reach core only through core.services; core never imports
Streamlit; the sandbox never imports core (it plays Visma, which knows nothing of this product)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _imports(path: Path) -> list[tuple[int, str]]:
    """(line, module) of every import in a file; ``from core import services`` is ``core.services``."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            package = node.module in ("core", "sandbox")
            found += [(node.lineno, f"{node.module}.{alias.name}" if package else node.module) for alias in node.names]
    return found


def _files(*folders: str) -> list[Path]:
    return sorted(p for folder in folders for p in (ROOT / folder).rglob("*.py"))


def _crossing(files: list[Path], wrong) -> list[str]:
    return [f"{p.name}:{line}: {module}" for p in files for line, module in _imports(p) if wrong(module)]


def test_pages_ui_and_the_cli_reach_core_only_through_its_services():
    def around_services(module: str) -> bool:
        return (module == "core" or module.startswith("core.")) and not (
            module == "core.services" or module.startswith("core.cli"))

    assert _crossing(_files("pages", "ui", "core/cli") + [ROOT / "app.py"], around_services) == []


def test_core_never_imports_streamlit():
    assert _crossing(_files("core"), lambda m: m == "streamlit" or m.startswith("streamlit.")) == []


def test_the_sandbox_never_imports_core():
    assert _crossing(_files("sandbox"), lambda m: m == "core" or m.startswith("core.")) == []


@pytest.mark.parametrize("source", ["from core.words import count", "import core.money", "from core import words"])
def test_a_crossing_is_found(tmp_path, source):
    sample = tmp_path / "page.py"
    sample.write_text(source + "\n")
    assert _crossing([sample], lambda m: m.startswith("core.") and m != "core.services") != []

"""Browser helpers for the end-to-end tests: waiting on Streamlit's DOM state, numbered screenshots."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "artifacts" / "e2e"


class Shots:
    """Numbered screenshots in artifacts/e2e/<test name>/ (git-ignored)."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.n = 0
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.glob("*.png"):
            old.unlink()

    def __call__(self, page, step: str) -> Path:
        self.n += 1
        path = self.folder / f"{self.n:02d}-{re.sub(r'[^a-z0-9]+', '-', step.lower()).strip('-')}.png"
        page.screenshot(path=str(path), full_page=True)
        return path


def wait_for_app(page, timeout: float = 30_000) -> None:
    """Wait until Streamlit is connected and the script has finished (never networkidle: the websocket stays open)."""
    page.locator("[data-testid='stAppViewContainer']").wait_for(timeout=timeout, state="attached")
    page.locator("[data-testid='stApp'][data-test-connection-state='CONNECTED']").wait_for(
        timeout=timeout, state="attached")
    page.locator("[data-testid='stApp'][data-test-script-state='notRunning']").wait_for(
        timeout=timeout, state="attached")
    page.locator("[data-testid='stSkeleton']").first.wait_for(state="detached", timeout=timeout)


def css_rgb(locator, prop: str = "background-color") -> tuple[int, int, int]:
    """A computed CSS colour of the element as (r, g, b) (alpha ignored)."""
    value = locator.evaluate(f"e => getComputedStyle(e).getPropertyValue('{prop}')")
    parts = re.findall(r"[\d.]+", value)
    assert len(parts) >= 3, f"{prop} is {value!r}"
    return tuple(round(float(p)) for p in parts[:3])


def colors_in(png: bytes, box: tuple[int, int, int, int] | None = None) -> dict[tuple[int, int, int], int]:
    """How many pixels of each colour a screenshot (or the ``box`` left, top, right, bottom of it) holds: the way to
    read what a canvas (st.dataframe's grid, a Vega chart) painted."""
    from io import BytesIO

    from PIL import Image

    image = Image.open(BytesIO(png)).convert("RGB")
    if box is not None:
        image = image.crop(box)
    return {rgb: n for n, rgb in image.getcolors(maxcolors=1 << 24)}

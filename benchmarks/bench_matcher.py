"""How well, and how fast, the troubleshooting matcher finds the entry behind an error text.

Three parts, each printed as figures:

1. **dev set** (``tests/data/matcher_devset.yaml``, real error texts from public sources, gathered apart from the
   catalogue): top-1 on texts that have an entry, wrong entries named for texts that must stay unknown, precision
   and recall, and what the matcher says of texts whose fault is not catalogued yet (``expected: pending``).
   Targets: top-1 >= 95 % on texts with an entry, 0 wrong entries on texts without one.
2. **k-fold cross-validation over the catalogue**: each entry's examples and patterns are split in k folds; for each
   fold a matcher is built without that fold and scores the held-out examples. Matching one's own examples is
   memorisation; this shows what is left when the text was never seen.
3. **timing**: median and p99 ms per text over every catalogue example and its variants (case, spacing, other ids,
   JSON wrapper on/off, log line, e-mail, cut short) and over the dev set. Target: <= 2 ms per text.

Run: ``.venv/bin/python benchmarks/bench_matcher.py [--repeat N] [--folds K] [--verbose]``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import re
import statistics
import sys
import time
import uuid
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.troubleshooting.catalogue import Entry, catalogue  # noqa: E402
from core.troubleshooting.matcher import Matcher, match  # noqa: E402

DEVSET = ROOT / "tests" / "data" / "matcher_devset.yaml"
PENDING = "pending"

_GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_NUMBER = re.compile(r"(?<![\w.])\d+")


def unwrap(text: str) -> str:
    """The message inside a JSON body (Visma envelope, Visma.net ``message`` or OAuth error), else the text."""
    try:
        data = json.loads(text)
    except ValueError:
        return json.dumps({"message": text})
    if isinstance(data, dict):
        if "DeveloperErrorMessage" in data:
            return str(data["DeveloperErrorMessage"])
        if "message" in data:
            return str(data["message"])
        if "error" in data:
            return f"{data['error']}: {data.get('error_description', '')}".strip(": ")
    return text


def change_ids(text: str, entry: Entry) -> str:
    """New GUIDs; other numbers shifted, except the entry's own error codes and HTTP statuses."""
    keep = {str(c) for c in entry.codes} | {str(s) for s in entry.http_statuses}
    text = _GUID.sub(lambda _: str(uuid.UUID(int=0x1234_5678_9ABC_4DEF_8123_456789ABCDEF)), text)
    return _NUMBER.sub(lambda m: m.group(0) if m.group(0) in keep else str(int(m.group(0)) + 7), text)


def variants(entry: Entry) -> list[tuple[str, str]]:
    """(label, text) pairs: the main example cut to 70 %, and each example with its case, spacing, id, wrapper and
    context variants."""
    out: list[tuple[str, str]] = [("0:truncated", entry.example[: max(1, int(len(entry.example) * 0.7))])]
    for n, example in enumerate(entry.examples):
        out += [
            (f"{n}:as-is", example),
            (f"{n}:upper", example.upper()),
            (f"{n}:lower", example.lower()),
            (f"{n}:spaces", example.replace(" ", "   ")),
            (f"{n}:wrapped-lines", example.replace(". ", ".\n    ").replace(", ", ",\n")),
            (f"{n}:ids-changed", change_ids(example, entry)),
            (f"{n}:json-toggled", unwrap(example)),
            (f"{n}:log-line", f"2026-03-31 12:00:01,123 ERROR core.export: send of run 2026-03 failed: {example} (2)"),
            (f"{n}:email-nl", f"Hoi support,\n\nBij het versturen krijgen we:\n\n> {example}\n\nGroet, Joost"),
            (f"{n}:email-en", f"Hi team,\nwe get this when sending:\n\n{example}\n\nThanks, Anna"),
        ]
    return out


def _p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


def _pct(part: int, whole: int) -> str:
    return f"{100.0 * part / whole:5.1f} %" if whole else "    - "


def _timed(fn, text: str, repeat: int) -> tuple[object, float]:
    runs = []
    result = None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn(text)
        runs.append((time.perf_counter() - start) * 1000)
    return result, statistics.median(runs)


# --------------------------------------------------------------------------------------------------- 1. dev set


def load_devset(path: Path = DEVSET) -> list[dict]:
    """The dev set's texts (``[]`` when the file is not there yet)."""
    if not path.exists():
        return []
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    items = data.get("texts", data.get("items", [])) if isinstance(data, dict) else data
    return [item for item in items or [] if isinstance(item, dict) and isinstance(item.get("text"), str)]


def devset_report(items: list[dict], repeat: int, verbose: bool) -> list[float]:
    """Print the dev-set figures; returns the per-text times (ms)."""
    ids = {e.id for e in catalogue()}
    answered = [(item, *_timed(match, item["text"], repeat)) for item in items]
    with_entry = [(i, r) for i, r, _ in answered if i.get("expected") in ids]
    must_stay_unknown = [(i, r) for i, r, _ in answered if i.get("expected") is None]
    pending = [(i, r) for i, r, _ in answered if i.get("expected") == PENDING]
    other = len(answered) - len(with_entry) - len(must_stay_unknown) - len(pending)
    correct = sum(r.id == i["expected"] for i, r in with_entry)
    missed = sum(r.id is None for _, r in with_entry)
    wrong = len(with_entry) - correct - missed
    false_named = sum(r.id is not None for _, r in must_stay_unknown)
    named = correct + wrong + false_named
    print(f"dev set: {DEVSET.relative_to(ROOT)}: {len(items)} texts — {len(with_entry)} with a catalogue entry, "
          f"{len(must_stay_unknown)} that must stay unknown, {len(pending)} pending (fault not catalogued yet)"
          + (f", {other} with an id the catalogue does not have" if other else ""))
    print(f"  top-1 on texts with an entry: {correct}/{len(with_entry)} = {_pct(correct, len(with_entry))}"
          f"   (wrong entry {wrong}, unknown {missed})   target >= 95 %")
    print(f"  texts without an entry named anyway: {false_named}/{len(must_stay_unknown)}   target 0")
    print(f"  precision (named answers that are right): {correct}/{named} = {_pct(correct, named)}   "
          f"recall: {_pct(correct, len(with_entry))}")
    _print_by_confidence(with_entry + must_stay_unknown)
    if pending:
        said: dict[str, int] = {}
        for _, result in pending:
            said[result.id or "(unknown)"] = said.get(result.id or "(unknown)", 0) + 1
        listing = ", ".join(f"{k} {v}" for k, v in sorted(said.items(), key=lambda kv: (-kv[1], kv[0])))
        print(f"  pending (has an entry, not yet catalogued): {len(pending)} texts; the matcher says: {listing}")
    lines = [_miss_line(i, r) for i, r in with_entry + must_stay_unknown if r.id != i.get("expected")]
    if verbose:
        for line in lines:
            print(line)
    elif lines:
        print(f"  ({len(lines)} misses; --verbose lists them)")
    return [ms for _, _, ms in answered]


def _print_by_confidence(answered: list[tuple[dict, object]]) -> None:
    tally: dict[str, list[int]] = {}  # confidence -> [right, named]
    for item, result in answered:
        if result.id is not None:
            counts = tally.setdefault(result.confidence, [0, 0])
            counts[0] += result.id == item.get("expected")
            counts[1] += 1
    if tally:
        print("  named answers that are right, by confidence: " + ", ".join(
            f"{level} {tally[level][0]}/{tally[level][1]}" for level in ("high", "medium", "low") if level in tally))


def _miss_line(item: dict, result) -> str:
    text = item["text"][:90]
    if item.get("expected") is None:
        return f"  NAMED    want unknown, got {result.id} ({result.score}) {text!r}"
    if result.id is None:
        return f"  unknown  want {item['expected']:<28} ({_runner(result)}) {text!r}"
    return f"  WRONG    want {item['expected']:<28} got {result.id} {text!r}"


def _runner(result) -> str:
    return f"closest {result.runner_up['id']} {result.runner_up['score']}" if result.runner_up else "nothing close"


# --------------------------------------------------------------------------------------------------- 2. k-fold


def _without_fold(entry: Entry, fold: int, folds: int) -> tuple[Entry, list[str]]:
    """The entry without its examples and patterns of ``fold``, and the held-out examples."""
    examples = list(entry.examples)
    kept = [x for n, x in enumerate(examples) if n % folds != fold]
    held = [x for n, x in enumerate(examples) if n % folds == fold]
    patterns = tuple(p for n, p in enumerate(entry.patterns) if n % folds != fold)
    reduced = dataclasses.replace(
        entry,
        example=kept[0] if kept else "",
        example_nl=None,
        other_examples=tuple(kept[1:]),
        patterns=patterns,
    )
    return reduced, held


def kfold_report(folds: int, verbose: bool) -> None:
    entries = catalogue()
    correct = wrong = missed = total = 0
    lines: list[str] = []
    for fold in range(folds):
        reduced, held_out = [], []
        for entry in entries:
            kept, held = _without_fold(entry, fold, folds)
            reduced.append(kept)
            held_out.extend((entry.id, text) for text in held)
        matcher = Matcher(reduced)
        for entry_id, text in held_out:
            total += 1
            result = matcher.match(text)
            if result.id == entry_id:
                correct += 1
            elif result.id is None:
                missed += 1
                lines.append(f"  fold {fold}: unknown  want {entry_id:<28} {text[:90]!r}")
            else:
                wrong += 1
                lines.append(f"  fold {fold}: WRONG    want {entry_id:<28} got {result.id} {text[:90]!r}")
    print(f"{folds}-fold cross-validation over the catalogue (examples and patterns held out, matcher rebuilt "
          f"without them): {total} held-out examples")
    print(f"  top-1 {correct}/{total} = {_pct(correct, total)}   wrong entry {wrong} ({_pct(wrong, total)})   "
          f"unknown {missed} ({_pct(missed, total)})")
    if verbose:
        for line in lines:
            print(line)


# --------------------------------------------------------------------------------------------------- 3. timing


def catalogue_timing(repeat: int) -> tuple[list[float], list[str], int]:
    cases = [(e.id, label, text) for e in catalogue() for label, text in variants(e)]
    per_message: list[float] = []
    wrong: list[str] = []
    for entry_id, label, text in cases:
        result, ms = _timed(match, text, repeat)
        per_message.append(ms)
        if result.id != entry_id:
            wrong.append(f"{entry_id} [{label}] -> {result.id} ({result.score})")
    return per_message, wrong, len(cases)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=5, help="times each message is matched (default 5)")
    parser.add_argument("--folds", type=int, default=3, help="folds of the cross-validation (default 3)")
    parser.add_argument("--verbose", action="store_true", help="list every miss")
    args = parser.parse_args()
    match("warm-up")

    items = load_devset()
    dev_times: list[float] = []
    if items:
        dev_times = devset_report(items, args.repeat, args.verbose)
    else:
        print(f"dev set: {DEVSET.relative_to(ROOT)} not found; skipped")
    print()
    kfold_report(args.folds, args.verbose)
    print()
    per_message, wrong, count = catalogue_timing(args.repeat)
    print(f"catalogue examples and variants: {count} messages (x{args.repeat} runs), entries: {len(catalogue())}; "
          f"matched to their own entry: {count - len(wrong)}/{count}")
    for line in wrong:
        print("  miss:", line)
    print(f"  per message (median of its runs): median {statistics.median(per_message):.3f} ms, "
          f"p99 {_p99(per_message):.3f} ms, max {max(per_message):.3f} ms   target <= 2 ms")
    if dev_times:
        print(f"  dev set texts: median {statistics.median(dev_times):.3f} ms, p99 {_p99(dev_times):.3f} ms, "
              f"max {max(dev_times):.3f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

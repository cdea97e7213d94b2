"""``errors`` commands: match a pasted error text to its troubleshooting entry, list the catalogue.

Support staff and scripts use these without the dashboard. ``match`` exits 0 whether or not an entry fits — "no
known error" is an answer, not a failure; scripts read ``"id": null`` from ``--json``, and ``"confidence"`` /
``"runner_up"`` to know when a person should read two entries. Exit code 2 only for usage errors (typer's own).
"""

from __future__ import annotations

import json
import re
import sys
import textwrap

import typer

from core import services
from core.services import MatchResult

errors_app = typer.Typer(
    help="Troubleshooting: find the known error behind a message, or list the catalogue.",
    no_args_is_help=True,
    add_completion=False,
)

_WIDTH = 100
_NUMBERED = re.compile(r"^\d+\. ")


def _dump(data: object) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2))


def _paragraph(label: str, text: str) -> str:
    body = "\n".join(
        textwrap.fill(
            line.strip(),
            width=_WIDTH,
            initial_indent="  ",
            subsequent_indent="     " if _NUMBERED.match(line.strip()) else "  ",
        )
        if line.strip()
        else ""
        for line in text.splitlines()
    )
    return f"{label}:\n{body}"


def _human_match(result: MatchResult) -> str:
    lines: list[str] = []
    runner = result.runner_up
    if result.entry is None:
        lines.append("No known error matches this text.")
        if runner:
            lines.append(f"Closest entry, not close enough to name: {runner['title']}  [{runner['id']}]  "
                         f"score {runner['score']:.1f}")
    else:
        entry = result.entry
        lines.append(f"{entry.title}  [{entry.id}]  score {result.score:.1f}  confidence {result.confidence}")
        if result.confidence == "low":
            lines.append(f"Not sure: {result.note or services.MATCH_CONFIDENCE['low']}")
        if runner:
            lines.append(f"Runner-up: {runner['title']}  [{runner['id']}]  score {runner['score']:.1f}")
        lines.append(f"Fix in: {entry.fix_in.replace('_', ' ')}   severity: {entry.severity}")
        lines.append("")
        lines.append(_paragraph("Cause", entry.cause))
        lines.append("")
        lines.append(_paragraph("Solution", entry.solution))
        if entry.steps:
            lines.append("")
            lines.append(_paragraph("Steps", "\n".join(f"{i}. {s}" for i, s in enumerate(entry.steps, 1))))
    if result.alternatives:
        lines.append("")
        lines.append("Other possibilities:" if result.entry else "Closest entries (below the threshold):")
        lines.extend(f"  - {a['title']}  [{a['id']}]  score {a['score']:.1f}" for a in result.alternatives)
    return "\n".join(lines)


@errors_app.command("match")
def match_command(
    text: str = typer.Argument(..., help="The error text; '-' reads it from standard input."),
    as_json: bool = typer.Option(
        False,
        "--json",
        help='Print {"id", "title", "cause", "solution", "score", "alternatives", "confidence", "runner_up"}; "id" is '
        'null when no entry fits; confidence is high, medium, low or none; runner_up is {"id", "title", "score"} of '
        "a close second (or of the entry the Visma code points to when the words say otherwise), else null.",
    ),
) -> None:
    """Find the troubleshooting entry for an error text (Visma body, log line, e-mail; Dutch or English).

    Exits 0 also when nothing fits: the output then says so (``"id": null`` with --json).
    """
    if text == "-":
        text = sys.stdin.read()
    result = services.match(text)
    if as_json:
        _dump(result.to_report())
    else:
        typer.echo(_human_match(result))


@errors_app.command("list")
def list_command(
    as_json: bool = typer.Option(False, "--json", help="Print every entry with all its fields as a JSON list."),
) -> None:
    """List the troubleshooting catalogue."""
    entries = services.catalogue()
    if as_json:
        _dump([e.to_dict() for e in entries])
        return
    id_width = max(len(e.id) for e in entries)
    fix_width = max(len(e.fix_in) for e in entries)
    typer.echo(f"{'ID':<{id_width}}  {'FIX IN':<{fix_width}}  {'SEVERITY':<8}  {'CODES':<15}  TITLE")
    for e in entries:
        codes = ",".join(str(c) for c in e.codes) or ",".join(e.oauth_errors) or "-"
        typer.echo(f"{e.id:<{id_width}}  {e.fix_in:<{fix_width}}  {e.severity:<8}  {codes:<15}  {e.title}")
    typer.echo(f"\n{len(entries)} entries. Details: errors list --json")

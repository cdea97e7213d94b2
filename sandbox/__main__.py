"""``python -m sandbox --port 8765 [--host 127.0.0.1] [--db FILE] [--redirect-uri URI]… [--state C=STATE]…
[--fault C:NAME=VALUE]… [--exit-with-parent]`` serves the sandbox.

``--exit-with-parent``: the process that started the sandbox keeps a pipe to its stdin open; when that process ends,
however it ends (even SIGKILL), the operating system closes the pipe and the sandbox exits at once, freeing its port.
A pipe works on every OS, unlike Linux's ``PR_SET_PDEATHSIG``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
from typing import Any

import uvicorn

from sandbox import seed
from sandbox.app import check_overrides, create_app
from sandbox.store import Store


def company_id(text: str) -> str:
    """A seeded company's GUID, or the name of its constant in sandbox/seed.py (``TRANSPORT``, any case)."""
    constant = getattr(seed, text.upper(), None)
    if isinstance(constant, str) and constant in {c["id"] for c in seed.COMPANIES}:
        return constant
    return text.lower()


def parse_overrides(states: list[str], faults: list[str]) -> dict[str, dict[str, Any]]:
    """``--state TRANSPORT=read_only`` and ``--fault TRANSPORT:http_error=503`` → create_app's ``companies``."""
    out: dict[str, dict[str, Any]] = {}
    for item in states:
        company, sep, state = item.partition("=")
        if not sep or not state:
            raise ValueError(f"--state {item!r}: use COMPANY=STATE, e.g. TRANSPORT=read_only")
        out.setdefault(company_id(company), {})["state"] = state
    for item in faults:
        company, sep, rest = item.partition(":")
        name, sep2, raw = rest.partition("=")
        if not sep or not sep2 or not name:
            raise ValueError(f"--fault {item!r}: use COMPANY:NAME=VALUE, e.g. TRANSPORT:http_error=503")
        try:
            value = json.loads(raw)
        except ValueError:
            raise ValueError(f"--fault {item!r}: the value must be a number or null") from None
        out.setdefault(company_id(company), {}).setdefault("faults", {})[name] = value
    return out


def exit_when_stdin_closes(stdin: Any = None) -> threading.Thread:
    """Exit this process as soon as ``stdin`` (the parent's end of the pipe) reaches end of file."""

    def watch() -> None:
        stream = stdin if stdin is not None else sys.stdin.buffer
        try:
            while stream.read(4096):
                pass  # the parent never writes; anything it does is ignored
        except (OSError, ValueError):
            pass
        os._exit(0)  # uvicorn runs in the main thread; the state is in committed SQLite transactions

    thread = threading.Thread(target=watch, name="exit-with-parent", daemon=True)
    thread.start()
    return thread


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m sandbox", description="Local stand-in for Visma eAccounting.")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--db", metavar="FILE", help="SQLite file: keeps state across restarts, shared by processes")
    parser.add_argument("--redirect-uri", action="append", default=[], metavar="URI",
                        help="register another redirect URI for the seeded client (repeatable)")
    parser.add_argument("--state", action="append", default=[], metavar="COMPANY=STATE",
                        help="seed a company in a state (GUID or seed constant, e.g. TRANSPORT=read_only; repeatable)")
    parser.add_argument("--fault", action="append", default=[], metavar="COMPANY:NAME=VALUE",
                        help="seed a company with a fault (e.g. TRANSPORT:http_error=503; repeatable)")
    parser.add_argument("--log-level", default="info")
    parser.add_argument("--exit-with-parent", action="store_true",
                        help="exit when stdin closes: the parent keeps a pipe open to it for as long as it lives")
    args = parser.parse_args(argv)
    try:
        companies = check_overrides(parse_overrides(args.state, args.fault))
    except ValueError as exc:
        parser.error(str(exc))
    if args.exit_with_parent:
        exit_when_stdin_closes()
    app = create_app(Store(args.db), args.redirect_uri, companies=companies)
    print(f"Visma sandbox on http://{args.host}:{args.port}/  (client {seed.CLIENT_ID}; users' password "
          f"{seed.PASSWORD}; admin API under /_sandbox/)", flush=True)
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level, lifespan="off", http="h11")


if __name__ == "__main__":
    main()

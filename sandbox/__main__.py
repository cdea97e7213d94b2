"""``python -m sandbox --port 8765 [--host 127.0.0.1] [--db FILE] [--redirect-uri URI]…`` serves the sandbox."""

from __future__ import annotations

import argparse

import uvicorn

from sandbox import seed
from sandbox.app import create_app
from sandbox.store import Store


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m sandbox", description="Local stand-in for Visma eAccounting.")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--db", metavar="FILE", help="SQLite file: keeps state across restarts, shared by processes")
    parser.add_argument("--redirect-uri", action="append", default=[], metavar="URI",
                        help="register another redirect URI for the seeded client (repeatable)")
    parser.add_argument("--log-level", default="info")
    args = parser.parse_args(argv)
    app = create_app(Store(args.db), args.redirect_uri)
    print(f"Visma sandbox on http://{args.host}:{args.port}/  (client {seed.CLIENT_ID}; users' password "
          f"{seed.PASSWORD}; admin API under /_sandbox/)", flush=True)
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level, lifespan="off", http="h11")


if __name__ == "__main__":
    main()

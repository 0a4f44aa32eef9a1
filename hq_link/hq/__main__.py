"""`python -m hq_link.hq [--config hq.toml] [--listen ADDR] [--database URL]`.

Config file (TOML): `[hq] listen = "0.0.0.0:50061"`, `database =
"postgresql+psycopg://tillpoint@/tillpoint_hq"` (or "sqlite:///var/hq.db" for a
demo). Environment overrides: TILLPOINT_HQ_LISTEN, TILLPOINT_HQ_DATABASE.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
import tomllib
from pathlib import Path

from hq_link.hq.server import build_server

DEFAULT_LISTEN = "127.0.0.1:50061"
DEFAULT_DATABASE = "sqlite:///var/hq.db"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m hq_link.hq", description="Tillpoint HQ server")
    p.add_argument("--config", help="TOML file with an [hq] section")
    p.add_argument("--listen", help=f"host:port (default {DEFAULT_LISTEN})")
    p.add_argument("--database", help=f"SQLAlchemy URL (default {DEFAULT_DATABASE})")
    p.add_argument("--log-level", default="INFO")
    args = p.parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    section: dict = {}
    if args.config:
        try:
            section = tomllib.loads(Path(args.config).read_text(encoding="utf-8")).get("hq", {})
        except (OSError, tomllib.TOMLDecodeError) as exc:
            print(f"hq: config {args.config}: {exc}", file=sys.stderr)
            return 2
    listen = (
        args.listen
        or os.environ.get("TILLPOINT_HQ_LISTEN")
        or section.get("listen")
        or DEFAULT_LISTEN
    )
    database = (
        args.database
        or os.environ.get("TILLPOINT_HQ_DATABASE")
        or section.get("database")
        or DEFAULT_DATABASE
    )
    if database.startswith("sqlite:///") and not database.startswith("sqlite:////"):
        Path(database.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    server = build_server(database, listen)
    server.start()
    # Tests and operators wait for this line.
    print(f"hq listening on {server.address}", flush=True)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    stop.wait()
    server.stop(grace=5.0)
    return 0


if __name__ == "__main__":
    sys.exit(main())

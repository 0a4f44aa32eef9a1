"""`python -m store_server --config FILE`: run the store server until signalled."""

from __future__ import annotations

import argparse
import gc
import logging
import signal
import sys
import threading

from store_server.app import build_server
from store_server.config import ConfigError, load_config


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="store_server", description=__doc__)
    parser.add_argument("--config", help="TOML configuration file")
    parser.add_argument("--log-level", default="INFO")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        config = load_config(args.config)
    except ConfigError as exc:
        print(f"store_server: {exc}", file=sys.stderr)
        return 2
    store = build_server(config)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    store.start()
    # Objects alive after start-up (modules, statements, the catalog cache)
    # live for good: keep them out of every GC pass, and collect less often,
    # which trims the scan's tail latency (measured by `make bench`).
    gc.freeze()
    gc.set_threshold(20_000, 20, 20)
    print(
        f"Tillpoint store {config.store_id} listening on {store.address} "
        f"(database {config.database})",
        flush=True,
    )
    stop.wait()
    print("stopping: finishing calls in flight, closing the database", flush=True)
    store.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())

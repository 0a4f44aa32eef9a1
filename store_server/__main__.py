"""`python -m store_server --config FILE`: run the store server until signalled."""

from __future__ import annotations

import argparse
import gc
import logging
import signal
import sys
import threading

from store_server.app import MigrationFailed, build_server
from store_server.appliance.journal import JournalHandler, journal_wanted
from store_server.appliance.main_loop import run_main_loop
from store_server.appliance.sd_notify import Notifier
from store_server.config import ConfigError, load_config

log = logging.getLogger("store_server")
# The unit's RestartPreventExitStatus: restarting cannot fix a failed migration.
MIGRATION_FAILED_EXIT = 3


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="store_server", description=__doc__)
    parser.add_argument("--config", help="TOML configuration file")
    parser.add_argument("--log-level", default="INFO")
    args = parser.parse_args(argv)
    try:
        config = load_config(args.config)
    except ConfigError as exc:
        print(f"store_server: {exc}", file=sys.stderr)
        return 2
    if journal_wanted():  # under systemd: structured fields, no timestamps twice
        handler = JournalHandler(
            "tillpoint-store", static_fields={"TILLPOINT_STORE_ID": config.store_id}
        )
        logging.basicConfig(level=args.log_level.upper(), handlers=[handler])
    else:
        logging.basicConfig(
            level=args.log_level.upper(),
            format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        )
    # Under systemd (Type=notify): READY=1 once migrated and serving,
    # WATCHDOG=1 from the main loop; elsewhere these do nothing.
    notifier = Notifier()
    try:
        store = build_server(config)
    except MigrationFailed as exc:
        log.error("%s", exc)
        notifier.notify(STATUS=f"migration failed: {exc}")
        print(f"store_server: {exc}", file=sys.stderr, flush=True)
        return MIGRATION_FAILED_EXIT
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
    store.monitor.on_change = lambda text: notifier.notify(STATUS=text)
    notifier.notify(READY=1, STATUS=f"{store.monitor.status_text} on {store.address}")
    run_main_loop(
        stop,
        check=store.monitor.check,
        notifier=notifier,
        health_interval=config.appliance.health_interval_seconds,
    )
    notifier.notify(STOPPING=1, STATUS="stopping")
    print("stopping: finishing calls in flight, closing the database", flush=True)
    store.stop()
    notifier.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""`python -m hq_link.agent --config /etc/tillpoint/hq_link.toml`: ship the
store's change log to HQ until stopped (SIGTERM/SIGINT)."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading

from hq_link.agent.config import load_agent_config
from hq_link.agent.masterdata_pull import MasterDataPull, settings
from hq_link.agent.member_pull import MemberPull, pull_seconds
from hq_link.agent.outbox import StoreOutbox
from hq_link.agent.shipper import Shipper
from store_server.config import ConfigError


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m hq_link.agent", description="Tillpoint HQ link agent"
    )
    p.add_argument("--config", required=True, help="hq_link.toml")
    p.add_argument("--log-level", default="INFO")
    args = p.parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stdout,
    )
    try:
        config = load_agent_config(args.config)
        outbox = StoreOutbox(config.database)
    except (ConfigError, FileNotFoundError) as exc:
        print(f"hq_link.agent: {exc}", file=sys.stderr)
        return 2
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    # One card (一卡通): other stores' member changes down, on a thread of its own.
    pull = MemberPull(config, every_seconds=pull_seconds(args.config))
    threading.Thread(target=pull.run, args=(stop,), name="member-pull", daemon=True).start()
    # Master data down (products, prices, promotions, ...), on a thread of its own.
    md_every, md_zone = settings(args.config)
    md_pull = MasterDataPull(config, zone=md_zone, every_seconds=md_every)
    threading.Thread(target=md_pull.run, args=(stop,), name="masterdata-pull", daemon=True).start()
    try:
        Shipper(config, outbox).run(stop)
    finally:
        outbox.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())

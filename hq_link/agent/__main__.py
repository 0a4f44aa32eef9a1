"""`python -m hq_link.agent --config /etc/tillpoint/hq_link.toml`: ship the
store's change log to HQ until stopped (SIGTERM/SIGINT)."""

from __future__ import annotations

import argparse
import gc
import logging
import signal
import sys
import threading

from hq_link.agent.config import AgentConfig, load_agent_config
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
    shipper = Shipper(config, outbox)
    failed: list[BaseException] = []

    def ship() -> None:
        try:
            shipper.run(stop)
        except BaseException as exc:  # re-raised on the main thread below
            failed.append(exc)
            stop.set()

    # The shipping runs on a thread of its own and the main thread only joins it:
    # a signal handler runs on the main thread, and `stop.set()` there while the
    # main thread was inside `stop.wait()` deadlocked on the event's own lock
    # (an agent that ignored SIGTERM, seen under load).
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    # The pulls start on a thread of their own: they need the store server's
    # database layer (a second or two of imports), and the shipping need not
    # wait for that (a store back from a day offline has a backlog to send).
    threading.Thread(
        target=_start_pulls, args=(config, args.config, stop), name="pulls", daemon=True
    ).start()
    # Batches of thousands of rows: collect cycles less often (see hq_link.hq.__main__).
    gc.freeze()
    gc.set_threshold(10_000, 50, 100)
    thread = threading.Thread(target=ship, name="shipper")
    thread.start()
    try:
        while thread.is_alive():
            thread.join(0.5)
    finally:
        stop.set()
        thread.join()
        outbox.close()
    if failed:
        raise failed[0]
    return 0


def _start_pulls(config: AgentConfig, config_path: str, stop: threading.Event) -> None:
    from hq_link.agent.masterdata_pull import MasterDataPull, settings
    from hq_link.agent.member_pull import MemberPull, pull_seconds

    # One card (一卡通): other stores' member changes down, on a thread of its own.
    pull = MemberPull(config, every_seconds=pull_seconds(config_path))
    threading.Thread(target=pull.run, args=(stop,), name="member-pull", daemon=True).start()
    # Master data down (products, prices, promotions, ...), on a thread of its own.
    md_every, md_zone = settings(config_path)
    md_pull = MasterDataPull(config, zone=md_zone, every_seconds=md_every)
    threading.Thread(target=md_pull.run, args=(stop,), name="masterdata-pull", daemon=True).start()


if __name__ == "__main__":
    sys.exit(main())

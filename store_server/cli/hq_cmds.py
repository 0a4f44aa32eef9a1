"""storectl hq status: how far the HQ link agent has shipped this store's change log."""

from __future__ import annotations

import argparse
import sqlite3

from hq_link.agent.outbox import StoreOutbox
from store_server.appliance.doctor import check_hq_link_agent
from store_server.clock import SystemClock
from store_server.config import Config
from store_server.db.database import Database


def cmd_hq_status(cfg: Config, db: Database, args: argparse.Namespace) -> int:
    outbox = StoreOutbox(cfg.database)
    try:
        lag = outbox.lag(SystemClock().now())
    finally:
        outbox.close()
    print(
        f"store {cfg.store_id}: HQ has the change log up to seq {lag.shipped_seq:,} "
        f"of {lag.last_seq:,}"
    )
    if lag.rows:
        print(f"lag: {lag.rows:,} change(s) not yet at HQ, oldest {lag.seconds:,.0f} s")
    else:
        print("lag: 0 changes, 0 s (every change is at HQ)")
    try:
        agent = check_hq_link_agent(cfg, SystemClock().now())
    except sqlite3.Error as exc:
        print(f"agent: state unreadable ({exc})")
    else:
        # HQ's address, mTLS or plaintext, last contact and any current error.
        print(f"agent: {agent.detail}" if agent is not None else "agent: has never run here")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add `hq` to storectl."""
    hq = sub.add_parser("hq", help="the HQ link").add_subparsers(dest="hq_cmd", required=True)
    hq.add_parser("status", help="replication lag to HQ (rows and seconds)").set_defaults(
        fn=cmd_hq_status
    )

"""The agent's one-card pull (一卡通): other stores' members and ledger entries
down from HQ, applied to the store's database with the cursor in one
transaction (store_server.members.foreign), never into the change log.

Runs beside the shipper on its own thread and channel, every
`member_pull_seconds` (default 2 s; [hq_link] member_pull_seconds), all pages
until HQ has nothing newer. Every answer from HQ is recorded as the store's
last contact with HQ: the offline floor limit reads it.
"""

from __future__ import annotations

import logging
import random
import sqlite3
import threading
import tomllib
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import grpc

from hq_link.agent.channel import hq_channel
from hq_link.agent.config import AgentConfig
from hq_link.agent.link_state import LinkRecorder
from hq_link.security.tls import TlsConfigError
from store_server.members.foreign import ForeignChange, apply_changes, pulled_rev
from tillpoint.hq.v1 import onecard_pb2, onecard_pb2_grpc

log = logging.getLogger("hq_link.agent.member_pull")
BUSY_TIMEOUT_S = 10.0
PAGE = 1_000
DEFAULT_PULL_SECONDS = 2.0


def pull_seconds(config_path: Path | str) -> float:
    """[hq_link] member_pull_seconds (a positive number; default 2)."""
    try:
        section = tomllib.loads(Path(config_path).read_text(encoding="utf-8")).get("hq_link", {})
    except (OSError, tomllib.TOMLDecodeError):
        return DEFAULT_PULL_SECONDS
    value = section.get("member_pull_seconds", DEFAULT_PULL_SECONDS)
    if not isinstance(value, int | float) or isinstance(value, bool) or value <= 0:
        return DEFAULT_PULL_SECONDS
    return float(value)


class MemberPull:
    def __init__(
        self,
        config: AgentConfig,
        *,
        every_seconds: float = DEFAULT_PULL_SECONDS,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        channel_factory: Callable[[str], grpc.Channel] | None = None,
    ) -> None:
        self.config = config
        self.every = every_seconds
        self._now = now
        self._channel_factory = channel_factory or (lambda target: hq_channel(target, config.tls))
        # Every answer counts as contact: the offline limit must not trip while
        # the link is up, so record each one (min_interval 0), it is one row.
        self.link = LinkRecorder(config.database, now=now, min_interval=0.0)

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.config.database, timeout=BUSY_TIMEOUT_S, isolation_level=None)
        conn.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_S * 1000)}")
        return conn

    def pull_once(self, stub: onecard_pb2_grpc.OneCardServiceStub) -> int:
        """Pull and apply every page HQ has; returns the number of changes applied."""
        applied = 0
        conn = self._connect()
        try:
            while True:
                after = pulled_rev(conn)
                reply = stub.PullMemberChanges(
                    onecard_pb2.PullMemberChangesRequest(
                        store_id=self.config.store_id, after_rev=after, limit=PAGE
                    ),
                    timeout=self.config.rpc_timeout_seconds,
                )
                self.link.contact()
                if reply.next_rev <= after:
                    return applied
                changes = [
                    ForeignChange(c.rev, c.store_id, c.kind, c.key, c.payload_json)
                    for c in reply.changes
                ]
                conn.execute("BEGIN IMMEDIATE")
                try:
                    done = apply_changes(
                        conn, self.config.store_id, changes, reply.next_rev, self._now()
                    )
                    conn.execute("COMMIT")
                except BaseException:
                    conn.execute("ROLLBACK")
                    raise
                applied += sum(done.applied.values())
                if changes:
                    log.info(
                        "one card: applied %s up to rev %d of %d",
                        done.applied,
                        reply.next_rev,
                        reply.head_rev,
                    )
                if reply.next_rev >= reply.head_rev:
                    return applied
        finally:
            conn.close()

    def run(self, stop: threading.Event) -> None:
        backoff = self.config.backoff_initial_seconds
        while not stop.is_set():
            try:
                channel = self._channel_factory(self.config.hq)
            except TlsConfigError as exc:  # the shipper records it for doctor
                log.error("one card pull: %s", exc)
                stop.wait(self.config.backoff_max_seconds)
                continue
            try:
                stub = onecard_pb2_grpc.OneCardServiceStub(channel)
                while not stop.is_set():
                    self.pull_once(stub)
                    backoff = self.config.backoff_initial_seconds
                    stop.wait(self.every)
            except grpc.RpcError as err:
                code = err.code()  # type: ignore[attr-defined]
                wait = min(backoff, self.config.backoff_max_seconds) * (0.5 + random.random() / 2)
                log.warning(
                    "one card pull: HQ did not answer (%s); retry in %.1f s",
                    code.name if code else "?",
                    wait,
                )
                stop.wait(wait)
                backoff = min(backoff * 2, self.config.backoff_max_seconds)
            except sqlite3.Error as exc:
                log.error("one card pull: store database: %s", exc)
                stop.wait(self.config.backoff_max_seconds)
            finally:
                channel.close()

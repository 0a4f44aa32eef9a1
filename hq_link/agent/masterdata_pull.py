"""The agent's master-data pull: HQ's products, prices, promotions, tiers,
operators and currencies down to the store.

Runs beside the shipper on its own thread and channel, every
`masterdata_pull_seconds` ([hq_link], default 5 s). Each page is applied in
one store transaction together with the store's revision
(store_server.hq_apply.applier), so a crash or a refused page leaves the store
at the last whole page and the next pull asks again from there. When HQ
answers SNAPSHOT_REQUIRED (a new store, or one too far behind) the agent reads
the whole snapshot, then replaces the store's master data in one transaction.
A page the store cannot apply is logged and retried with backoff, never
skipped: master data is HQ's, and skipping would leave the store silently
different from it.
"""

from __future__ import annotations

import json
import logging
import random
import threading
import tomllib
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import grpc
from grpc_status import rpc_status
from sqlalchemy.exc import SQLAlchemyError

from hq_link.agent.channel import hq_channel
from hq_link.agent.config import AgentConfig
from store_server.config import ConfigError, load_config
from store_server.db.database import Database
from store_server.hq_apply.applier import (
    ApplyError,
    IncomingChange,
    apply_page,
    apply_snapshot,
    current_revision,
)
from tillpoint.hq.v1 import masterdata_pb2, masterdata_pb2_grpc
from tillpoint.v1 import common_pb2

log = logging.getLogger("hq_link.agent.masterdata")
DEFAULT_PULL_SECONDS = 5.0
PAGE = 1_000
SNAPSHOT_PAGE = 2_000
BACKOFF_MAX_S = 60.0


def settings(config_path: Path | str) -> tuple[float, str]:
    """([hq_link] masterdata_pull_seconds, the store's time zone)."""
    try:
        section = tomllib.loads(Path(config_path).read_text(encoding="utf-8")).get("hq_link", {})
    except (OSError, tomllib.TOMLDecodeError):
        section = {}
    every = section.get("masterdata_pull_seconds", DEFAULT_PULL_SECONDS)
    if not isinstance(every, int | float) or isinstance(every, bool) or every <= 0:
        every = DEFAULT_PULL_SECONDS
    try:
        zone = load_config(section.get("store_config")).timezone
    except ConfigError:
        zone = "Asia/Shanghai"
    return float(every), zone


def to_incoming(m: masterdata_pb2.MasterChange) -> IncomingChange:
    return IncomingChange(
        revision=m.revision,
        entity=m.entity,
        key=m.key,
        store_id=m.store_id,
        payload=json.loads(m.payload_json),
        deleted=m.deleted,
    )


def needs_snapshot(err: grpc.RpcError) -> bool:
    if err.code() != grpc.StatusCode.FAILED_PRECONDITION:  # type: ignore[attr-defined]
        return False
    status = rpc_status.from_call(err)  # type: ignore[arg-type]
    for packed in status.details if status is not None else ():
        detail = common_pb2.ErrorDetail()
        if packed.Unpack(detail):
            return detail.reason == "SNAPSHOT_REQUIRED"
    return False


class MasterDataPull:
    def __init__(
        self,
        config: AgentConfig,
        *,
        zone: str = "Asia/Shanghai",
        every_seconds: float = DEFAULT_PULL_SECONDS,
        page_size: int = PAGE,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        channel_factory: Callable[[str], grpc.Channel] | None = None,
    ) -> None:
        self.config = config
        self.zone = zone
        self.every = every_seconds
        self.page_size = page_size
        self._now = now
        self._channel_factory = channel_factory or (lambda target: hq_channel(target, config.tls))
        self._db: Database | None = None

    @property
    def db(self) -> Database:
        if self._db is None:
            self._db = Database(self.config.database)
        return self._db

    def pull_once(self, stub: masterdata_pb2_grpc.MasterDataServiceStub) -> int:
        """Pull and apply every page HQ has for this store; returns changes applied."""
        applied = 0
        timeout = self.config.rpc_timeout_seconds
        while True:
            since = current_revision(self.db)
            try:
                reply = stub.PullChanges(
                    masterdata_pb2.PullChangesRequest(
                        store_id=self.config.store_id,
                        since_revision=since,
                        page_size=self.page_size,
                    ),
                    timeout=timeout,
                )
            except grpc.RpcError as err:
                if not needs_snapshot(err):
                    raise
                log.info("HQ: %s", err.details())  # type: ignore[attr-defined]
                applied += self.take_snapshot(stub)
                continue
            result = apply_page(
                self.db,
                [to_incoming(m) for m in reply.changes],
                reached=reply.revision,
                latest=reply.latest_revision,
                store_id=self.config.store_id,
                zone=self.zone,
                now=self._now(),
            )
            applied += result.changes
            if result.changes:
                log.info(
                    "master data: %d change(s) applied, at revision %d of %d",
                    result.changes,
                    result.revision,
                    reply.latest_revision,
                )
            if not reply.has_more:
                return applied

    def take_snapshot(self, stub: masterdata_pb2_grpc.MasterDataServiceStub) -> int:
        items: list[IncomingChange] = []
        revision = total = 0
        for page in stub.GetSnapshot(
            masterdata_pb2.GetSnapshotRequest(
                store_id=self.config.store_id, page_size=SNAPSHOT_PAGE
            ),
            timeout=max(self.config.rpc_timeout_seconds, 600),
        ):
            revision, total = page.revision, page.total
            items += [to_incoming(m) for m in page.items]
            log.info("snapshot at revision %d: received %d/%d items", revision, len(items), total)
        if len(items) != total:
            raise ApplyError(None, f"snapshot incomplete: {len(items)} of {total} items")
        have = current_revision(self.db)
        if revision == 0 and have > 0:
            # An empty HQ (a new database, a wrong address) would retire the
            # whole catalog: that needs a person, not an automatic "HQ wins".
            raise ApplyError(
                None, f"HQ has no master data but this store is at revision {have}: refused"
            )
        result = apply_snapshot(
            self.db,
            items,
            revision=revision,
            store_id=self.config.store_id,
            zone=self.zone,
            now=self._now(),
            progress=lambda done, n: log.info("snapshot: applied %d/%d items", done, n),
        )
        log.info("snapshot applied: master data at revision %d", result.revision)
        return result.changes

    def run(self, stop: threading.Event) -> None:
        backoff = self.config.backoff_initial_seconds
        while not stop.is_set():
            channel = self._channel_factory(self.config.hq)
            try:
                self.pull_once(masterdata_pb2_grpc.MasterDataServiceStub(channel))
                backoff = self.config.backoff_initial_seconds
                wait = self.every
            except grpc.RpcError as err:
                wait = min(backoff, self.config.backoff_max_seconds) * (0.5 + random.random() / 2)
                log.warning(
                    "master-data pull failed (%s: %s); retry in %.1f s",
                    err.code().name if err.code() else "?",  # type: ignore[attr-defined]
                    err.details(),  # type: ignore[attr-defined]
                    wait,
                )
                backoff = min(backoff * 2, self.config.backoff_max_seconds)
            except (ApplyError, SQLAlchemyError) as exc:
                # Nothing of the page was written; try again later, never skip it.
                wait = min(backoff, BACKOFF_MAX_S)
                log.error("master data not applied: %s; retry in %.1f s", exc, wait)
                backoff = min(backoff * 2, BACKOFF_MAX_S)
            finally:
                channel.close()
            stop.wait(wait)
        if self._db is not None:
            self._db.dispose()

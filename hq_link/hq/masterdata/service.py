"""tillpoint.hq.v1.MasterDataService: the stores' master-data pulls and snapshots."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import grpc
from google.rpc import code_pb2
from sqlalchemy import Engine

from hq_link.hq.identity import calling_store
from hq_link.hq.masterdata import reader
from hq_link.hq.masterdata.reader import Change, SnapshotRequired
from hq_link.hq.masterdata.writer import MasterData
from hq_link.hq.replication_service import _status
from tillpoint.hq.v1 import masterdata_pb2, masterdata_pb2_grpc

log = logging.getLogger(__name__)

DEFAULT_PAGE = 1000
MAX_PAGE = 5000
# A store further behind than this many revisions starts over from a snapshot
# (reading the current state is cheaper than replaying a long history).
DEFAULT_MAX_BEHIND = 50_000


def _max_behind_from_env() -> int:
    return int(os.environ.get("TILLPOINT_HQ_MD_MAX_BEHIND", DEFAULT_MAX_BEHIND))


def to_message(change: Change) -> masterdata_pb2.MasterChange:
    return masterdata_pb2.MasterChange(
        revision=change.revision,
        entity=str(change.entity),
        key=change.key,
        store_id=change.store_id,
        payload_json=json.dumps(change.payload, ensure_ascii=False, sort_keys=True),
        deleted=change.deleted,
    )


class MasterDataService(masterdata_pb2_grpc.MasterDataServiceServicer):
    def __init__(
        self,
        engine: Engine,
        *,
        max_behind: int | None = None,
        now: Callable[[], datetime] | None = None,
    ) -> None:
        self._engine = engine
        self._max_behind = _max_behind_from_env() if max_behind is None else max_behind
        self._now = now or (lambda: datetime.now(UTC))

    def _store(self, context: grpc.ServicerContext, claimed: str) -> str:
        store_id = calling_store(context, claimed)
        if not store_id or len(store_id) > 16:
            context.abort_with_status(
                _status(
                    code_pb2.INVALID_ARGUMENT,
                    "BAD_REQUEST",
                    "store_id",
                    "store_id: 1-16 characters",
                )
            )
        return store_id

    def _page_size(self, context: grpc.ServicerContext, size: int) -> int:
        if size == 0:
            return DEFAULT_PAGE
        if not 1 <= size <= MAX_PAGE:
            context.abort_with_status(
                _status(
                    code_pb2.INVALID_ARGUMENT,
                    "BAD_REQUEST",
                    "page_size",
                    f"page_size: 1 to {MAX_PAGE} (0: {DEFAULT_PAGE})",
                )
            )
        return size

    def PullChanges(
        self, request: masterdata_pb2.PullChangesRequest, context: grpc.ServicerContext
    ) -> masterdata_pb2.PullChangesResponse:
        store_id = self._store(context, request.store_id)
        size = self._page_size(context, request.page_size)
        if request.since_revision < 0:
            context.abort_with_status(
                _status(
                    code_pb2.INVALID_ARGUMENT,
                    "BAD_REQUEST",
                    "since_revision",
                    "since_revision: 0 or more",
                )
            )
        try:
            with self._engine.connect() as conn:
                page = reader.pull(conn, store_id, request.since_revision, size, self._max_behind)
        except SnapshotRequired as need:
            context.abort_with_status(
                _status(
                    code_pb2.FAILED_PRECONDITION,
                    "SNAPSHOT_REQUIRED",
                    "since_revision",
                    need.message,
                )
            )
        return masterdata_pb2.PullChangesResponse(
            changes=[to_message(c) for c in page.changes],
            revision=page.revision,
            has_more=page.has_more,
            latest_revision=page.latest,
        )

    def GetSnapshot(
        self, request: masterdata_pb2.GetSnapshotRequest, context: grpc.ServicerContext
    ) -> Iterator[masterdata_pb2.SnapshotPage]:
        store_id = self._store(context, request.store_id)
        size = self._page_size(context, request.page_size)
        # Prices that came due since the last HQ write go into the rows first,
        # so the snapshot carries the prices in effect now.
        MasterData(self._engine).fold_due(self._now())
        revision, items = reader.read_snapshot(self._engine, store_id)
        log.info("snapshot for store %s at revision %d: %d items", store_id, revision, len(items))
        chunks = list(reader.pages(items, size))
        for i, chunk in enumerate(chunks):
            if not context.is_active():
                return
            yield masterdata_pb2.SnapshotPage(
                revision=revision,
                total=len(items),
                items=[to_message(c) for c in chunk],
                last=i == len(chunks) - 1,
            )


def add_to_server(server: grpc.Server, engine: Engine) -> str:
    """Register the servicer; returns its full name (for reflection)."""
    masterdata_pb2_grpc.add_MasterDataServiceServicer_to_server(MasterDataService(engine), server)
    return masterdata_pb2.DESCRIPTOR.services_by_name["MasterDataService"].full_name

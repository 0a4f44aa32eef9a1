"""tillpoint.hq.v1.ReplicationService: the agents' batches in, cursors out."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

import grpc
from google.protobuf import any_pb2
from google.rpc import code_pb2, status_pb2
from grpc_status import rpc_status

from hq_link.hq.identity import calling_store
from hq_link.hq.ingest import BatchRejected, IncomingRow, Ingest, SequenceGap
from tillpoint.hq.v1 import replication_pb2, replication_pb2_grpc
from tillpoint.v1 import common_pb2

log = logging.getLogger(__name__)


def _status(code: int, reason: str, field: str, message: str, *extra: object) -> grpc.Status:
    details = []
    for detail in (common_pb2.ErrorDetail(reason=reason, field=field, message=message), *extra):
        packed = any_pb2.Any()
        packed.Pack(detail)
        details.append(packed)
    return rpc_status.to_status(status_pb2.Status(code=code, message=message, details=details))


class ReplicationService(replication_pb2_grpc.ReplicationServiceServicer):
    def __init__(self, ingest: Ingest, now: Callable[[], datetime] | None = None) -> None:
        self._ingest = ingest
        self._now = now or (lambda: datetime.now(UTC))

    def PushBatch(
        self, request: replication_pb2.PushBatchRequest, context: grpc.ServicerContext
    ) -> replication_pb2.PushBatchResponse:
        store_id = calling_store(context, request.store_id)
        rows = [
            IncomingRow(
                seq=r.seq,
                txn=r.txn,
                kind=r.kind,
                key=r.key,
                payload_json=r.payload_json,
                at=r.at,
                schema_version=r.schema_version,
            )
            for r in request.rows
        ]
        try:
            result = self._ingest.push(
                store_id, request.first_seq, request.last_seq, rows, self._now()
            )
        except SequenceGap as gap:
            context.abort_with_status(
                _status(
                    code_pb2.FAILED_PRECONDITION,
                    "SEQUENCE_GAP",
                    "first_seq",
                    gap.message,
                    replication_pb2.SequenceGap(expected_seq=gap.expected_seq),
                )
            )
        except BatchRejected as bad:
            context.abort_with_status(
                _status(code_pb2.INVALID_ARGUMENT, "BAD_BATCH", bad.field, bad.message)
            )
        return replication_pb2.PushBatchResponse(
            acked_seq=result.acked_seq,
            duplicate=result.duplicate,
            applied_rows=result.applied_rows,
            quarantined_rows=result.quarantined_rows,
        )

    def GetCursor(
        self, request: replication_pb2.GetCursorRequest, context: grpc.ServicerContext
    ) -> replication_pb2.GetCursorResponse:
        store_id = calling_store(context, request.store_id)
        if not store_id:
            context.abort_with_status(
                _status(code_pb2.INVALID_ARGUMENT, "BAD_REQUEST", "store_id", "store_id: required")
            )
        acked, at = self._ingest.cursor(store_id)
        return replication_pb2.GetCursorResponse(
            acked_seq=acked, last_applied_at=at.isoformat() if at else ""
        )

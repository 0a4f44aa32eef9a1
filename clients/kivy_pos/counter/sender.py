"""Sends the handheld's queued counts, oldest first, in batches, until the queue is empty
or the server stops answering (then the counts simply wait for the next flush)."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import groupby
from typing import Protocol

from clients.kivy_pos.client.errors import Offline, ServerError
from clients.kivy_pos.counter.count_queue import CountQueue, QueuedCount
from tillpoint.v1 import stock_pb2


class CountClient(Protocol):
    def send_counts(
        self, session_id: str, counts: list[stock_pb2.Count]
    ) -> stock_pb2.CountBatchResult: ...


@dataclass(frozen=True)
class FlushResult:
    accepted: int = 0
    duplicates: int = 0
    rejected: int = 0
    offline: bool = False  # the server did not answer: the rest waits on the device
    error: str = ""  # the server refused a whole batch (e.g. the stocktake is closed)


def to_proto(count: QueuedCount) -> stock_pb2.Count:
    return stock_pb2.Count(
        count_id=count.count_id,
        zone=count.zone,
        product_id=count.product_id,
        code=count.code,
        quantity_milli=count.quantity_milli,
        replaces_count_id=count.replaces,
    )


def flush(queue: CountQueue, client: CountClient, batch_size: int = 500) -> FlushResult:
    """Send everything queued; each answered batch is settled before the next is sent."""
    accepted = duplicates = rejected = 0
    while batch := queue.queued(limit=batch_size):
        for session_id, group in groupby(batch, key=lambda c: c.session_id):
            counts = list(group)
            try:
                result = client.send_counts(session_id, [to_proto(c) for c in counts])
            except Offline:
                return FlushResult(accepted, duplicates, rejected, offline=True)
            except ServerError as err:
                return FlushResult(accepted, duplicates, rejected, error=err.message)
            refused = {r.count_id: (r.reason, r.message) for r in result.rejected}
            queue.settle(
                [c.count_id for c in counts if c.count_id not in refused],
                [(cid, reason, message) for cid, (reason, message) in refused.items()],
            )
            accepted += result.accepted
            duplicates += result.duplicates
            rejected += len(refused)
    return FlushResult(accepted, duplicates, rejected)

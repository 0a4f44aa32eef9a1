"""The handheld's count queue and its sender, against a real store server that goes away."""

from __future__ import annotations

import uuid
from pathlib import Path

import grpc
import pytest

from clients.kivy_pos.client import CallPolicy, ErrorInfo, Offline, StoreClient
from clients.kivy_pos.counter.count_queue import CountQueue, CountState, uuid7
from clients.kivy_pos.counter.sender import FlushResult, flush
from tests.kivy_pos.stores import start_again, stop
from tests.support import catalog_fixture as cf
from tests.support.handheld import CLERK, Handheld, add_clerk
from tests.support.server import RunningStore
from tillpoint.v1 import stock_pb2


def open_stocktake(store: RunningStore) -> str:
    office = Handheld(store, device_id="office-01", operator=("1003", "3333"))
    session_id = str(uuid.uuid4())
    office.call("OpenSession", stock_pb2.OpenSessionRequest(session_id=session_id, name="全店盘点"))
    return session_id


def counts_on_server(client: StoreClient, session_id: str) -> int:
    return next(s.counts for s in client.list_sessions() if s.session_id == session_id)


class AnswerLost:
    """Passes one batch to the server, then loses its answer: the device sees silence."""

    def __init__(self, client: StoreClient) -> None:
        self.client = client

    def send_counts(self, session_id: str, counts: list) -> stock_pb2.CountBatchResult:
        self.client.send_counts(session_id, counts)
        raise Offline(ErrorInfo(grpc.StatusCode.DEADLINE_EXCEEDED, "", "", "no answer"))


def test_uuid7_is_time_ordered_and_version_7() -> None:
    ids = [uuid7(now_ms=ms) for ms in (1_000, 2_000, 3_000)]
    assert ids == sorted(ids)
    assert all(uuid.UUID(i).version == 7 for i in ids)


def test_queue_survives_a_restart_of_the_device(tmp_path: Path) -> None:
    queue = CountQueue(tmp_path / "counts.db")
    first = queue.add("S", "A1", 2_000, code=cf.COKE_CAN)
    queue.add("S", "A1", 500, product_id=7)
    with pytest.raises(ValueError):
        queue.add("S", "A1", 1_000)  # neither code nor product
    queue.close()
    again = CountQueue(tmp_path / "counts.db")
    assert again.queued()[0].count_id == first and again.waiting() == 2
    again.close()


def test_200_counts_made_while_the_server_is_down_arrive_once(
    fixed_store: RunningStore, tmp_path: Path
) -> None:
    add_clerk(fixed_store)
    session_id = open_stocktake(fixed_store)
    client = StoreClient(
        fixed_store.store.address,
        "hh-01",
        policy=CallPolicy(deadline=1.0, attempts=2, backoff=0.01),
        sleep=lambda _s: None,
    )
    client.login(*CLERK)
    queue = CountQueue(tmp_path / "counts.db")

    stop(fixed_store)
    codes = [cf.COKE_CAN, cf.SPRITE_CAN, cf.WATER, cf.COKE_CASE]
    for i in range(200):
        queue.add(session_id, f"A{i % 5}", 1_000, code=codes[i % 4])
    down = flush(queue, client, batch_size=50)
    assert down.offline and down.accepted == 0 and queue.waiting() == 200

    start_again(fixed_store)
    assert client.reachable(timeout=5.0)
    # The server takes the first batch, but its answer is lost on the way back.
    lost = flush(queue, AnswerLost(client), batch_size=50)
    assert lost.offline and queue.waiting() == 200
    up = flush(queue, client, batch_size=50)  # the first 50 again: duplicates
    assert (up.accepted, up.duplicates, up.rejected, up.offline) == (150, 50, 0, False)
    assert queue.waiting() == 0 and counts_on_server(client, session_id) == 200
    assert flush(queue, client) == FlushResult()  # nothing left to send
    queue.close()
    client.close()


def test_an_unknown_barcode_is_rejected_alone_and_not_resent(
    store: RunningStore, tmp_path: Path
) -> None:
    add_clerk(store)
    session_id = open_stocktake(store)
    client = StoreClient(store.store.address, "hh-01")
    client.login(*CLERK)
    queue = CountQueue(tmp_path / "counts.db")
    queue.add(session_id, "B1", 3_000, code=cf.WATER)
    bad = queue.add(session_id, "B1", 1_000, code=cf.ean13("690999999999"))
    result = flush(queue, client)
    assert (result.accepted, result.rejected) == (1, 1)
    [rejected] = queue.rejected()
    assert rejected.count_id == bad and rejected.state is CountState.REJECTED
    assert rejected.reason == "UNKNOWN_BARCODE" and rejected.message
    assert flush(queue, client).rejected == 0
    queue.close()
    client.close()

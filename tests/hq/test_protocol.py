"""ReplicationService's contract, call by call, on PostgreSQL and on SQLite (the demo)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import grpc
import pytest
from grpc_status import rpc_status

from hq_link.hq.server import HqServer, build_server
from tests.hq.support import hq_rows
from tests.support.errors import error_detail, expect_code
from tillpoint.hq.v1 import replication_pb2, replication_pb2_grpc

AT = "2026-11-23T02:00:00+00:00"


@pytest.fixture(params=["postgresql", "sqlite"])
def hq_database(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'hq.db'}"
    return request.getfixturevalue("hq_url")


@pytest.fixture
def hq(hq_database: str) -> Iterator[tuple[HqServer, replication_pb2_grpc.ReplicationServiceStub]]:
    server = build_server(hq_database, "127.0.0.1:0", workers=4)
    server.start()
    channel = grpc.insecure_channel(server.address)
    yield server, replication_pb2_grpc.ReplicationServiceStub(channel)
    channel.close()
    server.stop(grace=1)


def row(seq: int, kind: str = "shift.open", payload: object = None, **kw: object):
    text = kw.pop("payload_json", None) or json.dumps(payload or {"n": seq})
    return replication_pb2.ChangeRow(
        seq=seq,
        txn=kw.pop("txn", seq),
        kind=kind,
        key=str(kw.pop("key", f"k{seq}")),
        payload_json=text,
        at=str(kw.pop("at", AT)),
        schema_version=int(kw.pop("version", 1)),
    )


def sale(seq: int, sale_id: str, total: int = 350) -> replication_pb2.ChangeRow:
    receipt = {"receipt_no": f"R{seq}", "business_day": "2026-11-23", "total_fen": total}
    return row(seq, "sale", {"receipt": json.dumps(receipt), "shift_id": "x"}, key=sale_id)


def push(stub, first: int, *rows, store: str = "S01") -> replication_pb2.PushBatchResponse:
    return stub.PushBatch(
        replication_pb2.PushBatchRequest(
            store_id=store, first_seq=first, last_seq=rows[-1].seq, rows=rows
        ),
        timeout=10,
    )


def changes(url: str, store: str = "S01") -> list[tuple]:
    return hq_rows(url, "SELECT seq FROM hq_changes WHERE store_id = :s ORDER BY seq", s=store)


def test_a_batch_applies_once_and_its_duplicate_is_acknowledged_without_applying(
    hq, hq_database: str
) -> None:
    _, stub = hq
    first = push(stub, 1, row(1), sale(2, "sale-a"), row(3))
    assert (first.acked_seq, first.duplicate, first.applied_rows) == (3, False, 3)
    again = push(stub, 1, row(1), sale(2, "sale-a"), row(3))
    assert (again.acked_seq, again.duplicate, again.applied_rows) == (3, True, 0)
    # Overlapping the cursor: only what is new is applied.
    overlap = push(stub, 2, sale(2, "sale-a"), row(3), sale(4, "sale-b"))
    assert (overlap.acked_seq, overlap.duplicate, overlap.applied_rows) == (4, False, 1)
    assert changes(hq_database) == [(1,), (2,), (3,), (4,)]
    assert hq_rows(hq_database, "SELECT doc_id, total_fen FROM hq_sales ORDER BY seq") == [
        ("sale-a", 350),
        ("sale-b", 350),
    ]
    cursor = stub.GetCursor(replication_pb2.GetCursorRequest(store_id="S01"), timeout=10)
    assert cursor.acked_seq == 4 and cursor.last_applied_at
    # Stores are independent: another store starts at seq 1.
    assert push(stub, 1, row(1), store="S02").acked_seq == 1


def test_a_gap_is_failed_precondition_naming_the_expected_seq(hq, hq_database: str) -> None:
    _, stub = hq
    push(stub, 1, row(1), row(2))
    err = expect_code(grpc.StatusCode.FAILED_PRECONDITION, lambda: push(stub, 5, row(5), row(6)))
    detail = error_detail(err)
    assert (detail.reason, detail.field) == ("SEQUENCE_GAP", "first_seq")
    assert "expects seq 3" in detail.message
    gaps = [
        g for g in rpc_status.from_call(err).details if g.Is(replication_pb2.SequenceGap.DESCRIPTOR)
    ]
    gap = replication_pb2.SequenceGap()
    gaps[0].Unpack(gap)
    assert gap.expected_seq == 3
    assert changes(hq_database) == [(1,), (2,)]  # nothing applied
    assert push(stub, 3, row(3)).acked_seq == 3


def test_bad_rows_are_quarantined_with_their_reason_and_the_stream_goes_on(
    hq, hq_database: str
) -> None:
    _, stub = hq
    reply = push(
        stub,
        1,
        row(1),
        row(2, payload_json="{not json"),
        row(3, payload_json='{"name": "a\\u0000b"}'),
        row(4, version=99),
        row(5, "sale", {"shift_id": "no receipt"}, key="sale-x"),
        row(6, at="yesterday"),
        sale(7, "sale-ok"),
        row(8, payload_json='{"name": "\\ud800"}'),
    )
    assert (reply.acked_seq, reply.applied_rows, reply.quarantined_rows) == (8, 2, 6)
    reasons = dict(
        hq_rows(hq_database, "SELECT seq, reason FROM hq_quarantine WHERE store_id = 'S01'")
    )
    assert sorted(reasons) == [2, 3, 4, 5, 6, 8]
    assert "not JSON" in reasons[2]
    assert "NUL" in reasons[3]
    assert "schema version 99" in reasons[4]
    assert "receipt" in reasons[5]
    assert "ISO-8601" in reasons[6]
    assert "Unicode" in reasons[8]
    # Not retried, not in the way: the next batch applies.
    assert push(stub, 9, row(9)).applied_rows == 1
    assert changes(hq_database) == [(1,), (7,), (9,)]


def test_a_malformed_batch_is_invalid_argument(hq) -> None:
    _, stub = hq
    err = expect_code(grpc.StatusCode.INVALID_ARGUMENT, lambda: push(stub, 1, row(2), row(1)))
    assert error_detail(err).field == "rows"
    err = expect_code(grpc.StatusCode.INVALID_ARGUMENT, lambda: push(stub, 1, row(1), store=""))
    assert error_detail(err).field == "store_id"


def test_a_row_the_database_refuses_is_quarantined_not_retried_forever(
    hq_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The safety net behind the checks: PostgreSQL's own refusal quarantines one row."""
    from datetime import UTC, datetime

    from hq_link.hq import ingest
    from hq_link.hq.server import make_engine
    from hq_link.hq.tables import metadata

    unchecked = ingest.check_row

    def lenient(r: ingest.IncomingRow) -> object:
        checked = unchecked(replace(r, kind="shift.open"))
        return ingest._Checked(r, payload=checked.payload, at=checked.at)

    monkeypatch.setattr(ingest, "check_row", lenient)
    engine = make_engine(hq_url)
    metadata.create_all(engine)
    rows = [
        ingest.IncomingRow(seq, seq, kind, f"k{seq}", "{}", AT, 1)
        for seq, kind in ((1, "ok"), (2, "x" * 60), (3, "ok"))
    ]
    result = ingest.Ingest(engine).push("S01", 1, 3, rows, datetime.now(UTC))
    engine.dispose()
    assert (result.acked_seq, result.applied_rows, result.quarantined_rows) == (3, 2, 1)
    [(seq, reason)] = hq_rows(hq_url, "SELECT seq, reason FROM hq_quarantine")
    assert seq == 2 and "database refused it" in reason

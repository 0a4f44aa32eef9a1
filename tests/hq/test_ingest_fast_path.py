"""Ingest's set-based path on a real PostgreSQL, in-process: one COPY per table for a
batch, the row-by-row path only for a batch the database refuses, the same
projections either way, and a store's batches applied in seq order when two
of them are in flight."""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, select

from hq_link.hq import ingest as ingest_module
from hq_link.hq import tables
from hq_link.hq.bulk_insert import RowsRefused
from hq_link.hq.ingest import IncomingRow, Ingest
from hq_link.hq.onecard import tables as onecard
from hq_link.hq.projectors import closes, ledger, receipts
from hq_link.hq.server import make_engine

NOW = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)
AT = "2026-11-23T02:00:00+00:00"  # 10:00 in Shanghai: business day 2026-11-23
DAY = "2026-11-23"
MEMBER = "8000100000035"

# Every table ingest and the projectors fill, compared whole.
PROJECTED = (
    tables.changes,
    tables.sales,
    receipts.receipts,
    receipts.payments,
    receipts.lines,
    ledger.entries,
    closes.shifts,
    closes.day_closes,
    onecard.members,
    onecard.entries,
    onecard.feed,
)


def row(seq: int, kind: str, key: str, payload: object, *, txn: int | None = None) -> IncomingRow:
    text = payload if isinstance(payload, str) else json.dumps(payload, ensure_ascii=False)
    return IncomingRow(seq, txn or seq, kind, key, text, AT, 1)


def receipt(n: int, total: int, *, kind: str = "sale", member: bool = False) -> dict:
    sign = -1 if kind == "return" else 1
    return {
        "receipt_no": f"S01-20261123-{n:06d}",
        "business_day": DAY,
        "operator_id": "1001",
        "device_id": "till-01",
        "discount_fen": 0,
        "rounding_fen": 0,
        "total_fen": sign * total,
        "change_fen": 0,
        "member": {"member_id": MEMBER, "tier_name": "金卡"} if member else None,
        "lines": [
            {
                "line_no": 1,
                "sku": "P1",
                "name": "可口可乐 330ml",
                "quantity_milli": 2000,
                "pack_factor": 1,
                "net_amount_fen": sign * (total - 350),
            },
            {
                "line_no": 2,
                "sku": "P2",
                "name": "农夫山泉 550ml",
                "quantity_milli": 1000,
                "pack_factor": 6,
                "net_amount_fen": sign * 350,
            },
        ],
        "payments": [{"kind": "cash", "applied_fen": sign * total}],
    }


def sale(seq: int, total: int, *, kind: str = "sale", member: bool = False, txn: int = 0):
    payload = {
        "receipt": json.dumps(receipt(seq, total, kind=kind, member=member), ensure_ascii=False),
        "shift_id": "shift-1",
    }
    return row(seq, kind, f"doc-{seq}", payload, txn=txn or seq)


def points(seq: int, n: int, earned: int, *, txn: int) -> IncomingRow:
    entry = {
        "entry_id": f"S01-P{n:010d}",
        "member_id": MEMBER,
        "kind": "earn",
        "points": earned,
        "source_kind": "sale",
        "source_id": f"doc-{txn}",
        "store_id": "S01",
        "created_at": AT,
    }
    return row(seq, "points_entry", entry["entry_id"], entry, txn=txn)


def a_day_of_changes() -> list[IncomingRow]:
    """A store's day in change rows: a member, sales with and without points, a
    return, a top-up, the shift and the day close."""
    member = {
        "member_id": MEMBER,
        "card_no": MEMBER,
        "phone": "13912345678",
        "name": "赵六",
        "tier": "gold",
        "home_store": "S01",
    }
    topup = {
        "entry_id": "S01-V0000000001",
        "member_id": MEMBER,
        "kind": "topup",
        "paid_fen": 10_000,
        "bonus_fen": 500,
        "source_kind": "deposit",
        "source_id": "dep-1",
        "store_id": "S01",
        "created_at": AT,
    }
    return [
        row(1, "shift.open", "shift-1", {"day": DAY, "device_id": "till-01"}),
        row(2, "member", MEMBER, member),
        sale(3, 1_250, member=True),
        points(4, 1, 12, txn=3),
        sale(5, 990),
        sale(6, 4_200, member=True),
        points(7, 2, 42, txn=6),
        sale(8, 990, kind="return"),
        row(9, "member_deposit", "dep-1", {"business_day": DAY, "member_id": MEMBER}),
        row(10, "stored_value_entry", topup["entry_id"], topup, txn=9),
        row(
            11,
            "shift.close",
            "shift-1",
            {"expected_cash_fen": 5_450, "counted_cash_fen": 5_450, "z": {"sales": 3}},
        ),
        row(12, "day.close", DAY, {"day": DAY, "figures": {"sales_fen": 6_440}, "ledger": {}}),
    ]


def snapshot(engine: Engine) -> dict[str, list[tuple]]:
    with engine.connect() as conn:
        return {
            table.name: sorted(tuple(r) for r in conn.execute(select(table))) for table in PROJECTED
        }


def no_row_by_row(*_args: object, **_kw: object) -> None:
    raise AssertionError("the batch went row by row")


def test_a_batch_is_applied_with_one_copy_per_table(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(Ingest, "_row_by_row", no_row_by_row)
    rows = a_day_of_changes()
    result = Ingest(engine).push("S01", 1, 12, rows, NOW)
    assert (result.applied_rows, result.quarantined_rows) == (12, 0)
    got = snapshot(engine)
    assert [r[1] for r in got["hq_changes"]] == list(range(1, 13))
    assert [(r[1], r[5]) for r in got["hq_sales"]] == [
        ("doc-3", 1_250),
        ("doc-5", 990),
        ("doc-6", 4_200),
        ("doc-8", -990),
    ]
    assert len(got["hq_receipt_lines"]) == 8 and len(got["hq_receipt_payments"]) == 4
    # Units are quantity x pack factor, signed: 2 cans and 6 bottles per sale, a return back.
    with engine.connect() as conn:
        units = conn.execute(
            select(receipts.lines.c.doc_id, receipts.lines.c.units_milli).order_by(
                receipts.lines.c.doc_id, receipts.lines.c.line_no
            )
        ).all()
    assert [u for _, u in units] == [2000, 6000, 2000, 6000, 2000, 6000, -2000, -6000]
    # Ledger entries take the day of the document of their store transaction.
    assert [(r[1], r[10]) for r in got["hq_ledger_entries"]] == [
        ("S01-P0000000001", DAY),
        ("S01-P0000000002", DAY),
        ("S01-V0000000001", DAY),
    ]
    assert [r[0] for r in got["hq_members"]] == [MEMBER]
    assert len(got["hq_onecard_feed"]) == 4  # the member and its three entries
    # The payload as the store sent it, queryable as JSON.
    assert got["hq_changes"][0][5] == {"day": DAY, "device_id": "till-01"}


def test_one_bad_row_is_quarantined_and_the_others_still_go_through_the_copy(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(Ingest, "_row_by_row", no_row_by_row)
    bad_total = {
        "receipt": json.dumps({"receipt_no": "R9", "business_day": DAY, "total_fen": "9.90"}),
    }
    rows = [sale(1, 1_000), sale(2, 2_000), row(3, "sale", "doc-3", bad_total), sale(4, 4_000)]
    result = Ingest(engine).push("S01", 1, 4, rows, NOW)
    assert (result.acked_seq, result.applied_rows, result.quarantined_rows) == (4, 3, 1)
    with engine.connect() as conn:
        quarantined = conn.execute(select(tables.quarantine.c.seq, tables.quarantine.c.reason))
        [(seq, reason)] = quarantined.all()
        sales = conn.execute(select(tables.sales.c.doc_id).order_by(tables.sales.c.seq)).all()
        lines = conn.execute(select(receipts.lines.c.doc_id)).all()
    assert seq == 3 and "total_fen" in reason
    assert [d for (d,) in sales] == ["doc-1", "doc-2", "doc-4"]
    assert sorted(d for (d,) in lines) == ["doc-1", "doc-1", "doc-2", "doc-2", "doc-4", "doc-4"]


def test_the_copy_and_the_row_by_row_path_project_the_same_rows(
    hq_url: str, pg_cluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    fast = make_engine(hq_url)
    careful = make_engine(pg_cluster.url(pg_cluster.create_database()))
    try:
        for e in (fast, careful):
            tables.metadata.create_all(e)
        assert Ingest(fast).push("S01", 1, 12, a_day_of_changes(), NOW).applied_rows == 12

        apply_rows = ingest_module.apply_rows

        def refuse_batches(write, store_id, good, now):  # type: ignore[no-untyped-def]
            if len(good) > 1:  # the whole batch: as if the database refused it
                raise RowsRefused("test: go row by row")
            apply_rows(write, store_id, good, now)

        monkeypatch.setattr(ingest_module, "apply_rows", refuse_batches)
        # The ledger entries' business day comes from their transaction's document;
        # row by row, an entry alone takes the day of its time: the same day here.
        assert Ingest(careful).push("S01", 1, 12, a_day_of_changes(), NOW).applied_rows == 12
        assert snapshot(fast) == snapshot(careful)
    finally:
        fast.dispose()
        careful.dispose()


def test_a_number_too_large_for_its_column_is_refused_not_cut(engine: Engine) -> None:
    """The binary COPY would keep the low bytes of a line number past int4: it refuses
    it instead, and the row-by-row path quarantines that row with the database's words."""
    big = receipt(2, 1_000)
    big["lines"][0]["line_no"] = 2**32 + 1
    rows = [
        sale(1, 1_000),
        row(2, "sale", "doc-2", {"receipt": json.dumps(big, ensure_ascii=False)}),
        sale(3, 3_000),
    ]
    result = Ingest(engine).push("S01", 1, 3, rows, NOW)
    assert (result.applied_rows, result.quarantined_rows) == (2, 1)
    with engine.connect() as conn:
        [(seq, reason)] = conn.execute(
            select(tables.quarantine.c.seq, tables.quarantine.c.reason)
        ).all()
        line_docs = conn.execute(select(receipts.lines.c.doc_id, receipts.lines.c.line_no)).all()
    assert seq == 2 and "database refused it" in reason and "out of range" in reason
    assert sorted(line_docs) == [("doc-1", 1), ("doc-1", 2), ("doc-3", 1), ("doc-3", 2)]


def recorded_push(
    ingest: Ingest, results: dict[int, object], first: int, rows: list[IncomingRow]
) -> None:
    """Push a batch of S01; its result, or its error, goes under its first seq."""
    try:
        results[first] = ingest.push("S01", first, rows[-1].seq, rows, NOW)
    except Exception as exc:  # the test's assertions report it
        results[first] = exc


def change_seqs(engine: Engine) -> list[int]:
    with engine.connect() as conn:
        return list(
            conn.execute(select(tables.changes.c.seq).order_by(tables.changes.c.seq)).scalars()
        )


def test_a_later_batch_that_arrives_first_waits_for_the_earlier_one(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An agent keeps two batches in flight: HQ applies them in seq order, no gap refused."""
    ingest = Ingest(engine)
    check = ingest_module.check_row
    parsing = threading.Event()

    def slow_first_batch(r: IncomingRow):  # type: ignore[no-untyped-def]
        if r.seq == 1:
            parsing.set()
            time.sleep(0.5)  # the first batch is still being parsed when the second comes
        return check(r)

    monkeypatch.setattr(ingest_module, "check_row", slow_first_batch)
    results: dict[int, object] = {}

    first = threading.Thread(
        target=recorded_push, args=(ingest, results, 1, [sale(1, 100), sale(2, 200)])
    )
    first.start()
    assert parsing.wait(5)
    second = threading.Thread(
        target=recorded_push, args=(ingest, results, 3, [sale(3, 300), sale(4, 400)])
    )
    second.start()
    first.join(10)
    second.join(10)
    assert [getattr(results[f], "acked_seq", results[f]) for f in (1, 3)] == [2, 4]
    assert ingest.cursor("S01")[0] == 4
    assert change_seqs(engine) == [1, 2, 3, 4]


def test_a_later_batch_whose_earlier_one_is_not_yet_in_waits_for_it(engine: Engine) -> None:
    """The server's threads took the agent's second batch first: it finds a gap with
    no earlier batch in the process yet, and waits for that one instead of refusing."""
    ingest = Ingest(engine, gap_grace=5.0)
    results: dict[int, object] = {}

    second = threading.Thread(
        target=recorded_push, args=(ingest, results, 3, [sale(3, 300), sale(4, 400)])
    )
    second.start()
    time.sleep(0.3)  # the second batch has found its gap and waits
    assert second.is_alive()
    recorded_push(ingest, results, 1, [sale(1, 100), sale(2, 200)])
    second.join(10)
    assert [getattr(results[f], "acked_seq", results[f]) for f in (1, 3)] == [2, 4]
    assert change_seqs(engine) == [1, 2, 3, 4]


def test_a_real_gap_is_refused_once_the_grace_is_over(engine: Engine) -> None:
    ingest = Ingest(engine, gap_grace=0.2)
    ingest.push("S01", 1, 2, [sale(1, 100), sale(2, 200)], NOW)
    with pytest.raises(ingest_module.SequenceGap) as gap:
        ingest.push("S01", 5, 5, [sale(5, 500)], NOW)
    assert gap.value.expected_seq == 3
    assert ingest.cursor("S01")[0] == 2


def test_receipt_rows_built_before_the_transaction_equal_the_projectors_own(
    hq_url: str, pg_cluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ingest builds a receipt's rows outside the store's cursor lock; the tables
    come out the same as when the projector builds them inside the transaction."""
    early = make_engine(hq_url)
    late = make_engine(pg_cluster.url(pg_cluster.create_database()))
    try:
        for e in (early, late):
            tables.metadata.create_all(e)
        built = [
            ingest_module._with_receipt_rows("S01", ingest_module.check_row(r))
            for r in a_day_of_changes()
        ]
        assert sum(ch.receipt_rows is not None for ch in built) == 4  # 3 sales, 1 return
        assert Ingest(early).push("S01", 1, 12, a_day_of_changes(), NOW).applied_rows == 12
        monkeypatch.setattr(ingest_module, "_with_receipt_rows", lambda _store, ch: ch)
        assert Ingest(late).push("S01", 1, 12, a_day_of_changes(), NOW).applied_rows == 12
        assert snapshot(early) == snapshot(late)
    finally:
        early.dispose()
        late.dispose()


def test_a_receipt_line_only_the_projector_refuses_quarantines_that_row_alone(
    engine: Engine,
) -> None:
    """A line whose quantity is not an integer: the early build leaves it to the
    projector, which refuses it in the transaction; the other rows apply."""
    broken = receipt(2, 2_000)
    broken["lines"][0]["quantity_milli"] = "2.5"
    rows = [
        sale(1, 1_000),
        row(2, "sale", "doc-2", {"receipt": json.dumps(broken), "shift_id": "shift-1"}),
        sale(3, 3_000),
    ]
    result = Ingest(engine).push("S01", 1, 3, rows, NOW)
    assert (result.acked_seq, result.applied_rows, result.quarantined_rows) == (3, 2, 1)
    with engine.connect() as conn:
        [(seq, reason)] = conn.execute(
            select(tables.quarantine.c.seq, tables.quarantine.c.reason)
        ).all()
        heads = conn.execute(select(receipts.receipts.c.doc_id)).all()
    assert seq == 2 and "quantity_milli" in reason
    assert sorted(d for (d,) in heads) == ["doc-1", "doc-3"]


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ('{"total": NaN}', "not JSON"),  # json.loads would take it; no database stores it
        ('{"name": "\\ud800"}', "not valid Unicode"),
        ('{"name": "x"', "not JSON"),
    ],
)
def test_a_payload_msgspec_refuses_is_quarantined_with_a_reason(
    engine: Engine, text: str, words: str
) -> None:
    rows = [sale(1, 1_000), row(2, "shift.open", "k2", text)]
    result = Ingest(engine).push("S01", 1, 2, rows, NOW)
    assert (result.applied_rows, result.quarantined_rows) == (1, 1)
    with engine.connect() as conn:
        [(seq, reason)] = conn.execute(
            select(tables.quarantine.c.seq, tables.quarantine.c.reason)
        ).all()
    assert seq == 2 and words in reason

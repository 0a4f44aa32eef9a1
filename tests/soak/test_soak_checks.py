"""The soak's judges fail when they should: growing latency, growing memory,
and a store, HQ or till record that disagrees (so a clean soak means something)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlalchemy import create_engine

from hq_link.hq.tables import metadata as hq_metadata
from soak.calls import Sample
from soak.handheld import HandheldRecord
from soak.latency import judge_latency
from soak.reconcile import reconcile
from soak.rss import judge_rss
from soak.till import AckedSale, TillRecord
from store_server.db import migrate
from store_server.db.database import Database


def _samples(rpc: str, ms_per_window: list[float], per_window: int = 200) -> list[Sample]:
    return [
        Sample(w * 10 + i * 10 / per_window, rpc, ms)
        for w, ms in enumerate(ms_per_window)
        for i in range(per_window)
    ]


def _judge(samples: list[Sample]) -> dict:
    return judge_latency(samples, 60, 10, tolerance=2.0, floor_ms=5.0, min_samples=50)


def test_latency_that_grows_fails_and_a_slower_machine_does_not() -> None:
    flat_echo = _samples("Echo", [1.0] * 6)
    grown = _judge(_samples("AddItem", [3, 3, 4, 6, 9, 15]) + flat_echo)
    # Judged on the lowest of the last third (9 and 15 ms): 3x the first window.
    assert not grown["AddItem"].ok and grown["AddItem"].p99_ratio == 3.0
    # One window spoilt by a burst elsewhere on the machine is not growth...
    spike = _judge(_samples("AddItem", [3, 3, 3, 3, 3, 60]) + flat_echo)
    assert spike["AddItem"].ok and spike["AddItem"].p99_ratio == 1.0
    # ...but a late jump that stays is.
    jump = _judge(_samples("AddItem", [3, 3, 3, 3, 40, 60]) + flat_echo)
    assert not jump["AddItem"].ok
    steady = _judge(_samples("AddItem", [3, 3, 3, 3, 3, 3.5]) + flat_echo)
    assert steady["AddItem"].ok
    # Everything, the bare echo included, 4x slower: the machine, not the server.
    machine = _judge(
        _samples("AddItem", [3, 12, 12, 12, 12, 12]) + _samples("Echo", [1, 4, 4, 4, 4, 4])
    )
    assert machine["AddItem"].ok and machine["AddItem"].normalized_p99_ratio == 1.0
    few = _judge(_samples("CommitSale", [5, 50, 50, 50, 50, 50], per_window=10) + flat_echo)
    assert few["CommitSale"].ok and not few["CommitSale"].judged


def test_memory_that_keeps_growing_fails_and_a_warm_up_does_not() -> None:
    leak = [(float(t), 100 + t * 1.0) for t in range(60)]  # +1 MB/s
    verdict = judge_rss(leak, 60, tolerance=1.10, floor_mb=8.0)
    assert not verdict.ok and round(verdict.slope_mb_per_min) == 60
    warm = [(float(t), 80 + min(t, 15) * 2.0) for t in range(60)]  # fills caches, then flat
    assert judge_rss(warm, 60, tolerance=1.10, floor_mb=8.0).ok


def _store(tmp_path: Path) -> Path:
    path = tmp_path / "store.db"
    db = Database(path, synchronous="NORMAL")
    migrate.upgrade(db)
    db.dispose()
    return path


def _sale(conn: sqlite3.Connection, sale_id: str, total: int, receipt: str) -> None:
    conn.execute(
        "INSERT INTO sales VALUES (?, ?, 'S01', '2026-11-23', 'shift', 'till', '2001', ?, NULL,"
        " ?, 0, 0, ?, 0, '2026-11-23 02:00:00', '{}')",
        (sale_id, receipt, f"basket-{sale_id}", total, total),
    )
    conn.execute(
        "INSERT INTO change_log (kind, key, payload, at) VALUES ('sale', ?, '{}', '2026-11-23')",
        (sale_id,),
    )


def test_reconciliation_names_what_is_lost_duplicated_or_different(tmp_path: Path) -> None:
    store = _store(tmp_path)
    with sqlite3.connect(store) as conn:
        first_seq = conn.execute("SELECT coalesce(max(seq), 0) FROM change_log").fetchone()[0]
        _sale(conn, "s-ok", 1000, "R1")
        _sale(conn, "s-wrong-total", 2000, "R2")
        _sale(conn, "s-nobody-acked", 3000, "R3")
    hq_url = f"sqlite:///{tmp_path / 'hq.db'}"
    engine = create_engine(hq_url)
    hq_metadata.create_all(engine)
    with engine.begin() as conn, sqlite3.connect(store) as s:
        for seq, kind, key in s.execute("SELECT seq, kind, key FROM change_log"):
            conn.exec_driver_sql(
                "INSERT INTO hq_changes VALUES ('S01', ?, ?, ?, ?, '{}', '2026-11-23', 1,"
                " '2026-11-23')",
                (seq, seq, kind, key),
            )
        conn.exec_driver_sql(
            "INSERT INTO hq_sales VALUES ('S01', 's-ok', 'sale', 'R1', '2026-11-23', 1000,"
            f" {first_seq + 1}, '2026-11-23')"
        )  # two store sales never reached hq_sales
    engine.dispose()
    till = TillRecord()
    till.sales["s-ok"] = AckedSale("s-ok", "R1", 1000, 1.0)
    till.sales["s-wrong-total"] = AckedSale("s-wrong-total", "R2", 1999, 2.0)
    till.sales["s-lost"] = AckedSale("s-lost", "R9", 500, 3.0)
    hh = HandheldRecord(counts={"c-lost": (1, 1000)})

    result = reconcile(store, hq_url, "S01", [till], [hh], "no-session")

    text = "\n".join(result.problems)
    assert not result.ok
    assert "1 sales (total fen) missing in the store: s-lost" in text
    assert "1 sales (total fen) in the store but not acknowledged: s-nobody-acked" in text
    assert "1 sales (total fen) differ in the store: s-wrong-total (1999 vs 2000)" in text
    assert "2 store sales (total fen) missing in HQ" in text
    assert "1 counts (product, quantity) missing in the stocktake: c-lost" in text

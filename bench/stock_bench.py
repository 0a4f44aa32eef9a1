"""Stocktake speed, each figure beside its physical reference in the same run.

- 100,000 counts streamed from 3 handhelds (StreamCounts, batches of 1,000)
  into a 100,000-SKU store, vs raw sqlite3 inserts of the same rows into the
  same table, one transaction per 1,000 rows, same synchronous=FULL
  (target: at least 20,000 counts/s);
- posting that stocktake (100,000 products, 30% with a variance) with
  `storectl stocktake post`, progress shown (target: under 10 s).
"""

from __future__ import annotations

import os
import random
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import grpc

from bench.support import BENCH_DIR, catalog_db, progress, start_server, verdict
from tillpoint.v1 import auth_pb2, auth_pb2_grpc, stock_pb2, stock_pb2_grpc

SKUS = 100_000
HANDHELDS = 3
BATCH = 1000
POST_TARGET_S = 10.0
COUNT_TARGET = 20_000
NOW = "2026-11-23 02:00:00.000000"


def _login(channel: grpc.Channel, operator: str, device: str) -> list[tuple[str, str]]:
    resp = auth_pb2_grpc.AuthServiceStub(channel).Login(
        auth_pb2.LoginRequest(operator_id=operator, pin="1111", device_id=device), timeout=10
    )
    return [("authorization", f"Bearer {resp.token}"), ("x-device-id", device)]


def _prepare(db: Path, rng: random.Random) -> dict[int, int]:
    """Operators and the books: every product received once (raw rows, untimed)."""
    with sqlite3.connect(db) as conn:
        for oid, role in (
            ("1901", "admin"),
            ("2001", "stock_clerk"),
            ("2002", "stock_clerk"),
            ("2003", "stock_clerk"),
        ):
            conn.execute(
                "INSERT INTO operators (operator_id, name, role, store_id, pin_hash,"
                " active, failed_pin_count, created_at) SELECT ?, 'bench', ?, 'S01',"
                " pin_hash, 1, 0, created_at FROM operators WHERE operator_id = '1001'",
                (oid, role),
            )
        books = {
            pid: rng.randint(1, 60) * 1000 for (pid,) in conn.execute("SELECT id FROM products")
        }
        conn.executemany(
            "INSERT INTO stock_movements (product_id, quantity_milli, kind, source_id, created_at)"
            " VALUES (?, ?, 'receiving', 'bench-opening', ?)",
            [(p, q, NOW) for p, q in books.items()],
        )
        conn.executemany("INSERT INTO stock_levels VALUES (?, ?)", list(books.items()))
    return books


def uuid7() -> str:
    """A time-ordered UUID (version 7), as the handheld client sends for its counts."""
    ms = time.time_ns() // 1_000_000
    rand = random.getrandbits(74)
    value = (ms << 80) | (0x7 << 76) | ((rand >> 62) << 64) | (0b10 << 62) | (rand & (2**62 - 1))
    return str(uuid.UUID(int=value))


def _batches(
    products: list[int], counted: dict[int, int], number: int, make_id: Callable[[], str]
) -> list[list[stock_pb2.Count]]:
    mine = products[number::HANDHELDS]
    return [
        [
            stock_pb2.Count(
                count_id=make_id(),
                zone=f"Z{number}-{start // BATCH}",
                product_id=p,
                quantity_milli=counted[p],
            )
            for p in mine[start : start + BATCH]
        ]
        for start in range(0, len(mine), BATCH)
    ]


def raw_inserts(db: Path, session_id: str, batches: list[list[stock_pb2.Count]]) -> float:
    """The same rows by plain sqlite3, 1,000 per transaction, synchronous=FULL: rows/s."""
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute(
        "INSERT INTO stocktake_sessions VALUES (?, 'raw', 'open', '{}', 0, 1000, 0, '1',"
        " ?, NULL, NULL, NULL)",
        (session_id, NOW),
    )
    rows = [
        [
            (
                c.count_id,
                session_id,
                c.product_id,
                c.zone,
                "",
                c.quantity_milli,
                "2001",
                "hh-01",
                1,
                None,
                0,
                NOW,
            )
            for c in batch
        ]
        for batch in batches
    ]
    total = sum(len(r) for r in rows)
    started = time.perf_counter()
    for part in rows:
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany(
            "INSERT OR IGNORE INTO stocktake_counts VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            part,
        )
        conn.execute("COMMIT")
    rate = total / (time.perf_counter() - started)
    conn.close()
    return rate


def stream_counts(address: str, session_id: str, per_handheld: list[list]) -> tuple[float, int]:
    """All handhelds stream at once; (counts/s, counts accepted)."""
    channels = [grpc.insecure_channel(address) for _ in range(HANDHELDS)]
    mds = [_login(ch, f"200{i + 1}", f"hh-0{i + 1}") for i, ch in enumerate(channels)]
    results: list[stock_pb2.CountBatchResult] = []
    total = sum(len(b) for batches in per_handheld for b in batches)
    sent = [0] * HANDHELDS
    start_gate = threading.Barrier(HANDHELDS + 1)

    def one(i: int) -> None:
        stub = stock_pb2_grpc.StocktakeServiceStub(channels[i])

        def requests():
            for batch in per_handheld[i]:
                yield stock_pb2.CountBatch(session_id=session_id, counts=batch)
                sent[i] += len(batch)

        start_gate.wait()
        results.append(stub.StreamCounts(requests(), metadata=mds[i], timeout=300))

    threads = [threading.Thread(target=one, args=(i,)) for i in range(HANDHELDS)]
    for t in threads:
        t.start()
    start_gate.wait()
    started = time.perf_counter()
    shown = 0
    while any(t.is_alive() for t in threads):
        time.sleep(0.5)
        if sum(sent) != shown:
            shown = sum(sent)
            progress("counts sent", shown, total)
    elapsed = time.perf_counter() - started
    for ch in channels:
        ch.close()
    return total / elapsed, sum(r.accepted for r in results)


def _fresh(name: str, source: Path) -> Path:
    for leftover in BENCH_DIR.glob(f"{name}*"):
        leftover.unlink()
    path = BENCH_DIR / name
    shutil.copy(source, path)
    return path


def _stocktake(
    source: Path, name: str, make_id: Callable[[], str]
) -> tuple[Path, str, float, float, int, dict[int, int], dict[int, int]]:
    """Stream 100,000 counts into a fresh copy; the raw reference on another copy."""
    db, raw_db = _fresh(f"stock-{name}.db", source), _fresh(f"stock-{name}-raw.db", source)
    rng = random.Random(6)
    books = _prepare(db, rng)
    products = sorted(books)
    # 30% of the shelves differ from the books by -3..+2 units.
    counted = {
        p: max(q + (rng.randint(-3, 2) * 1000 if rng.random() < 0.3 else 0), 0)
        for p, q in books.items()
    }
    per_handheld = [_batches(products, counted, i, make_id) for i in range(HANDHELDS)]
    session_id = str(uuid.uuid4())
    server = start_server(db)
    try:
        channel = grpc.insecure_channel(server.address)
        admin = _login(channel, "1901", "office-01")
        stub = stock_pb2_grpc.StocktakeServiceStub(channel)
        stub.OpenSession(
            stock_pb2.OpenSessionRequest(session_id=session_id, name="全店盘点 bench"),
            metadata=admin,
            timeout=30,
        )
        rate, accepted = stream_counts(server.address, session_id, per_handheld)
        stub.CloseSession(
            stock_pb2.CloseSessionRequest(session_id=session_id), metadata=admin, timeout=30
        )
        channel.close()
    finally:
        server.stop()
    raw_rate = raw_inserts(raw_db, session_id, [b for batches in per_handheld for b in batches])
    return db, session_id, rate, raw_rate, accepted, books, counted


def run() -> bool:
    source = catalog_db(SKUS)
    db, session_id, rate, raw_rate, accepted, books, counted = _stocktake(source, "v7", uuid7)
    print("  the same with random (v4) count ids:", file=sys.stderr, flush=True)
    _, _, v4_rate, v4_raw, _, _, _ = _stocktake(source, "v4", lambda: str(uuid.uuid4()))

    print("  posting with storectl (its own progress follows):", file=sys.stderr, flush=True)
    started = time.perf_counter()
    done = subprocess.run(
        [Path(sys.executable).with_name("storectl"), "stocktake", "post", session_id],
        env={**os.environ, "TILLPOINT_DATABASE": str(db)},
        stdout=subprocess.PIPE,
        text=True,
        timeout=300,
    )
    post_s = time.perf_counter() - started
    with sqlite3.connect(db) as conn:
        adjusted = conn.execute(
            "SELECT count(*) FROM stock_movements WHERE kind = 'stocktake' AND source_id = ?",
            (session_id,),
        ).fetchone()[0]
        wrong = conn.execute(
            "SELECT count(*) FROM stock_levels s JOIN stocktake_variances v"
            " ON v.product_id = s.product_id AND v.session_id = ?"
            " WHERE s.on_hand_milli != v.counted_milli",
            (session_id,),
        ).fetchone()[0]
    expected_adjusted = sum(1 for p in books if counted[p] != books[p])

    count_ok = accepted == SKUS and rate >= COUNT_TARGET
    post_ok = done.returncode == 0 and post_s < POST_TARGET_S and adjusted == expected_adjusted
    print(f"\n== stocktake, {SKUS:,} SKUs, {HANDHELDS} handhelds, synchronous=FULL")
    print(
        f"  raw SQLite inserts    {raw_rate:9,.0f} counts/s (same rows, {BATCH:,} per transaction)"
    )
    print(
        f"  StreamCounts          {rate:9,.0f} counts/s = x{rate / raw_rate:.2f} of raw, "
        f"{accepted:,} accepted, UUIDv7 count ids   [target >= {COUNT_TARGET:,}/s: "
        f"{verdict(count_ok)}]"
    )
    print(
        f"  with UUIDv4 count ids {v4_rate:9,.0f} counts/s = x{v4_rate / v4_raw:.2f} of raw "
        f"{v4_raw:,.0f}/s (random keys: the key index's pages are rewritten)"
    )
    print(f"  {done.stdout.strip()}")
    print(
        f"  post, wall time with interpreter start {post_s:5.1f} s, {adjusted:,} adjusted "
        f"(expected {expected_adjusted:,}), on-hand = counted off by {wrong}"
        f"   [target < {POST_TARGET_S:.0f} s: {verdict(post_ok)}]"
    )
    return count_ok and post_ok


if __name__ == "__main__":
    sys.exit(0 if run() else 1)

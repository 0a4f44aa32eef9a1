"""Selling speed, each figure beside its physical reference in the same run.

- scan (AddItem) p99 while filling 30-line baskets on a 100,000-SKU store,
  vs the raw gRPC echo p99 (target: under 3x);
- CommitSale throughput of 20-line sales from 4 concurrent tills, vs raw
  SQLite inserts of the same rows, one transaction per sale, same synchronous
  setting (target: at least 0.3 of it, and at least 200 sales/s);
- the X report of a shift of 10,000 sales (target: under 1 s).
"""

from __future__ import annotations

import argparse
import random
import shutil
import sqlite3
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import grpc

from bench.pricing_bench import make_promotions
from bench.support import (
    BENCH_DIR,
    Latency,
    catalog_db,
    login_metadata,
    measure_pair,
    progress,
    start_server,
    verdict,
)
from tillpoint.v1 import (
    common_pb2,
    diagnostics_pb2,
    diagnostics_pb2_grpc,
    sales_pb2,
    sales_pb2_grpc,
)

SKUS = 100_000
SCAN_BASKETS = 40
SCAN_LINES = 30
TILLS = 4
COMMITS_PER_TILL = 100
COMMIT_LINES = 20
Z_SALES = 10_000


def _ids() -> str:
    return str(uuid.uuid4())


def _codes(db: Path) -> list[str]:
    with sqlite3.connect(db) as conn:
        return [
            r[0]
            for r in conn.execute(
                "SELECT b.code FROM barcodes b JOIN products p ON p.id = b.product_id "
                "WHERE b.pack_factor = 1 AND p.status = 'active'"
            )
        ]


def _open_till(channel: grpc.Channel, device: str) -> tuple[sales_pb2_grpc.SalesServiceStub, list]:
    md = login_metadata(channel, device)
    stub = sales_pb2_grpc.SalesServiceStub(channel)
    stub.OpenShift(
        sales_pb2.OpenShiftRequest(shift_id=_ids(), float=common_pb2.Money(fen=0)),
        metadata=md,
        timeout=10,
    )
    return stub, md


def _fill(stub: sales_pb2_grpc.SalesServiceStub, md: list, codes: list[str]) -> tuple[str, int]:
    basket_id = _ids()
    stub.CreateBasket(sales_pb2.CreateBasketRequest(basket_id=basket_id), metadata=md, timeout=10)
    basket = None
    for code in codes:
        basket = stub.AddItem(
            sales_pb2.AddItemRequest(basket_id=basket_id, line_id=_ids(), code=code),
            metadata=md,
            timeout=10,
        )
    return basket_id, basket.total.fen


@dataclass(frozen=True)
class CommitBytes:
    """What the run's real commits stored beyond ids and numbers, for the raw
    reference to store the same: receipt JSON, change payload, audit hashes."""

    receipts: list[str]
    payloads: list[str]
    audits: list[tuple[str, str, str]]  # detail, prev_hash, hash


def commit_bytes(db: Path) -> CommitBytes:
    with sqlite3.connect(db) as conn:
        receipts = [
            r[0]
            for r in conn.execute(
                "SELECT receipt FROM sales WHERE device_id LIKE 'bench-till-%' ORDER BY created_at"
            )
        ]
        payloads = [
            r[0]
            for r in conn.execute("SELECT payload FROM change_log WHERE kind = 'sale' ORDER BY seq")
        ]
        audits = [
            (r[0], r[1], r[2])
            for r in conn.execute(
                "SELECT detail, prev_hash, hash FROM audit_log WHERE action = 'sale.commit'"
                " ORDER BY seq"
            )
        ]
    return CommitBytes(receipts, payloads, audits)


def raw_sqlite_commits(db: Path, count: int, lines: int, real: CommitBytes) -> float:
    """The rows a commit writes, by plain sqlite3, one transaction per sale.

    The same rows as CommitSale writes (the counter, the sale, its lines and
    payment, stock movements and on-hand, the basket marked committed, the
    audit entry and the change row), with the texts of this run's real sales
    (receipt JSON and change payload of a 20-line sale with promotions run to
    ~6-7 KB each), so the reference writes as many bytes as the server does.
    """
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    pids = [r[0] for r in conn.execute("SELECT id FROM products LIMIT 500")]
    shift = _ids()
    conn.execute(
        "INSERT INTO shifts (shift_id, device_id, operator_id, business_day, float_fen,"
        " opened_at) VALUES (?, 'raw', '1', '2000-01-01', 0, '2026-01-01')",
        (shift,),
    )
    baskets = [_ids() for _ in range(count)]
    conn.executemany(
        "INSERT INTO baskets (basket_id, device_id, operator_id, status, totalled,"
        " created_at) VALUES (?, 'raw', '1', 'open', 0, '2026-01-01')",
        [(b,) for b in baskets],
    )
    started = time.perf_counter()
    for n in range(count):
        sale = _ids()
        chosen = random.sample(pids, lines)
        receipt = real.receipts[n % len(real.receipts)]
        detail, prev_hash, entry_hash = real.audits[n % len(real.audits)]
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("UPDATE counters SET value = value + 1 WHERE name = 'raw'")
        conn.execute(
            "INSERT INTO sales VALUES (?, ?, 'S01', '2000-01-01', ?, 'raw', '1', ?, NULL,"
            " 1000, 0, 0, 1000, 0, '2026-01-01', ?)",
            (sale, f"R{n}", shift, baskets[n], receipt),
        )
        conn.executemany(
            "INSERT INTO sale_lines VALUES (?, ?, ?, 1000, 1, 50, 50, 50, 1300, 0)",
            [(sale, i, pid) for i, pid in enumerate(chosen, 1)],
        )
        conn.execute(
            "INSERT INTO sale_payments VALUES (?, 1, 'cash', 1000, 1000, '', 0, 0, '')", (sale,)
        )
        conn.executemany(
            "INSERT INTO stock_movements (product_id, quantity_milli, kind,"
            " source_id, created_at) VALUES (?, -1000, 'sale', ?, '2026-01-01')",
            [(pid, sale) for pid in chosen],
        )
        conn.executemany(
            "INSERT INTO stock_levels VALUES (?, -1000) ON CONFLICT (product_id)"
            " DO UPDATE SET on_hand_milli = on_hand_milli - 1000",
            [(pid,) for pid in chosen],
        )
        conn.execute(
            "UPDATE baskets SET status = 'committed', totalled = 1, sale_id = ?"
            " WHERE basket_id = ?",
            (sale, baskets[n]),
        )
        conn.execute(
            "INSERT INTO audit_log VALUES (?, 'a', '1', 'raw', 'sale.commit', '', 'OK', ?, ?, ?)",
            (1_000_000 + n, detail, prev_hash, entry_hash),
        )
        conn.execute(
            "INSERT INTO change_log (kind, key, payload, at) VALUES ('sale', ?, ?, '2026-01-01')",
            (sale, real.payloads[n % len(real.payloads)]),
        )
        conn.execute("COMMIT")
    elapsed = time.perf_counter() - started
    conn.close()
    return count / elapsed


def seed_shift(db: Path, device: str, sales: int) -> None:
    """A closed-loop shortcut: 10,000 sales written straight into one open shift."""
    conn = sqlite3.connect(db, isolation_level=None)
    shift = conn.execute(
        "SELECT shift_id, business_day FROM shifts WHERE device_id = ? AND closed_at IS NULL",
        (device,),
    ).fetchone()
    pid = conn.execute("SELECT id FROM products LIMIT 1").fetchone()[0]
    conn.execute("BEGIN")
    for n in range(sales):
        sale = _ids()
        conn.execute(
            "INSERT INTO sales VALUES (?, ?, 'S01', ?, ?, ?, '1001', ?, NULL, 1000, 50, -5, 995,"
            " 5, '2026-01-01', '{}')",
            (sale, f"Z{n}", shift[1], shift[0], device, _ids()),
        )
        conn.execute(
            "INSERT INTO sale_lines VALUES (?, 1, ?, 1000, 1, 1000, 950, 945, 1300, 0)", (sale, pid)
        )
        conn.execute(
            "INSERT INTO sale_payments VALUES (?, 1, ?, 1000, 995, '', 0, 0, 'r')",
            (sale, "cash" if n % 3 else "bank_card"),
        )
    conn.execute("COMMIT")
    conn.close()


def seed_promotions(db: Path, rng: random.Random) -> None:
    """500 promotions (as in pricing_bench), on this store's real products and categories."""
    from store_server.clock import SystemClock
    from store_server.db.database import Database
    from store_server.db.unit_of_work import Actor, unit_of_work
    from store_server.domain.promotions.codec import to_dict
    from store_server.promotions import create

    with sqlite3.connect(db) as conn:
        categories = [r[0] for r in conn.execute("SELECT name FROM categories")]
    store = Database(db)
    with unit_of_work(store, Actor.system("bench"), SystemClock().now()) as uow:
        for promo in make_promotions(rng, categories=categories):
            create(uow, to_dict(promo), zone="Asia/Shanghai")
    store.dispose()


def run(only: str | None = None) -> bool:
    """The whole selling bench; only="scan" runs just the two scan measurements,
    only="commit" just CommitSale against its raw reference."""
    source = catalog_db(SKUS)
    # Its own file for a one-part run, so it can run beside a full one.
    name = f"sales-{only}-run.db" if only else "sales-run.db"
    db = BENCH_DIR / name
    for leftover in BENCH_DIR.glob(name + "*"):
        leftover.unlink()
    shutil.copy(source, db)
    with sqlite3.connect(db) as conn:
        for oid, role in (
            ("1101", "cashier"),
            ("1102", "cashier"),
            ("1103", "cashier"),
            ("1104", "cashier"),
        ):
            conn.execute(
                "INSERT INTO operators (operator_id, name, role, store_id, pin_hash,"
                " active, failed_pin_count, created_at) SELECT ?, 'bench', ?, 'S01',"
                " pin_hash, 1, 0, created_at FROM operators WHERE operator_id = '1001'",
                (oid, role),
            )
    codes = _codes(db)
    rng = random.Random(11)
    server = start_server(db)
    try:
        channel = grpc.insecure_channel(server.address)
        echo = diagnostics_pb2_grpc.DiagnosticsServiceStub(channel)
        empty = diagnostics_pb2.EchoMessage()
        for _ in range(200):
            echo.Echo(empty, timeout=5)

        # Scans: AddItem answers with the whole basket, so later scans carry more lines.
        stub, md = _open_till(channel, "bench-scan")

        def scans(label: str) -> tuple[Latency, Latency]:
            """Echo and AddItem on fresh 30-line baskets; baskets are made untimed."""
            codes_now = [rng.choice(codes) for _ in range(SCAN_BASKETS * SCAN_LINES)]
            baskets_now = [_ids() for _ in range(SCAN_BASKETS)]
            for basket_id in baskets_now:
                stub.CreateBasket(
                    sales_pb2.CreateBasketRequest(basket_id=basket_id), metadata=md, timeout=10
                )

            def scan(i: int) -> None:
                stub.AddItem(
                    sales_pb2.AddItemRequest(
                        basket_id=baskets_now[i // SCAN_LINES], line_id=_ids(), code=codes_now[i]
                    ),
                    metadata=md,
                    timeout=10,
                )

            return measure_pair(
                lambda i: echo.Echo(empty, timeout=5), scan, SCAN_BASKETS * SCAN_LINES, label=label
            )

        if only != "commit":
            echo_lat, scan_lat = scans("echo + scan")
        seed_promotions(db, rng)
        time.sleep(1.5)  # the server re-reads promotions written by another process
        if only != "commit":
            promo_echo, promo_scan = scans("echo + scan, 500 promotions")
        if only == "scan":
            channel.close()
            return _report_scans(echo_lat, scan_lat, promo_echo, promo_scan)

        # Commits: 4 tills, baskets filled first (not timed), then commit as fast as they can.
        tills = [_open_till(channel, f"bench-till-{i}") for i in range(TILLS)]
        baskets: list[list[tuple[str, int]]] = []
        for t, (tstub, tmd) in enumerate(tills):
            baskets.append(
                [
                    _fill(tstub, tmd, rng.sample(codes, COMMIT_LINES))
                    for _ in range(COMMITS_PER_TILL)
                ]
            )
            progress("baskets filled", (t + 1) * COMMITS_PER_TILL, TILLS * COMMITS_PER_TILL)
        barrier = threading.Barrier(TILLS)

        def commit_all(t: int) -> None:
            tstub, tmd = tills[t]
            barrier.wait()
            for basket_id, total in baskets[t]:
                tstub.CommitSale(
                    sales_pb2.CommitSaleRequest(
                        sale_id=_ids(),
                        basket_id=basket_id,
                        payments=[
                            sales_pb2.Payment(
                                kind=sales_pb2.TENDER_KIND_CASH, amount=common_pb2.Money(fen=total)
                            )
                        ],
                    ),
                    metadata=tmd,
                    timeout=30,
                )

        started = time.perf_counter()
        with ThreadPoolExecutor(TILLS) as pool:
            list(pool.map(commit_all, range(TILLS)))
        commit_rate = TILLS * COMMITS_PER_TILL / (time.perf_counter() - started)
        if only == "commit":
            channel.close()
            return _report_commits(source, db, commit_rate, header=True)

        # Z report: 10,000 sales in one shift, then the X report over gRPC.
        zstub, zmd = _open_till(channel, "bench-z")
        seed_shift(db, "bench-z", Z_SALES)
        started = time.perf_counter()
        report = zstub.XReport(sales_pb2.ShiftReportRequest(), metadata=zmd, timeout=30)
        z_seconds = time.perf_counter() - started
        assert report.sales_count == Z_SALES, report.sales_count
        channel.close()
    finally:
        server.stop()

    scans_ok = _report_scans(echo_lat, scan_lat, promo_echo, promo_scan)
    commits_ok = _report_commits(source, db, commit_rate)
    print(
        f"  X report, {Z_SALES:,} sales {z_seconds * 1000:,.0f} ms"
        f"   (target < 1 s: {verdict(z_seconds < 1)})"
    )
    return scans_ok and commits_ok and z_seconds < 1


def _report_commits(
    source: Path, run_db: Path, commit_rate: float, *, header: bool = False
) -> bool:
    """The raw reference (after the server stopped, on a fresh copy), then both figures."""
    raw_db = BENCH_DIR / f"{run_db.stem}-raw.db"
    for leftover in BENCH_DIR.glob(raw_db.name + "*"):
        leftover.unlink()
    shutil.copy(source, raw_db)
    with sqlite3.connect(raw_db) as conn:
        conn.execute("INSERT INTO counters VALUES ('raw', 0)")
    raw_rate = raw_sqlite_commits(
        raw_db, TILLS * COMMITS_PER_TILL, COMMIT_LINES, commit_bytes(run_db)
    )
    commit_ratio = commit_rate / raw_rate
    if header:  # a full run printed it with the scans
        print(f"\n== selling, {SKUS:,} SKUs, 127.0.0.1, synchronous=FULL")
    print(
        f"  raw SQLite commits   {raw_rate:,.0f} sales/s ({COMMIT_LINES} lines, same rows,"
        f" one transaction each)"
    )
    print(
        f"  CommitSale, {TILLS} tills {commit_rate:,.0f} sales/s = x{commit_ratio:.2f} of raw"
        f" (500 promotions active)"
        f"   (target >= x0.30 and >= 200/s: "
        f"{verdict(commit_ratio >= 0.3 and commit_rate >= 200)})"
    )
    return commit_ratio >= 0.3 and commit_rate >= 200


def _report_scans(
    echo_lat: Latency, scan_lat: Latency, promo_echo: Latency, promo_scan: Latency
) -> bool:
    scan_ratio = scan_lat.p99_ms / echo_lat.p99_ms
    promo_ratio = promo_scan.p99_ms / promo_echo.p99_ms
    print(f"\n== selling, {SKUS:,} SKUs, 127.0.0.1, synchronous=FULL")
    print(f"  raw gRPC echo        p50 {echo_lat.p50_ms:6.3f} ms  p99 {echo_lat.p99_ms:6.3f} ms")
    print(
        f"  scan (AddItem)       p50 {scan_lat.p50_ms:6.3f} ms  p99 {scan_lat.p99_ms:6.3f} ms"
        f"  on {SCAN_LINES}-line baskets"
    )
    print(
        f"  scan/echo            p99 x{scan_ratio:.2f}   (target < x3.00: "
        f"{verdict(scan_ratio < 3)})"
    )
    print(
        f"  scan, 500 promotions p50 {promo_scan.p50_ms:6.3f} ms  p99 {promo_scan.p99_ms:6.3f} ms"
        f"  (echo p99 {promo_echo.p99_ms:.3f} ms: x{promo_ratio:.2f}; target < x3.00: "
        f"{verdict(promo_ratio < 3)})"
    )
    return scan_ratio < 3 and promo_ratio < 3


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=["scan", "commit"], help="run only this part")
    sys.exit(0 if run(parser.parse_args().only) else 1)

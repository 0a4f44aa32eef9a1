"""HQ link speed (issue 7), against a throwaway PostgreSQL cluster this starts:

- (a) replication lag with the link up while 4 tills sell at full speed: per
  sale, from its commit at the store (CommitSale answered) to its row at HQ;
  p99 target under 2 s; beside the same run's raw PostgreSQL insert+commit;
- (b) catch-up of 100,000 queued change rows into PostgreSQL (agent and HQ
  as processes), rows/s, target at least 5,000/s; beside a raw COPY of the
  same rows into an equivalent table, and the CPU each process spent per row
  (what the code costs, whatever else runs on the machine);
- (c) HQ ingestion from 200 simulated stores at once (threads pushing
  PushBatch with synthetic sale rows to one HQ server), rows/s, beside the same
  run's raw COPY and executemany INSERT of the same rows, as ratios.

`python -m bench.hq_bench [--quick]` (--quick: small sizes, for development).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sqlite3
import statistics
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import grpc
import psycopg

from bench.support import BENCH_DIR, login_metadata, progress, verdict
from store_server.db.unit_of_work import CHANGE_SCHEMA_VERSION, receipt_payload
from tests.support.pg import Cluster, start_cluster, stop_cluster
from tillpoint.hq.v1 import replication_pb2, replication_pb2_grpc
from tillpoint.v1 import common_pb2, sales_pb2, sales_pb2_grpc

LAG_TARGET_S = 2.0
CATCH_UP_TARGET = 5_000  # rows/s
STORE = "S01"
DAY = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Sizes:
    lag_sales_per_till: int = 250
    catch_up_rows: int = 100_000
    stores: int = 200
    batches_per_store: int = 2
    rows_per_batch: int = 125


QUICK = Sizes(
    lag_sales_per_till=40, catch_up_rows=10_000, stores=40, batches_per_store=2, rows_per_batch=50
)


# --- synthetic but realistic sale rows ----------------------------------------------------------

_ITEMS = [
    ("可口可乐 330ml", 300, "罐"),
    ("农夫山泉 饮用天然水 550ml", 200, "瓶"),
    ("康师傅 红烧牛肉面", 450, "袋"),
    ("伊利 纯牛奶 250ml", 350, "盒"),
    ("乐事 薯片 原味 75g", 790, "袋"),
    ("金龙鱼 大米 5kg", 3990, "袋"),
]


def sale_row(store_id: str, n: int, at: datetime, rng: random.Random) -> tuple[str, str]:
    """(key, payload JSON) of a sale change row as a store writes it: the frozen
    receipt (2-8 lines, cash or card) as a JSON string, and the shift."""
    lines = []
    total = 0
    for i in range(rng.randint(2, 8)):
        name, price, unit = rng.choice(_ITEMS)
        qty = rng.randint(1, 3)
        lines.append(
            {
                "line_no": i + 1,
                "name": name,
                "sku": f"P{rng.randint(1, 2000)}",
                "quantity_milli": qty * 1000,
                "unit": unit,
                "unit_price_fen": price,
                "base_amount_fen": price * qty,
                "net_amount_fen": price * qty,
                "pack_factor": 1,
                "adjustments": [],
            }
        )
        total += price * qty
    kind = rng.choice(["cash", "bank_card"])
    receipt = {
        "kind": "sale",
        "store_id": store_id,
        "store_name": "Tillpoint",
        "receipt_no": f"{store_id}-{at:%Y%m%d}-{n:06d}",
        "business_day": f"{at:%Y-%m-%d}",
        "at": at.isoformat(),
        "operator_id": "1001",
        "device_id": f"till-{n % 4 + 1:02d}",
        "subtotal_fen": total,
        "discount_fen": 0,
        "rounding_fen": 0,
        "total_fen": total,
        "change_fen": 0,
        "forfeited_fen": 0,
        "original_receipt_no": "",
        "extra": {},
        "lines": lines,
        "payments": [
            {
                "kind": kind,
                "name": "现金" if kind == "cash" else "银行卡",
                "tendered_fen": total,
                "applied_fen": total,
                "currency": "",
                "foreign_amount_minor": 0,
                "reference": "",
            }
        ],
        "member": None,
    }
    # As a store writes it (store_server.checkout): the stored receipt spliced in.
    payload = receipt_payload(
        json.dumps(receipt, ensure_ascii=False, separators=(",", ":")),
        shift_id=str(uuid.UUID(int=rng.getrandbits(128))),
    )
    return str(uuid.UUID(int=rng.getrandbits(128))), payload


@dataclass(frozen=True)
class Row:
    store_id: str
    seq: int
    key: str
    payload: str
    at: datetime


def synthetic_rows(store_id: str, count: int, seed: int) -> list[Row]:
    rng = random.Random(seed)
    rows = []
    for seq in range(1, count + 1):
        at = DAY + timedelta(seconds=seq * 3)
        key, payload = sale_row(store_id, seq, at, rng)
        rows.append(Row(store_id, seq, key, payload, at))
    return rows


# --- the physical references: raw PostgreSQL ------------------------------------------------

_REF_TABLE = """CREATE UNLOGGED TABLE IF NOT EXISTS {name} (
    store_id varchar(16) NOT NULL, seq bigint NOT NULL, txn bigint NOT NULL,
    kind varchar(40) NOT NULL, key varchar(120) NOT NULL, payload json NOT NULL,
    at timestamptz NOT NULL, schema_version integer NOT NULL, received_at timestamptz NOT NULL,
    PRIMARY KEY (store_id, seq))"""


def _ref_table(conn: psycopg.Connection, name: str) -> None:
    # LOGGED like HQ's tables: the reference writes the WAL HQ writes.
    conn.execute(_REF_TABLE.replace("UNLOGGED ", "").format(name=name))
    conn.execute(f"TRUNCATE {name}")
    conn.commit()


def raw_copy_rate(cluster: Cluster, database: str, rows: list[Row]) -> float:
    """Rows/s of one COPY of `rows` into an hq_changes-like table, one transaction."""
    now = datetime.now(UTC)
    with psycopg.connect(cluster.dsn(database)) as conn:
        _ref_table(conn, "ref_copy")
        t0 = time.perf_counter()
        with conn.cursor() as cur:
            copy_sql = (
                "COPY ref_copy (store_id, seq, txn, kind, key, payload, at, "
                "schema_version, received_at) FROM STDIN"
            )
            with cur.copy(copy_sql) as copy:
                for r in rows:
                    copy.write_row(
                        (r.store_id, r.seq, r.seq, "sale", r.key, r.payload, r.at, 2, now)
                    )
        conn.commit()
        return len(rows) / (time.perf_counter() - t0)


def raw_insert_rate(cluster: Cluster, database: str, rows: list[Row], batch: int) -> float:
    """Rows/s of executemany INSERT in transactions of `batch` rows."""
    now = datetime.now(UTC)
    with psycopg.connect(cluster.dsn(database)) as conn:
        _ref_table(conn, "ref_insert")
        t0 = time.perf_counter()
        with conn.cursor() as cur:
            for start in range(0, len(rows), batch):
                cur.executemany(
                    "INSERT INTO ref_insert VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
                    [
                        (r.store_id, r.seq, r.seq, "sale", r.key, r.payload, r.at, 2, now)
                        for r in rows[start : start + batch]
                    ],
                )
                conn.commit()
        return len(rows) / (time.perf_counter() - t0)


def raw_commit_p99_ms(cluster: Cluster, database: str, count: int = 300) -> float:
    """p99 of one-row INSERT + COMMIT round trips."""
    with psycopg.connect(cluster.dsn(database)) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS ref_commit (id bigint PRIMARY KEY, v text)")
        conn.commit()
        samples = []
        for i in range(count):
            t0 = time.perf_counter()
            conn.execute("INSERT INTO ref_commit VALUES (%s, %s)", (i, "x" * 200))
            conn.commit()
            samples.append((time.perf_counter() - t0) * 1000)
    samples.sort()
    return samples[int(len(samples) * 0.99) - 1]


# --- processes ------------------------------------------------------------------------------


def _hq(cluster: Cluster) -> tuple[object, str]:
    from tests.hq.support import HqProcess

    url = cluster.url(cluster.create_database())
    hq = HqProcess(url, tls=False)
    hq.start(timeout=60)
    return hq, url


def _agent(directory: Path, store_db: Path, hq_address: str, **settings: float) -> object:
    """The agent with the production defaults (batch 500 rows, poll every 0.5 s)."""
    from tests.hq.support import AgentProcess

    agent = AgentProcess(directory, store_db, hq_address, tls=False)
    values = {
        "batch_rows": 500,
        "poll_seconds": 0.5,
        "backoff_initial_seconds": 0.2,
        "backoff_max_seconds": 2,
        "lag_log_seconds": 5,
        "rpc_timeout_seconds": 30,
        **settings,
    }
    agent.config.write_text(
        f'[hq_link]\nhq = "{hq_address}"\ninsecure = true\n'
        + "".join(f"{k} = {v}\n" for k, v in values.items()),
        encoding="utf-8",
    )
    return agent


def _cursor(address: str) -> int:
    with grpc.insecure_channel(address) as channel:
        stub = replication_pb2_grpc.ReplicationServiceStub(channel)
        return stub.GetCursor(
            replication_pb2.GetCursorRequest(store_id=STORE), timeout=10
        ).acked_seq


# --- (a) lag with the link up ---------------------------------------------------------------


def _till(address: str, device: str, codes: list[str], sales: int, committed: dict) -> None:
    channel = grpc.insecure_channel(address)
    md = login_metadata(channel, device)
    stub = sales_pb2_grpc.SalesServiceStub(channel)
    stub.OpenShift(
        sales_pb2.OpenShiftRequest(shift_id=str(uuid.uuid4()), float=common_pb2.Money(fen=0)),
        metadata=md,
        timeout=10,
    )
    for i in range(sales):
        basket = str(uuid.uuid4())
        stub.CreateBasket(sales_pb2.CreateBasketRequest(basket_id=basket), metadata=md, timeout=10)
        total = 0
        for code in (codes[i % len(codes)], codes[(i + 1) % len(codes)]):
            total = stub.AddItem(
                sales_pb2.AddItemRequest(
                    basket_id=basket, line_id=str(uuid.uuid4()), code=code, quantity_milli=0
                ),
                metadata=md,
                timeout=10,
            ).total.fen
        sale_id = str(uuid.uuid4())
        stub.CommitSale(
            sales_pb2.CommitSaleRequest(
                sale_id=sale_id,
                basket_id=basket,
                payments=[
                    sales_pb2.Payment(
                        kind=sales_pb2.TENDER_KIND_CASH, amount=common_pb2.Money(fen=total)
                    )
                ],
            ),
            metadata=md,
            timeout=10,
        )
        committed[sale_id] = time.time()
    channel.close()


def bench_lag(cluster: Cluster, work: Path, sizes: Sizes) -> bool:
    from tests.support.catalog_fixture import COKE_CAN, NOODLES, SPRITE_CAN, WATER
    from tests.support.process import ServerProcess
    from tests.support.server import make_template

    print("\n== (a) replication lag, 4 tills selling at full speed, link up")
    template = make_template(work)
    db = work / "store-lag.db"
    shutil.copy(template, db)
    server = ServerProcess(db)
    server.start(timeout=120)
    hq, url = _hq(cluster)
    agent = _agent(work, db, hq.address)  # type: ignore[attr-defined]
    committed: dict[str, float] = {}
    seen: dict[str, float] = {}
    done = threading.Event()

    def watch() -> None:
        # Polls HQ's table every 10 ms: a sale's arrival is known to within that.
        with psycopg.connect(cluster.dsn(url.rsplit("/", 1)[1]), autocommit=True) as conn:
            last = 0
            while not done.is_set():
                rows = conn.execute(
                    "SELECT doc_id, seq FROM hq_sales WHERE store_id = %s AND seq > %s",
                    (STORE, last),
                ).fetchall()
                now = time.time()
                for doc, seq in rows:
                    seen.setdefault(doc, now)
                    last = max(last, seq)
                time.sleep(0.01)

    try:
        agent.start()  # type: ignore[attr-defined]
        # Sell once the agent is up: its start-up is not the link's lag.
        deadline = time.monotonic() + 60
        while "connected to HQ" not in agent.log and time.monotonic() < deadline:  # type: ignore[attr-defined]
            time.sleep(0.05)
        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        codes = [COKE_CAN, WATER, NOODLES, SPRITE_CAN]
        t0 = time.perf_counter()
        with ThreadPoolExecutor(4) as pool:
            for f in [
                pool.submit(
                    _till, server.address, f"till-{n}", codes, sizes.lag_sales_per_till, committed
                )
                for n in range(4)
            ]:
                f.result()
        selling = time.perf_counter() - t0
        deadline = time.monotonic() + 60
        while len(seen.keys() & committed.keys()) < len(committed) and time.monotonic() < deadline:
            time.sleep(0.05)
        done.set()
        watcher.join(timeout=5)
    finally:
        agent.stop()  # type: ignore[attr-defined]
        hq.kill()  # type: ignore[attr-defined]
        server.stop()
    missing = len(committed) - len(seen.keys() & committed.keys())
    lags = sorted(seen[s] - committed[s] for s in committed if s in seen)
    p50 = statistics.median(lags)
    p99 = lags[int(len(lags) * 0.99) - 1]
    ref = raw_commit_p99_ms(cluster, url.rsplit("/", 1)[1])
    ok = p99 < LAG_TARGET_S and missing == 0
    print(
        f"  {len(committed):,} sales in {selling:.1f} s ({len(committed) / selling:,.0f} sales/s "
        f"from 4 tills); lag p50 {p50 * 1000:,.0f} ms, p99 {p99 * 1000:,.0f} ms, "
        f"max {lags[-1] * 1000:,.0f} ms (target p99 < {LAG_TARGET_S:.0f} s; {missing} missing)"
    )
    print(
        f"  reference: raw PostgreSQL insert+commit p99 {ref:.1f} ms; the agent polls every "
        f"500 ms (production default) -> lag p99 / poll interval = {p99 / 0.5:.2f}  "
        f"{verdict(ok)}"
    )
    return ok


# --- (b) catch-up -----------------------------------------------------------------------------


def queued_store(work: Path, count: int) -> Path:
    """A migrated store database with `count` sale change rows nobody shipped yet."""
    from store_server.db import migrate
    from store_server.db.database import Database

    path = work / "store-queued.db"
    db = Database(path)
    migrate.upgrade(db)
    db.dispose()
    conn = sqlite3.connect(path)
    with conn:
        for start in range(0, count, 10_000):
            conn.executemany(
                "INSERT INTO change_log (seq, txn, kind, key, payload, at, schema_version) "
                f"VALUES (?, ?, 'sale', ?, ?, ?, {CHANGE_SCHEMA_VERSION})",
                (
                    (r.seq, r.seq, r.key, r.payload, r.at.strftime("%Y-%m-%d %H:%M:%S.%f"))
                    for r in _rows_range(start, min(start + 10_000, count))
                ),
            )
            progress("queueing change rows", min(start + 10_000, count), count)
    conn.close()
    return path


def _rows_range(start: int, stop: int) -> Iterator[Row]:
    rng = random.Random(start)
    for seq in range(start + 1, stop + 1):
        at = DAY + timedelta(seconds=seq)
        key, payload = sale_row(STORE, seq, at, rng)
        yield Row(STORE, seq, key, payload, at)


def bench_catch_up(cluster: Cluster, work: Path, sizes: Sizes) -> bool:
    count = sizes.catch_up_rows
    print(f"\n== (b) catch-up of {count:,} queued change rows into PostgreSQL")
    db = queued_store(work, count)
    hq, url = _hq(cluster)
    agent = _agent(work, db, hq.address)  # type: ignore[attr-defined]
    hq_pid = hq.proc.pid  # type: ignore[attr-defined]
    cpu = {"hq": -_cpu_seconds(hq_pid), "postgres": -_postgres_cpu_seconds(cluster)}
    load = os.getloadavg()[0]
    try:
        t0 = time.perf_counter()
        agent.start()  # type: ignore[attr-defined]
        at = 0
        next_note = time.perf_counter() + 2
        while at < count:
            time.sleep(0.1)
            try:
                at = _cursor(hq.address)  # type: ignore[attr-defined]
            except grpc.RpcError:
                continue
            if time.perf_counter() >= next_note:
                progress("HQ has", at, count)
                next_note += 2
            if time.perf_counter() - t0 > 600:
                raise SystemExit(f"catch-up stuck at {at:,} of {count:,}:\n{agent.log[-2000:]}")  # type: ignore[attr-defined]
        took = time.perf_counter() - t0
        cpu["agent"] = _cpu_seconds(agent.proc.pid)  # type: ignore[attr-defined]
        cpu["hq"] += _cpu_seconds(hq_pid)
        cpu["postgres"] += _postgres_cpu_seconds(cluster)
        load = max(load, os.getloadavg()[0])
    finally:
        agent.stop()  # type: ignore[attr-defined]
        hq.kill()  # type: ignore[attr-defined]
    rate = count / took
    lines = [line for line in agent.log.splitlines() if "catch-up done" in line]  # type: ignore[attr-defined]
    ref = raw_copy_rate(cluster, url.rsplit("/", 1)[1], list(_rows_range(0, count)))
    ok = rate >= CATCH_UP_TARGET
    print(
        f"  {count:,} rows in {took:.1f} s from the agent's start: {rate:,.0f} rows/s "
        f"(target >= {CATCH_UP_TARGET:,}); agent: {lines[-1].split(': ', 1)[-1] if lines else '?'}"
    )
    # The machine is shared: CPU per row is what the code costs, whatever the load.
    per_row = ", ".join(f"{name} {sec / count * 1e6:,.0f} us" for name, sec in cpu.items())
    print(f"  CPU per row: {per_row} (load average up to {load:.1f} on {os.cpu_count()} cores)")
    print(
        f"  reference: raw COPY of the same rows {ref:,.0f} rows/s; ratio {rate / ref:.2f}  "
        f"{verdict(ok)}"
    )
    return ok


def _cpu_seconds(pid: int) -> float:
    """User + system CPU of a live process (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _postgres_cpu_seconds(cluster: Cluster) -> float:
    """CPU of the cluster's live backends (the postmaster's children)."""
    postmaster = (cluster.root / "data" / "postmaster.pid").read_text().split()[0]
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if fields[1] == postmaster:
                total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, IndexError):
            continue  # gone meanwhile
    return total


# --- (c) 200 stores at once -------------------------------------------------------------------


def bench_many_stores(cluster: Cluster, sizes: Sizes) -> bool:
    stores, per_batch, batches = sizes.stores, sizes.rows_per_batch, sizes.batches_per_store
    total = stores * per_batch * batches
    print(f"\n== (c) HQ ingestion from {stores} stores at once ({total:,} sale rows)")
    store_rows = {
        f"B{n:04d}": synthetic_rows(f"B{n:04d}", per_batch * batches, n) for n in range(stores)
    }
    requests = {
        store: [
            replication_pb2.PushBatchRequest(
                store_id=store,
                first_seq=b * per_batch + 1,
                last_seq=(b + 1) * per_batch,
                rows=[
                    replication_pb2.ChangeRow(
                        seq=r.seq,
                        txn=r.seq,
                        kind="sale",
                        key=r.key,
                        payload_json=r.payload,
                        at=r.at.isoformat(),
                        schema_version=CHANGE_SCHEMA_VERSION,
                    )
                    for r in rows[b * per_batch : (b + 1) * per_batch]
                ],
            )
            for b in range(batches)
        ]
        for store, rows in store_rows.items()
    }
    hq, url = _hq(cluster)
    start = threading.Barrier(stores + 1)
    errors: list[BaseException] = []
    done_rows = [0]
    lock = threading.Lock()

    def store_thread(store: str) -> None:
        channel = grpc.insecure_channel(hq.address)  # type: ignore[attr-defined]
        stub = replication_pb2_grpc.ReplicationServiceStub(channel)
        try:
            grpc.channel_ready_future(channel).result(timeout=30)
            start.wait()
            for request in requests[store]:
                reply = stub.PushBatch(request, timeout=300)
                assert reply.acked_seq == request.last_seq and not reply.quarantined_rows
                with lock:
                    done_rows[0] += len(request.rows)
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            channel.close()

    try:
        threads = [threading.Thread(target=store_thread, args=(s,)) for s in requests]
        for thread in threads:
            thread.start()
        start.wait()
        t0 = time.perf_counter()
        while any(t.is_alive() for t in threads):
            for t in threads:
                t.join(timeout=2)
                if not t.is_alive():
                    continue
                progress("rows at HQ", done_rows[0], total)
                break
        took = time.perf_counter() - t0
    finally:
        hq.kill()  # type: ignore[attr-defined]
    if errors:
        raise SystemExit(f"a store failed: {errors[0]!r}")
    rate = total / took
    flat = [r for rows in store_rows.values() for r in rows]
    database = url.rsplit("/", 1)[1]
    copy = raw_copy_rate(cluster, database, flat)
    insert = raw_insert_rate(cluster, database, flat, per_batch)
    print(
        f"  {total:,} rows from {stores} stores in {took:.1f} s: {rate:,.0f} rows/s "
        f"(with HQ's projections: sales, receipts, payments, lines)"
    )
    print(
        f"  reference: raw COPY {copy:,.0f} rows/s (ratio {rate / copy:.2f}), raw executemany "
        f"INSERT in {per_batch}-row transactions {insert:,.0f} rows/s (ratio {rate / insert:.2f})"
    )
    return True


def run(sizes: Sizes | None = None) -> bool:
    sizes = sizes or Sizes()
    cluster = start_cluster()
    work = BENCH_DIR / f"hq-{uuid.uuid4().hex[:8]}"
    work.mkdir(parents=True)
    try:
        print(f"PostgreSQL on 127.0.0.1:{cluster.port} (fsync off, as the HQ tests run it)")
        results = [
            bench_lag(cluster, work, sizes),
            bench_catch_up(cluster, work, sizes),
            bench_many_stores(cluster, sizes),
        ]
    finally:
        stop_cluster(cluster)
        shutil.rmtree(work, ignore_errors=True)
    return all(results)


def main() -> int:
    p = argparse.ArgumentParser(prog="python -m bench.hq_bench")
    p.add_argument("--quick", action="store_true", help="small sizes, for development")
    p.add_argument("--only", choices=["lag", "catch-up", "stores"], help="one part")
    args = p.parse_args()
    sizes = QUICK if args.quick else Sizes()
    if args.only:
        cluster = start_cluster()
        work = BENCH_DIR / f"hq-{uuid.uuid4().hex[:8]}"
        work.mkdir(parents=True)
        try:
            part = {
                "lag": lambda: bench_lag(cluster, work, sizes),
                "catch-up": lambda: bench_catch_up(cluster, work, sizes),
                "stores": lambda: bench_many_stores(cluster, sizes),
            }[args.only]
            return 0 if part() else 1
        finally:
            stop_cluster(cluster)
            shutil.rmtree(work, ignore_errors=True)
    return 0 if run(sizes) else 1


if __name__ == "__main__":
    sys.exit(main())

"""Shared pieces of the benchmarks: a 100k-SKU store, a server process, statistics."""

from __future__ import annotations

import gc
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import grpc

from tests.support.process import ServerProcess

REPO = Path(__file__).resolve().parents[1]
BENCH_DIR = REPO / "var" / "bench"


def progress(stage: str, done: int, total: int) -> None:
    print(f"  {stage}: {done:,}/{total:,}", file=sys.stderr, flush=True)


def catalog_db(count: int) -> Path:
    """A migrated store database with `count` generated products (built once, then reused)."""
    from store_server.clock import SystemClock
    from store_server.db import migrate
    from store_server.db.database import Database
    from store_server.db.unit_of_work import Actor, unit_of_work
    from store_server.demo.catalog_generator import write_catalog_csv
    from store_server.operators import upsert_operator
    from store_server.product_import import import_products_csv

    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    path = BENCH_DIR / f"catalog-{count}.db"
    if path.exists():
        db = Database(path, synchronous="NORMAL")
        migrate.upgrade(db)  # a store built by an older version: bring it to head
        db.dispose()
        return path
    print(f"building a {count:,}-product store in {path} (once)", file=sys.stderr)
    partial = path.with_suffix(".partial")
    for leftover in BENCH_DIR.glob(partial.name + "*"):
        leftover.unlink()
    csv_path = BENCH_DIR / f"catalog-{count}.csv"
    write_catalog_csv(csv_path, count, progress=lambda d, t: progress("generating", d, t))
    db = Database(partial, synchronous="NORMAL")
    migrate.upgrade(db)
    started = time.perf_counter()
    report = import_products_csv(
        db, csv_path, clock=SystemClock(), actor=Actor.system("bench"), progress=progress
    )
    if not report.ok:
        raise SystemExit(f"generated catalog failed validation: {report.errors[:3]}")
    print(
        f"  imported {report.rows:,} rows in {time.perf_counter() - started:.1f} s", file=sys.stderr
    )
    with unit_of_work(db, Actor.system("bench"), SystemClock().now()) as uow:
        upsert_operator(
            uow, operator_id="1001", name="bench", role="cashier", pin="1111", store_id="S01"
        )
    db.dispose()
    partial.rename(path)
    return path


def start_server(db: Path) -> ServerProcess:
    """The store server as its own process on a free port (as tests start it)."""
    server = ServerProcess(db)
    server.start(timeout=120)
    return server


@dataclass(frozen=True)
class Latency:
    p50_ms: float
    p99_ms: float
    max_ms: float
    per_second: float


def measure(call: Callable[[int], object], count: int, *, label: str) -> Latency:
    """Time `count` sequential calls; prints progress every 25%.

    The benchmark client's own garbage collector is paused while it times
    (and run before), so its pauses are not counted as the server's.
    """
    return _timed(count, label, call)[0]


def measure_pair(
    reference: Callable[[int], object], call: Callable[[int], object], count: int, *, label: str
) -> tuple[Latency, Latency]:
    """Time `call` and its physical `reference` in alternating blocks of 100 calls.

    On a shared machine the speed drifts within a run; alternating makes both
    figures see the same conditions, so their ratio is what compares. Blocks
    rather than single calls, so neither pays for the other's after-effects.
    """
    ref, timed = _timed(count, label, reference, call)
    return ref, timed


BLOCK = 100


def _timed(count: int, label: str, *calls: Callable[[int], object]) -> list[Latency]:
    samples: list[list[float]] = [[] for _ in calls]
    gc.collect()
    gc.disable()
    try:
        for start in range(0, count, BLOCK):
            for call, into in zip(calls, samples, strict=True):
                for i in range(start, min(start + BLOCK, count)):
                    t0 = time.perf_counter()
                    call(i)
                    into.append((time.perf_counter() - t0) * 1000)
            done = min(start + BLOCK, count)
            if done % max(1, count // 4) < BLOCK:
                progress(label, done, count)
    finally:
        gc.enable()
    return [_latency(s) for s in samples]


def _latency(samples: list[float]) -> Latency:
    """Percentiles, and calls/s as if these calls had run alone."""
    samples = sorted(samples)
    return Latency(
        p50_ms=statistics.median(samples),
        p99_ms=samples[int(len(samples) * 0.99) - 1],
        max_ms=samples[-1],
        per_second=len(samples) * 1000 / sum(samples),
    )


def login_metadata(channel: grpc.Channel, device: str = "bench-01") -> list[tuple[str, str]]:
    from tillpoint.v1 import auth_pb2, auth_pb2_grpc

    resp = auth_pb2_grpc.AuthServiceStub(channel).Login(
        auth_pb2.LoginRequest(operator_id="1001", pin="1111", device_id=device), timeout=10
    )
    return [("authorization", f"Bearer {resp.token}"), ("x-device-id", device)]


def verdict(ok: bool) -> str:
    return "target met" if ok else "TARGET MISSED"

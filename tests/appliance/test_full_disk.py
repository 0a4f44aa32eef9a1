"""A full disk during a sale: a clear UNAVAILABLE, health NOT_SERVING, nothing
half-written, and the same sale goes through once space returns."""

from __future__ import annotations

import contextlib
import sqlite3
import subprocess
import threading
import time
from dataclasses import replace
from pathlib import Path

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from store_server.appliance.health_monitor import HealthMonitor
from store_server.appliance.main_loop import run_main_loop
from store_server.appliance.sd_notify import Notifier
from store_server.appliance.settings import ApplianceConfig
from store_server.appliance.storage_probe import probe_storage
from tests.support import catalog_fixture as cf
from tests.support.errors import error_detail, expect_code
from tests.support.server import DEADLINE, start_store
from tests.support.till import Till, cash, new_id

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


def _fill(directory: Path) -> Path:
    """Write a file until the file system has no byte left."""
    filler = directory / "filler"
    chunk = b"\0" * 65536
    with open(filler, "wb", buffering=0) as f:
        for size in (65536, 4096, 512):
            with contextlib.suppress(OSError):
                while True:
                    f.write(chunk[:size])
    return filler


def _truncate_wal(db: Path) -> None:
    """Empty the WAL, so the next commit needs new disk blocks."""
    conn = sqlite3.connect(db, timeout=10)
    try:
        for _ in range(100):
            busy, _, _ = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
            if not busy:
                return
            time.sleep(0.05)
        raise AssertionError("could not checkpoint the WAL")
    finally:
        conn.close()


def _wait_health(stub: health_pb2_grpc.HealthStub, status: int) -> None:
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        if stub.Check(health_pb2.HealthCheckRequest(), timeout=DEADLINE).status == status:
            return
        time.sleep(0.05)
    raise AssertionError(f"health never became {status}")


def test_full_disk_fails_the_sale_cleanly_and_recovers(template_db: Path, small_disk: Path) -> None:
    appliance = replace(ApplianceConfig(), min_free_mb=1, health_interval_seconds=0.1)
    store = start_store(template_db, small_disk, appliance=appliance)
    stop = threading.Event()
    # The main loop as __main__ runs it: health follows the disk.
    loop = threading.Thread(
        target=run_main_loop,
        args=(stop,),
        kwargs={
            "check": store.store.monitor.check,
            "notifier": Notifier({}),
            "health_interval": 0.1,
        },
        daemon=True,
    )
    loop.start()
    health = health_pb2_grpc.HealthStub(store.channel)
    db_path = small_disk / "store.db"
    filler = None
    try:
        till = Till(store)
        till.open_shift()
        first = till.sell(cf.COKE_CAN, cf.WATER)
        till.new_basket()
        till.scan(cf.COKE_CAN)
        basket = till.scan(cf.NOODLES)
        basket_id = till.basket_id
        _truncate_wal(db_path)
        filler = _fill(small_disk)
        assert probe_storage(db_path, 1).free_bytes == 0

        sale_id = new_id()
        err = expect_code(
            grpc.StatusCode.UNAVAILABLE,
            lambda: till.commit(cash(basket.total.fen), sale_id=sale_id),
        )
        assert error_detail(err).reason == "DISK_FULL"
        assert "disk is full" in err.details()
        _wait_health(health, NOT_SERVING)

        # Nothing of the sale is on disk, and the database is sound.
        conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
        for table in ("sales", "sale_lines", "sale_payments"):
            count = f"SELECT count(*) FROM {table} WHERE sale_id = ?"
            assert conn.execute(count, (sale_id,)).fetchone() == (0,), table
        status = "SELECT status FROM baskets WHERE basket_id = ?"
        assert conn.execute(status, (basket_id,)).fetchone() != ("committed",)
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        conn.close()

        # Space returns: health recovers by itself and the till's retry of the
        # same sale goes through, with the next receipt number.
        filler.unlink()
        filler = None
        _wait_health(health, SERVING)
        till.basket_id = basket_id
        sale = till.commit(cash(basket.total.fen), sale_id=sale_id)
        assert int(sale.receipt_no[-4:]) == int(first.receipt_no[-4:]) + 1
        assert sale.total.fen == basket.total.fen
    finally:
        stop.set()
        loop.join(timeout=5)
        if filler is not None:
            filler.unlink(missing_ok=True)
        store.channel.close()
        store.store.stop(grace=1.0)


def test_a_read_only_file_system_is_not_serving(small_disk: Path) -> None:
    """An SD card the kernel remounted read-only: health says so, and recovers."""
    (small_disk / "store.db").write_bytes(b"")
    servicer = health.HealthServicer()
    monitor = HealthMonitor(
        servicer, ["tillpoint.v1.SalesService"], small_disk / "store.db", min_free_bytes=0
    )
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    try:
        state = monitor.start()
        assert state.reason == "DATABASE_READ_ONLY"
        assert "read-only" in monitor.status_text
    finally:
        subprocess.run(["mount", "-o", "remount,rw", str(small_disk)], check=True)
    assert monitor.check().ok
    assert monitor.status_text == "serving"

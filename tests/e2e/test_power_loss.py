"""Power cuts of the store box while tills commit sales.

Two tills sell continuously against a real server process. At random points
the server is SIGKILLed and its SQLite file is copied with its -wal and -shm,
as a power cut leaves them (the store runs synchronous=FULL, so what the
kernel had is what the disk has), and the server restarts from the copy. Each
copy must open, pass PRAGMA integrity_check, and hold every sale a till saw
acknowledged before the cut; the tills retry with the same ids, and at the end
every acknowledged sale is there exactly once and nothing else is. With the
hq_link agent on the box too, HQ catches up after the cuts with every sale once.
"""

from __future__ import annotations

import random
import shutil
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import grpc
import pytest

from tests.hq.support import AgentProcess, HqProcess, assert_hq_has_everything_once
from tests.support import catalog_fixture as cf
from tests.support.process import ServerProcess, free_port
from tillpoint.v1 import auth_pb2, auth_pb2_grpc, common_pb2, sales_pb2, sales_pb2_grpc

CUTS = 20
TILLS = (("1001", "1111", "till-01"), ("1002", "2222", "till-02"))
RETRYABLE = {
    grpc.StatusCode.UNAVAILABLE,
    grpc.StatusCode.DEADLINE_EXCEEDED,
    grpc.StatusCode.CANCELLED,
}
# Reconnect quickly after a restart (gRPC's default backoff grows to minutes).
CHANNEL_OPTIONS = [
    ("grpc.initial_reconnect_backoff_ms", 100),
    ("grpc.min_reconnect_backoff_ms", 100),
    ("grpc.max_reconnect_backoff_ms", 500),
]


def retry(call: Callable[[], Any], *, budget: float = 60) -> Any:
    deadline = time.monotonic() + budget
    while True:
        try:
            return call()
        except grpc.RpcError as err:
            if err.code() not in RETRYABLE or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


class Till:
    """A till that sells until told to stop, retrying every call with the same ids."""

    def __init__(self, address: str, operator: tuple[str, str, str], seed: int) -> None:
        self.operator_id, self.pin, self.device_id = operator
        self.channel = grpc.insecure_channel(address, options=CHANNEL_OPTIONS)
        self.sales = sales_pb2_grpc.SalesServiceStub(self.channel)
        self.rng = random.Random(seed)
        self.acknowledged: dict[str, str] = {}  # sale id -> receipt no
        self.lock = threading.Lock()
        self.error: BaseException | None = None
        self.md: list[tuple[str, str]] = []

    def start(self, stop: threading.Event) -> threading.Thread:
        auth = auth_pb2_grpc.AuthServiceStub(self.channel)
        login = retry(
            lambda: auth.Login(
                auth_pb2.LoginRequest(
                    operator_id=self.operator_id, pin=self.pin, device_id=self.device_id
                ),
                timeout=5,
            )
        )
        self.md = [("authorization", f"Bearer {login.token}"), ("x-device-id", self.device_id)]
        shift_id = str(uuid.uuid4())
        retry(
            lambda: self.sales.OpenShift(
                sales_pb2.OpenShiftRequest(shift_id=shift_id, float=common_pb2.Money(fen=10_000)),
                metadata=self.md,
                timeout=5,
            )
        )
        thread = threading.Thread(target=self._run, args=(stop,), daemon=True)
        thread.start()
        return thread

    def acked(self) -> dict[str, str]:
        with self.lock:
            return dict(self.acknowledged)

    def _run(self, stop: threading.Event) -> None:
        try:
            while not stop.is_set():
                self._sell_one()
        except BaseException as exc:  # surfaced by the test
            self.error = exc

    def _sell_one(self) -> None:
        basket_id, sale_id = str(uuid.uuid4()), str(uuid.uuid4())
        md, sales = self.md, self.sales
        retry(
            lambda: sales.CreateBasket(
                sales_pb2.CreateBasketRequest(basket_id=basket_id), metadata=md, timeout=2
            )
        )
        basket = None
        for code in self.rng.sample([cf.COKE_CAN, cf.COKE_CASE, cf.WATER, cf.NOODLES], 2):
            line_id = str(uuid.uuid4())
            basket = retry(
                lambda c=code, ln=line_id: sales.AddItem(
                    sales_pb2.AddItemRequest(basket_id=basket_id, line_id=ln, code=c),
                    metadata=md,
                    timeout=2,
                )
            )
        total = basket.total.fen
        pay = [
            sales_pb2.Payment(kind=sales_pb2.TENDER_KIND_CASH, amount=common_pb2.Money(fen=total))
        ]
        sale = retry(
            lambda: sales.CommitSale(
                sales_pb2.CommitSaleRequest(sale_id=sale_id, basket_id=basket_id, payments=pay),
                metadata=md,
                timeout=2,
            )
        )
        assert sale.total.fen == total
        # A retried commit answers with the first sale: same receipt number.
        again = sale
        if self.rng.random() < 0.2:
            again = retry(
                lambda: sales.CommitSale(
                    sales_pb2.CommitSaleRequest(sale_id=sale_id, basket_id=basket_id, payments=pay),
                    metadata=md,
                    timeout=2,
                )
            )
        assert again.receipt_no == sale.receipt_no
        with self.lock:
            self.acknowledged[sale_id] = sale.receipt_no


def copy_as_power_cut_leaves_it(db: Path, directory: Path) -> Path:
    directory.mkdir()
    for suffix in ("", "-wal", "-shm"):
        src = Path(f"{db}{suffix}")
        if src.exists():
            shutil.copy(src, directory / f"store.db{suffix}")
    return directory / "store.db"


def sales_in(db: Path) -> dict[str, str]:
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        return dict(conn.execute("SELECT sale_id, receipt_no FROM sales").fetchall())


@pytest.mark.slow
def test_power_cuts_while_tills_commit_lose_and_duplicate_nothing(
    template_db: Path, tmp_path: Path
) -> None:
    db = tmp_path / "boot" / "store.db"
    db.parent.mkdir()
    shutil.copy(template_db, db)
    server = ServerProcess(db, port=free_port())
    server.start()
    rng = random.Random(1123)
    tills = [Till(server.address, op, seed=i) for i, op in enumerate(TILLS)]
    stop = threading.Event()
    threads = [till.start(stop) for till in tills]
    survived = 0
    try:
        for cut in range(CUTS):
            # Cut only while the tills are selling: wait for a fresh sale first.
            floor = sum(len(t.acked()) for t in tills)
            deadline = time.monotonic() + 30
            while sum(len(t.acked()) for t in tills) <= floor and time.monotonic() < deadline:
                assert all(t.error is None for t in tills), [t.error for t in tills]
                time.sleep(0.02)
            time.sleep(rng.uniform(0.0, 0.4))
            server.kill()
            acked = {k: v for t in tills for k, v in t.acked().items()}
            copy = copy_as_power_cut_leaves_it(server.db, tmp_path / f"cut-{cut:02d}")
            on_disk = sales_in(copy)
            missing = acked.keys() - on_disk.keys()
            assert not missing, f"cut {cut}: acknowledged sales lost: {sorted(missing)[:5]}"
            assert all(on_disk[k] == v for k, v in acked.items())
            survived += 1
            server.db = copy
            server.start()
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
        assert all(t.error is None for t in tills), [t.error for t in tills]
    finally:
        stop.set()
        for till in tills:
            till.channel.close()
        server.stop()

    assert survived == CUTS
    acknowledged = {k: v for t in tills for k, v in t.acked().items()}
    final = sales_in(server.db)
    # Every acknowledged sale exactly once (sale_id is the key), nothing unacknowledged.
    assert final == acknowledged
    assert len(set(final.values())) == len(final)  # no receipt number twice
    with sqlite3.connect(server.db) as conn:
        # No half-written sale: each has its 2 lines, its payment and its movements.
        assert conn.execute("""SELECT count(*) FROM sales s WHERE
            (SELECT count(*) FROM sale_lines l WHERE l.sale_id = s.sale_id) != 2 OR
            (SELECT count(*) FROM sale_payments p WHERE p.sale_id = s.sale_id) != 1 OR
            (SELECT count(*) FROM stock_movements m WHERE m.source_id = s.sale_id) != 2
            """).fetchone() == (0,)
    print(f"power loss: {survived} cuts survived, {len(final)} sales, none lost or doubled")


HQ_CUTS = 5


@pytest.mark.slow
def test_after_power_cuts_the_hq_link_catches_up_with_every_sale_once(
    template_db: Path, tmp_path: Path
) -> None:
    """The box loses power with the agent on it; HQ (elsewhere, over mTLS) keeps running."""
    db = tmp_path / "boot" / "store.db"
    db.parent.mkdir()
    shutil.copy(template_db, db)
    hq_url = f"sqlite:///{tmp_path / 'hq.db'}"
    hq = HqProcess(hq_url)
    hq.start()
    server = ServerProcess(db, port=free_port())
    server.start()
    agent = AgentProcess(tmp_path, db, hq.address)
    agent.start()
    rng = random.Random(2311)
    till = Till(server.address, TILLS[0], seed=7)
    stop = threading.Event()
    thread = till.start(stop)
    try:
        for cut in range(HQ_CUTS):
            floor = len(till.acked())
            deadline = time.monotonic() + 30
            while len(till.acked()) <= floor + 2 and time.monotonic() < deadline:
                assert till.error is None, till.error
                time.sleep(0.02)
            time.sleep(rng.uniform(0.0, 0.3))
            server.kill()  # the power cut takes the agent with it
            agent.kill()
            acked = till.acked()
            copy = copy_as_power_cut_leaves_it(server.db, tmp_path / f"cut-{cut:02d}")
            assert acked.keys() <= sales_in(copy).keys()
            server.db = copy
            server.start()
            agent = AgentProcess(tmp_path / f"cut-{cut:02d}", copy, hq.address)
            agent.start()
        stop.set()
        thread.join(timeout=60)
        assert till.error is None, till.error
        server.stop()  # a clean stop: the change log is final from here on
        deadline = time.monotonic() + 60
        while True:
            try:
                assert_hq_has_everything_once(hq_url, server.db)
                break
            except AssertionError as err:
                if time.monotonic() > deadline:
                    raise AssertionError(f"HQ did not catch up:\n{agent.log[-3000:]}") from err
                time.sleep(0.2)
    finally:
        stop.set()
        till.channel.close()
        server.stop()
        agent.stop()
        hq.stop()
    assert sales_in(server.db) == till.acked()
    print(f"power loss + hq_link: {HQ_CUTS} cuts, {len(till.acked())} sales at HQ, each once")

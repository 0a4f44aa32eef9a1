"""不停业盘点: 2 tills sell while 3 handhelds count a 5,000-product store.

The test keeps the shelves' true contents (`physical`): the books minus the
planted shrinkage, minus what the tills sell, plus what they take back. A
handheld counts a shelf while no till is taking those products off it (a lock
per product, taken in product order by everyone, so nobody deadlocks): what it
counts is exactly what is on the shelf at that moment. The posted variance
must then be the planted shrinkage, to the unit, and nothing else.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from store_server.clock import ManualClock
from store_server.db import fast, migrate, stock_repo
from store_server.db.database import Database
from store_server.db.unit_of_work import Actor, unit_of_work
from store_server.demo.catalog_generator import write_catalog_csv
from store_server.operators import upsert_operator
from store_server.product_import import import_products_csv
from tests.support.handheld import Handheld, count, new_id
from tests.support.server import OPERATORS, START, RunningStore, start_store
from tests.support.till import Till, cash
from tillpoint.v1 import common_pb2, sales_pb2, stock_pb2

PRODUCTS = 5000
BATCH = 100
SHRUNK = 150


@pytest.fixture(scope="module")
def big_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("big")
    path = directory / "template.db"
    db = Database(path, synchronous="NORMAL")
    migrate.upgrade(db)
    csv_path = directory / "catalog.csv"
    write_catalog_csv(csv_path, PRODUCTS)
    clock = ManualClock(START)
    report = import_products_csv(db, csv_path, clock=clock, actor=Actor.system("test"))
    assert report.ok, report.errors[:3]
    with unit_of_work(db, Actor.system("test"), clock.now()) as uow:
        for oid, name, role, pin in (*OPERATORS, ("1005", "收银员 小李", "cashier", "5555")):
            upsert_operator(uow, operator_id=oid, name=name, role=role, pin=pin, store_id="S01")
        for i in range(3):
            upsert_operator(
                uow,
                operator_id=f"200{i}",
                name=f"理货员 {i}",
                role="stock_clerk",
                pin="4444",
                store_id="S01",
            )
    db.dispose()
    return path


@pytest.fixture
def big_store(big_template: Path, tmp_path: Path) -> Iterator[RunningStore]:
    running = start_store(big_template, tmp_path)
    yield running
    running.channel.close()
    running.store.stop(grace=1.0)


class Worker(threading.Thread):
    """A thread whose failure fails the test."""

    def __init__(self, target: object, args: tuple) -> None:
        super().__init__(daemon=True)
        self._work, self._args = target, args
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self._work(*self._args)  # type: ignore[operator]
        except BaseException as exc:
            self.error = exc
            raise


class Shelves:
    """The true stock, and a lock per product for whoever is touching its shelf."""

    def __init__(self, physical: dict[int, int]) -> None:
        self.physical = physical
        self._locks = {p: threading.Lock() for p in physical}

    @contextmanager
    def holding(self, products: list[int]) -> Iterator[None]:
        ordered = sorted(set(products))
        for p in ordered:
            self._locks[p].acquire()
        try:
            yield
        finally:
            for p in reversed(ordered):
                self._locks[p].release()


def stock_up(office: Handheld, rng: random.Random, products: list[int]) -> dict[int, int]:
    office.call(
        "UpsertSupplier",
        stock_pb2.UpsertSupplierRequest(
            supplier=stock_pb2.Supplier(supplier_id="DC", name="配送中心", lead_days=1)
        ),
    )
    books = {p: rng.randint(5, 40) * 1000 for p in products}
    for start in range(0, len(products), 1000):
        office.call(
            "ReceiveDelivery",
            stock_pb2.ReceiveDeliveryRequest(
                delivery_id=new_id(),
                supplier_id="DC",
                reference=f"DN-{start}",
                lines=[
                    stock_pb2.StockLineInput(product_id=p, quantity_milli=books[p])
                    for p in products[start : start + 1000]
                ],
            ),
        )
    return books


def run_till(
    store: RunningStore,
    shelves: Shelves,
    codes: dict[int, str],
    operator: tuple[str, str],
    device: str,
    seed: int,
    stop: threading.Event,
    done: list[tuple[int, str]],
) -> None:
    rng = random.Random(seed)
    till = Till(store, device_id=device, operator=operator)
    till.open_shift()
    sellable = sorted(codes)
    n = 0
    while not stop.is_set():
        picked = rng.sample(sellable, rng.randint(1, 2))
        till.new_basket()
        basket = None
        for p in picked:
            basket = till.scan(codes[p])
        with shelves.holding(picked):
            if any(shelves.physical[p] < 1000 for p in picked):
                till.call("ClearBasket", sales_pb2.BasketRef(basket_id=till.basket_id))
                till.basket_id = ""
                continue
            sale = till.commit(cash(basket.total.fen))
            for p in picked:
                shelves.physical[p] -= 1000
                done.append((p, "sale"))
        n += 1
        if n % 7 == 0:  # a customer brings the first item back
            back = picked[0]  # line 1 is the first scan
            with shelves.holding([back]):
                till.call(
                    "ReturnItems",
                    sales_pb2.ReturnRequest(
                        return_id=new_id(),
                        receipt_no=sale.receipt_no,
                        lines=[
                            sales_pb2.ReturnLineRequest(
                                line_no=1, quantity=common_pb2.Quantity(milli=1000)
                            )
                        ],
                    ),
                )
                shelves.physical[back] += 1000
                done.append((back, "return"))


def run_handheld(
    store: RunningStore,
    shelves: Shelves,
    session_id: str,
    products: list[int],
    codes: dict[int, str],
    number: int,
    results: list[stock_pb2.CountBatchResult],
) -> None:
    hh = Handheld(store, device_id=f"hh-0{number}", operator=(f"200{number}", "4444"))
    previous: list[stock_pb2.Count] = []
    for i, start in enumerate(range(0, len(products), BATCH)):
        part = products[start : start + BATCH]
        with shelves.holding(part):
            batch = [
                count(code=codes[p], quantity_milli=shelves.physical[p], zone=f"Z{number}")
                if p in codes and p % 2
                else count(p, shelves.physical[p], zone=f"Z{number}")
                for p in part
            ]
            # Handheld 2 uploads by stream, the others batch by batch.
            if number == 2:
                results.append(hh.stream(session_id, [batch[:50], batch[50:]]))
            else:
                results.append(hh.send(session_id, batch))
        if i % 5 == 4:  # the connection dropped: the last batch goes again
            results.append(hh.send(session_id, previous))
        previous = batch
        time.sleep(0.01)  # a clerk walks to the next shelf; the tills keep selling


def test_variance_is_exactly_the_planted_shrinkage_while_tills_sell(
    big_store: RunningStore,
) -> None:
    store = big_store
    rng = random.Random(6)
    with store.db.read() as conn:
        products = [p for (p,) in fast.execute(conn, "SELECT id FROM products ORDER BY id")]
        codes = dict(
            fast.execute(
                conn,
                "SELECT product_id, min(code) FROM barcodes WHERE pack_factor = 1 "
                "GROUP BY product_id",
            )
        )
    assert len(products) == PRODUCTS
    office = Handheld(store, device_id="office-01", operator=("1003", "3333"))
    books = stock_up(office, rng, products)
    shrunk = {p: rng.randint(1, 3) * 1000 for p in rng.sample(products, SHRUNK)}
    shelves = Shelves({p: books[p] - shrunk.get(p, 0) for p in products})
    session_id = new_id()
    office.call("OpenSession", stock_pb2.OpenSessionRequest(session_id=session_id, name="全店盘点"))
    # The tills sell from the products counted first and last, so sales land
    # both before and after each product's count.
    hot = {p: codes[p] for p in products[:60] + products[1640:1700] + products[-60:] if p in codes}
    stop = threading.Event()
    sold: list[tuple[int, str]] = []
    tills = [
        Worker(
            target=run_till,
            args=(store, shelves, hot, op, f"till-0{i}", i, stop, sold),
        )
        for i, op in enumerate((("1001", "1111"), ("1005", "5555")))
    ]
    for t in tills:
        t.start()
    time.sleep(0.3)  # sales after the snapshot and before any count
    thirds = [products[i::3] for i in range(3)]
    results: list[stock_pb2.CountBatchResult] = []
    handhelds = [
        Worker(
            target=run_handheld,
            args=(store, shelves, session_id, sorted(thirds[i]), codes, i, results),
        )
        for i in range(3)
    ]
    for h in handhelds:
        h.start()
    for h in handhelds:
        h.join(timeout=120)
    time.sleep(0.2)  # sales after the last count
    stop.set()
    for t in tills:
        t.join(timeout=30)
    assert not any(t.is_alive() for t in (*tills, *handhelds))
    assert [w.error for w in (*tills, *handhelds) if w.error] == []

    assert sum(r.accepted for r in results) == PRODUCTS
    assert sum(r.duplicates for r in results) > 0  # the re-sent batches
    assert not any(r.rejected for r in results)
    assert sum(1 for _, kind in sold if kind == "sale") >= 20
    assert any(kind == "return" for _, kind in sold)

    office.call("CloseSession", stock_pb2.CloseSessionRequest(session_id=session_id))
    pages = office.report(session_id, nonzero_only=True)
    variance = {ln.product_id: ln.variance_milli for pg in pages for ln in pg.lines}
    assert variance == {p: -k for p, k in shrunk.items()}
    posted = office.call("PostSession", stock_pb2.PostSessionRequest(session_id=session_id))
    assert posted.products_counted == PRODUCTS
    assert posted.products_adjusted == SHRUNK
    assert posted.variance_milli == -sum(shrunk.values())

    with store.db.read() as conn:
        on_hand = stock_repo.levels(conn)
        assert stock_repo.mismatches(conn) == []
        snapshot = fast.execute(
            conn, "SELECT snapshot_seq FROM stocktake_sessions WHERE session_id = ?", (session_id,)
        )[0][0]
        counted_at = dict(
            fast.execute(
                conn,
                "SELECT product_id, seen_seq FROM stocktake_counts WHERE session_id = ?",
                (session_id,),
            )
        )
        moves = [
            (seq, p)
            for seq, p, _ in stock_repo.moves_after(conn, snapshot)
            if p in counted_at and seq != 0
        ]
    # After posting the books are the shelves.
    assert on_hand == shelves.physical
    # The sales really did land on both sides of their products' counts.
    assert any(seq <= counted_at[p] for seq, p in moves)
    assert any(seq > counted_at[p] for seq, p in moves)

"""storectl stock rebuild gives the cached on-hand back after 10,000 random movements."""

from __future__ import annotations

import contextlib
import io
import os
import random
from pathlib import Path
from unittest import mock

from store_server.cli.main import main
from store_server.db import fast, stock_repo
from store_server.db.database import Database
from tests.support import catalog_fixture as cf
from tests.support.handheld import Handheld, new_id
from tests.support.server import RunningStore
from tests.support.till import Till
from tillpoint.v1 import stock_pb2

MOVEMENTS = 10_000


def storectl(db: Path, *args: str) -> tuple[int, str]:
    out = io.StringIO()
    with (
        mock.patch.dict(os.environ, {"TILLPOINT_DATABASE": str(db)}),
        contextlib.redirect_stdout(out),
        contextlib.redirect_stderr(io.StringIO()),
    ):
        code = main(list(args))
    return code, out.getvalue()


def random_document(rng: random.Random, products: list[int]) -> tuple[str, object]:
    lines = [
        stock_pb2.StockLineInput(
            product_id=rng.choice(products), quantity_milli=rng.randint(1, 90_000)
        )
        for _ in range(rng.randint(1, 80))
    ]
    kind = rng.choice(("receive", "receive", "out", "in", "adjust", "split"))
    if kind == "receive":
        return "ReceiveDelivery", stock_pb2.ReceiveDeliveryRequest(
            delivery_id=new_id(), supplier_id="SUP1", lines=lines
        )
    if kind == "out":
        return "SendTransfer", stock_pb2.SendTransferRequest(
            transfer_id=new_id(), to_store_id="S02", lines=lines
        )
    if kind == "in":
        return "ReceiveTransfer", stock_pb2.ReceiveTransferRequest(
            transfer_id=new_id(), from_store_id="S03", lines=lines
        )
    if kind == "adjust":
        for ln in lines:
            ln.quantity_milli *= rng.choice((1, -1))
        return "AdjustStock", stock_pb2.AdjustStockRequest(
            adjustment_id=new_id(), reason="随机调整", lines=lines
        )
    case, unit = rng.sample(products, 2)
    return "SplitPack", stock_pb2.SplitPackRequest(
        split_id=new_id(),
        case_product_id=case,
        unit_product_id=unit,
        cases_milli=rng.randint(1, 5) * 1000,
        units_per_case=rng.choice((6, 12, 24)),
        assemble=rng.random() < 0.3,
    )


def test_rebuild_equals_the_cache_after_10000_random_movements(store: RunningStore) -> None:
    rng = random.Random(10_000)
    office = Handheld(store, device_id="office-01", operator=("1003", "3333"))
    office.call(
        "UpsertSupplier",
        stock_pb2.UpsertSupplierRequest(
            supplier=stock_pb2.Supplier(supplier_id="SUP1", name="供应商", lead_days=2)
        ),
    )
    with store.db.read() as conn:
        products = [p for (p,) in fast.execute(conn, "SELECT id FROM products")]
    till = Till(store)
    till.open_shift()
    for _ in range(20):  # sales write their movements too (a case scan moves 24)
        till.sell(*rng.sample([cf.COKE_CAN, cf.COKE_CASE, cf.WATER, cf.NOODLES], 2))
    while True:
        with store.db.read() as conn:
            moved = fast.execute(conn, "SELECT count(*) FROM stock_movements")[0][0]
        if moved >= MOVEMENTS:
            break
        office.call(*random_document(rng, products))
    path = store.db.path
    store.channel.close()
    store.store.stop(grace=1.0)

    db = Database(path)
    with db.read() as conn:
        cached = stock_repo.levels(conn)
        summed = stock_repo.summed_levels(conn)
    assert cached == summed and len(cached) == len(products)
    code, out = storectl(path, "stock", "rebuild")
    assert code == 0, out
    assert f"{len(products)} products, 0 corrected" in out
    with db.read() as conn:
        assert stock_repo.levels(conn) == cached
    # A cache that went wrong (a crash of an older version, a hand edit) is found and mended.
    with db.write() as conn:
        fast.execute(conn, "UPDATE stock_levels SET on_hand_milli = on_hand_milli + 7")
    assert storectl(path, "stock", "check")[0] == 1
    code, out = storectl(path, "stock", "rebuild")
    assert f"{len(products)} corrected" in out
    assert storectl(path, "stock", "check")[0] == 0
    with db.read() as conn:
        assert stock_repo.levels(conn) == cached
    db.dispose()

"""SIGKILL the store server at random moments while a till commits 500 sales.

The till retries every call with the same ids until it gets an answer, as the
real till does. Afterwards: every sale the till saw acknowledged is there
exactly once, no sale is half-written, receipt numbers have no gaps, and
stock equals the sum of the movements.
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

from tests.support import catalog_fixture as cf
from tests.support.process import ServerProcess, free_port
from tillpoint.v1 import auth_pb2, auth_pb2_grpc, common_pb2, sales_pb2, sales_pb2_grpc

SALES = 500
MAX_KILLS = 15
RETRYABLE = {
    grpc.StatusCode.UNAVAILABLE,
    grpc.StatusCode.DEADLINE_EXCEEDED,
    grpc.StatusCode.CANCELLED,
}


def retry(call: Callable[[], Any], *, budget: float = 120) -> Any:
    deadline = time.monotonic() + budget
    while True:
        try:
            return call()
        except grpc.RpcError as err:
            if err.code() not in RETRYABLE or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def test_sigkill_during_commits_loses_and_duplicates_nothing(
    template_db: Path, tmp_path: Path
) -> None:
    db = tmp_path / "store.db"
    shutil.copy(template_db, db)
    server = ServerProcess(db, port=free_port())
    server.start()
    rng = random.Random(2026)
    stop = threading.Event()
    kills = 0

    def killer() -> None:
        nonlocal kills
        while not stop.wait(rng.uniform(0.3, 1.5)) and kills < MAX_KILLS:
            server.kill()
            kills += 1
            server.start()

    channel = grpc.insecure_channel(server.address)
    auth = auth_pb2_grpc.AuthServiceStub(channel)
    sales = sales_pb2_grpc.SalesServiceStub(channel)
    login = retry(
        lambda: auth.Login(
            auth_pb2.LoginRequest(operator_id="1001", pin="1111", device_id="till-01"), timeout=5
        )
    )
    md = [("authorization", f"Bearer {login.token}"), ("x-device-id", "till-01")]
    shift_id = str(uuid.uuid4())
    retry(
        lambda: sales.OpenShift(
            sales_pb2.OpenShiftRequest(shift_id=shift_id, float=common_pb2.Money(fen=10_000)),
            metadata=md,
            timeout=5,
        )
    )

    thread = threading.Thread(target=killer, daemon=True)
    thread.start()
    acknowledged: dict[str, str] = {}
    codes = [cf.COKE_CAN, cf.COKE_CASE, cf.WATER, cf.NOODLES, cf.UPC_CHIPS]
    try:
        for _ in range(SALES):
            basket_id, sale_id = str(uuid.uuid4()), str(uuid.uuid4())
            retry(
                lambda b=basket_id: sales.CreateBasket(
                    sales_pb2.CreateBasketRequest(basket_id=b), metadata=md, timeout=2
                )
            )
            basket = None
            for code in rng.sample(codes, 2):
                line_id = str(uuid.uuid4())
                basket = retry(
                    lambda b=basket_id, c=code, ln=line_id: sales.AddItem(
                        sales_pb2.AddItemRequest(basket_id=b, line_id=ln, code=c),
                        metadata=md,
                        timeout=2,
                    )
                )
            total = basket.total.fen
            sale = retry(
                lambda b=basket_id, s=sale_id, t=total: sales.CommitSale(
                    sales_pb2.CommitSaleRequest(
                        sale_id=s,
                        basket_id=b,
                        payments=[
                            sales_pb2.Payment(
                                kind=sales_pb2.TENDER_KIND_CASH, amount=common_pb2.Money(fen=t)
                            )
                        ],
                    ),
                    metadata=md,
                    timeout=2,
                )
            )
            assert sale.total.fen == total
            acknowledged[sale_id] = sale.receipt_no
    finally:
        stop.set()
        thread.join(timeout=60)
        channel.close()
        server.stop()

    assert kills >= 5, "the server was hardly killed: the test proved little"
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        rows = dict(conn.execute("SELECT sale_id, receipt_no FROM sales").fetchall())
        assert rows == acknowledged  # every acknowledged sale, exactly once, nothing more
        numbers = sorted(int(no.rsplit("-", 1)[1]) for no in rows.values())
        assert numbers == list(range(1, SALES + 1))
        # No half-written sale: each has its 2 lines, its payment and its movements.
        assert conn.execute("""SELECT count(*) FROM sales s WHERE
            (SELECT count(*) FROM sale_lines l WHERE l.sale_id = s.sale_id) != 2 OR
            (SELECT count(*) FROM sale_payments p WHERE p.sale_id = s.sale_id) != 1 OR
            (SELECT count(*) FROM stock_movements m WHERE m.source_id = s.sale_id) != 2
            """).fetchone() == (0,)
        mismatched = conn.execute("""SELECT count(*) FROM stock_levels l WHERE l.on_hand_milli !=
            (SELECT sum(m.quantity_milli) FROM stock_movements m
             WHERE m.product_id = l.product_id)""").fetchone()
        assert mismatched == (0,)
        total_moved = conn.execute("SELECT sum(quantity_milli) FROM stock_movements").fetchone()
        expected = conn.execute(
            "SELECT -sum(quantity_milli * pack_factor) FROM sale_lines"
        ).fetchone()
        assert total_moved == expected

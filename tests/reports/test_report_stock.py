"""Stocktake variance and the replenishment list as reports (reusing store_server.stock)."""

from __future__ import annotations

import uuid

from store_server.config import Config
from store_server.db.unit_of_work import Actor, unit_of_work
from store_server.reports import catalog
from store_server.reports.scope import ReportScope
from store_server.stock import counts, replenishment, sessions
from store_server.stock.counts import CountIn
from tests.support import catalog_fixture as cf
from tests.support.server import RunningStore
from tests.support.till import Till

ACTOR = Actor.system("test")


def test_variance_and_replenishment_computed_by_hand(store: RunningStore) -> None:
    till = Till(store)
    till.open_shift()
    coke = till.sell(cf.COKE_CAN).receipt.lines[0]
    assert coke.net_amount.fen == 300  # one can sold: the books say -1
    with store.db.read() as conn:
        pid = conn.exec_driver_sql("SELECT id FROM products WHERE sku = 'P1'").scalar_one()
    now = store.clock.now()
    session_id = str(uuid.uuid4())
    with unit_of_work(store.db, ACTOR, now) as uow:
        replenishment.upsert_supplier(uow, "SUP1", "可口可乐供应商", 2)
        replenishment.set_rule(
            uow,
            product_id=pid,
            supplier_id="SUP1",
            min_milli=10_000,
            max_milli=24_000,
            pack_milli=6_000,
            lead_days=None,
        )
        sessions.open_session(uow, session_id=session_id, name="饮料盘点", categories=["饮料"])
    with unit_of_work(store.db, ACTOR, now) as uow:
        counts.ingest(
            uow,
            session_id,
            [CountIn(str(uuid.uuid4()), "A1", 0, cf.COKE_CAN, 5_000)],
            device_id="hand-01",
            operator_id="1004",
        )
    scope = ReportScope("S01", now.date(), now.date(), Config().zone)
    with store.db.read() as conn:
        tables = {
            t.name: t.as_dicts()
            for t in catalog.run(
                conn, Config(), ["variance", "replenishment"], scope, catalog.Options(now=now)
            )
        }
        reference = replenishment.suggestions(conn, now)
    (line,) = tables["variance"]
    # Counted 5, the books say -1: 6 cans found, at the cost of 2.10 each.
    assert (line["sku"], line["counted_milli"], line["expected_milli"]) == ("P1", 5_000, -1_000)
    assert (line["variance_milli"], line["variance_cost_fen"]) == (6_000, 1_260)
    (cat,) = tables["variance_categories"]
    assert (cat["category"], cat["variance_cost_fen"]) == ("饮料", 1_260)
    (order,) = tables["replenishment"]
    # 1 sold in 28 days, 2 lead days: lead need ceil(1000 x 2 / 28) = 72; projected
    # -1000 - 72 = -1072 <= min 10 -> up to max 24: 25.072, in packs of 6 -> 30.
    assert (order["supplier_id"], order["sku"], order["on_hand_milli"]) == ("SUP1", "P1", -1_000)
    assert (order["order_milli"], order["daily_milli"]) == (30_000, 35)
    assert order["order_milli"] == reference["SUP1"][0].quantity_milli

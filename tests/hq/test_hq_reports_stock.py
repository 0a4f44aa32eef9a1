"""HQ's category, margin, ex-tax, slow-seller, stock, variance and replenishment reports,
on two real stores whose day closes send their stock to a real HQ on PostgreSQL.

Expected figures are computed by hand from the catalog (tests/support/catalog_fixture:
categories, tax rates, costs) and what the tills answered; HQ's figures for one store
are also compared with store_server.reports run on that store's own database.
"""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

import grpc
import pytest
from openpyxl import load_workbook
from sqlalchemy import Engine, create_engine, select

from hq_link.hq.bulk_insert import RowsRefused, RowWriter
from hq_link.hq.projectors import stock
from hq_link.hq.projectors.receipts import lines, receipts
from hq_link.hq.reports import catalog, line_facts
from hq_link.hq.reports.scope import HqScope
from store_server.config import CashRounding
from store_server.db.unit_of_work import Actor, unit_of_work
from store_server.domain.allocation import allocate
from store_server.reports import catalog as store_catalog
from store_server.reports.scope import ReportScope
from store_server.stock import counts, documents, replenishment, sessions, snapshot, variances
from store_server.stock.counts import CountIn
from store_server.stock.lines import LineInput
from tests.hq.chain_support import (
    DAY,
    Chain,
    DayFigures,
    StoreAgent,
    hqctl,
)
from tests.hq.conftest import Cluster
from tests.hq.support import HqProcess, hq_rows
from tests.support import catalog_fixture as cf
from tests.support.server import RunningStore, start_store
from tests.support.till import Till, card, cash
from tillpoint.hq.v1 import reports_pb2, reports_pb2_grpc
from tillpoint.v1 import common_pb2, sales_pb2

D = date.fromisoformat(DAY)
DAY2 = (D + timedelta(days=1)).isoformat()
ACTOR = Actor.system("test")


@dataclass
class Seen:
    """What the tills answered that the hand computations need."""

    rounding: int = 0  # S02's cash rounding on the fruit sale (fen, signed)
    session_id: str = ""
    notes: dict[str, int] = field(default_factory=dict)


def _pid(store: RunningStore, sku: str) -> int:
    with store.db.read() as conn:
        return conn.exec_driver_sql("SELECT id FROM products WHERE sku = ?", (sku,)).scalar_one()


def _stock_in(store: RunningStore, rule: tuple[int, int, int], goods: dict[str, int]) -> None:
    """Supplier SUP1 (2 days' lead), a rule for P1 (min, max, pack) and a delivery."""
    with unit_of_work(store.db, ACTOR, store.clock.now()) as uow:
        replenishment.upsert_supplier(uow, "SUP1", "可口可乐供应商", 2)
        replenishment.set_rule(
            uow,
            product_id=_pid(store, "P1"),
            supplier_id="SUP1",
            min_milli=rule[0],
            max_milli=rule[1],
            pack_milli=rule[2],
            lead_days=None,
        )
        documents.receive(
            uow,
            delivery_id=str(uuid.uuid4()),
            supplier_id="SUP1",
            reference="DN-1",
            lines=[LineInput(_pid(store, s), "", q) for s, q in goods.items()],
        )


def _close(store: RunningStore, till: Till, day: str) -> None:
    x = till.call("XReport", sales_pb2.ShiftReportRequest())
    till.call(
        "CloseShift",
        sales_pb2.CloseShiftRequest(counted_cash=common_pb2.Money(fen=x.expected_cash.fen)),
    )
    admin = Till(store, device_id="office", operator=("1003", "3333"))
    assert admin.call("CloseDay", sales_pb2.DayRequest(business_day=day)).closed


def _day_at_s01(store: RunningStore, seen: Seen) -> None:
    _stock_in(
        store, (30_000, 48_000, 24_000), {"P1": 48_000, "P3": 20_000, "P4": 10_000, "P5": 5_000}
    )
    till = Till(store)
    till.open_shift()
    assert till.sell(cf.COKE_CAN, cf.COKE_CAN, pay=cash(600)).total.fen == 600
    assert till.sell(cf.COKE_CASE, pay=cash(6600)).total.fen == 6600
    assert till.sell(cf.WATER, pay=card(200)).total.fen == 200
    noodles = till.sell(cf.NOODLES, pay=cash(450))
    back = till.call(
        "ReturnItems",
        sales_pb2.ReturnRequest(
            return_id=str(uuid.uuid4()),
            receipt_no=noodles.receipt_no,
            lines=[
                sales_pb2.ReturnLineRequest(line_no=1, quantity=common_pb2.Quantity(milli=1000))
            ],
        ),
    )
    assert back.refund.fen == 450
    # A stocktake of the drinks: 20 cans (books 22) and 18 bottles (books 19).
    seen.session_id = str(uuid.uuid4())
    now = store.clock.now()
    with unit_of_work(store.db, ACTOR, now) as uow:
        sessions.open_session(uow, session_id=seen.session_id, name="饮料盘点", categories=["饮料"])
    with unit_of_work(store.db, ACTOR, now) as uow:
        counts.ingest(
            uow,
            seen.session_id,
            [
                CountIn(str(uuid.uuid4()), "A1", 0, cf.COKE_CAN, 20_000),
                CountIn(str(uuid.uuid4()), "A1", 0, cf.WATER, 18_000),
            ],
            device_id="hand-01",
            operator_id="1004",
        )
    with unit_of_work(store.db, ACTOR, now) as uow:
        sessions.close(uow, seen.session_id)
    with unit_of_work(store.db, ACTOR, now) as uow:
        variances.post(uow, seen.session_id)
    _close(store, till, DAY)


def _day_at_s02(store: RunningStore, seen: Seen) -> None:
    _stock_in(
        store, (5_000, 24_000, 24_000), {"P1": 24_000, "P3": 10_000, "P6": 5_000, "P7": 2_000}
    )
    till = Till(store)
    till.open_shift()
    assert till.sell(cf.COKE_CAN, cf.COKE_CAN, pay=cash(600)).total.fen == 600
    till.new_basket()
    basket = till.scan(cf.WATER)
    till.commit(
        sales_pb2.Payment(
            kind=sales_pb2.TENDER_KIND_MOBILE,
            amount=common_pb2.Money(fen=basket.total.fen),
            reference="WX-1",
        )
    )
    # Apples 1.234 kg x 12.80 = 15.80 and tomatoes 0.777 kg x 5.98 = 4.65: 20.45, which
    # the store's cash rounding (to the jiao) turns into a whole number of jiao.
    till.new_basket()
    till.scan("1001", 1_234)
    basket = till.scan("1002", 777)
    assert basket.total.fen == 1580 + 465
    sale = till.commit(cash(3000))
    seen.rounding = sale.total.fen - 2045
    assert seen.rounding in (-5, 5)
    _close(store, till, DAY)


@pytest.fixture(scope="module")
def chain(
    pg_cluster: Cluster, template_db: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Chain, Seen]]:
    root = tmp_path_factory.mktemp("stock_chain")
    url = pg_cluster.url(pg_cluster.create_database())
    hq = HqProcess(url, tls=False)
    hq.start()
    # HQ's master data is the stores' catalog (categories, tax rates, costs).
    done = hqctl(url, "product", "import", str(cf.write_csv(root / "products.csv")))
    assert done.returncode == 0, done.stderr
    stores: dict[str, RunningStore] = {}
    agents: dict[str, StoreAgent] = {}
    c = Chain(hq, stores, agents, DayFigures())
    try:
        for sid, extra in (("S01", {}), ("S02", {"cash_rounding": CashRounding.JIAO})):
            d = root / sid
            d.mkdir()
            stores[sid] = start_store(template_db, d, store_id=sid, **extra)
            agents[sid] = StoreAgent(d, stores[sid].store.config.database, hq.address, sid)
            agents[sid].start()
        seen = Seen()
        _day_at_s01(stores["S01"], seen)
        _day_at_s02(stores["S02"], seen)
        c.replicate()
        yield c, seen
    finally:
        c.close()


def _tables(url: str, kinds: list[str], stores: tuple[str, ...] = (), **opt: object) -> dict:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            scope = HqScope(stores, D, D)
            return {t.name: t for t in catalog.run(conn, kinds, scope, catalog.Options(**opt))}
    finally:
        engine.dispose()


def _by(table, key: str) -> dict:
    return {r[key]: r for r in table.as_dicts()}


def _ex(fen: int, rate_bp: int) -> int:
    """Tax-exclusive by hand: fen x 10000 / (10000 + rate), half up."""
    q, r = divmod(fen * 10_000, 10_000 + rate_bp)
    return q + (1 if 2 * r >= 10_000 + rate_bp else 0)


def test_category_margin_and_ex_tax_by_hand(chain: tuple[Chain, Seen]) -> None:
    c, seen = chain
    t = _tables(c.hq.database_url, ["category", "summary"])
    cat = _by(t["category"], "category")
    # Drinks: S01 2 cans 6.00 + a case 66.00 + water 2.00; S02 2 cans 6.00 + water 2.00.
    drinks = cat["饮料"]
    assert drinks["units_milli"] == 2_000 + 24_000 + 1_000 + 2_000 + 1_000
    assert drinks["sales_fen"] == 600 + 6600 + 200 + 600 + 200
    # Cost: 28 cans at 2.10, 2 bottles at 1.20 (HQ's master-data cost).
    assert drinks["cost_fen"] == 28 * 210 + 2 * 120
    assert drinks["margin_fen"] == 8200 - (28 * 210 + 2 * 120)
    assert drinks["ex_tax_fen"] == _ex(7400, 1300) + _ex(800, 1300)  # per store, 13 %
    # The fruit sale's cash rounding split over its two lines: 4 and 1 fen of 5.
    share = 4 if seen.rounding > 0 else -4
    assert cat["水果"]["sales_fen"] == 1580 + share
    assert cat["生鲜蔬菜"]["sales_fen"] == 465 + seen.rounding - share
    assert cat["水果"]["cost_fen"] == 987  # 1.234 kg x 8.00 = 9.872
    assert cat["生鲜蔬菜"]["cost_fen"] == 272  # 0.777 kg x 3.50 = 2.7195
    assert cat["水果"]["ex_tax_fen"] == _ex(1580 + share, 900)
    # The noodles were sold and returned at S01: 4.50 in, 4.50 refunded, cost 3.10.
    noodles = cat["方便食品"]
    assert (noodles["sales_fen"], noodles["refund_fen"], noodles["cost_fen"]) == (450, 450, 310)
    assert sum(r["sales_fen"] for r in cat.values()) == 8200 + 450 + 2045 + seen.rounding
    # The summary's tax-exclusive figure: rounded per store, day and rate, as the store does.
    day = _by(t["sales_day"], "period")[DAY]
    assert day["ex_tax_fen"] == (
        _ex(600 + 6600 + 200 + 450, 1300) + _ex(800, 1300) + _ex(2045 + seen.rounding, 900)
    )


def test_stock_variance_replenishment_and_slow_sellers_by_hand(
    chain: tuple[Chain, Seen],
) -> None:
    c, seen = chain
    url = c.hq.database_url
    t = _tables(url, ["stock", "variance", "replenishment", "products"], limit=50)
    assert "截至各门店最近一次日结" in t["stock_value"].title and DAY in t["stock_value"].title
    value = _by(t["stock_value"], "category")
    # S01 after its stocktake: 20 cans, 18 bottles; S02: 22 cans, 9 bottles.
    drinks = (20 + 22) * 210 + (18 + 9) * 120
    assert value["饮料"]["value_fen"] == drinks
    assert value["饮料"]["on_hand_milli"] == 69_000
    assert value["饮料"]["value_ex_tax_fen"] == _ex(20 * 210 + 18 * 120, 1300) + _ex(
        22 * 210 + 9 * 120, 1300
    )
    assert value["休闲零食"]["value_fen"] == 10 * 500  # P4 chips, never sold
    # S02's fruit: 5 - 1.234 kg apples at 8.00 (30.128), 2 - 0.777 kg tomatoes at 3.50.
    assert value["水果"]["value_fen"] == 3013 and value["生鲜蔬菜"]["value_fen"] == 428
    stores = _by(t["stock_stores"], "store_id")
    assert stores["S01"]["business_day"] == DAY == stores["S02"]["business_day"]
    assert stores["S01"]["value_fen"] == 20 * 210 + 18 * 120 + 5000 + 5 * 310

    (take,) = t["stocktakes"].as_dicts()
    assert (take["store_id"], take["session_id"], take["name"]) == (
        "S01",
        seen.session_id,
        "饮料盘点",
    )
    assert (take["products"], take["adjusted"], take["variance_cost_fen"]) == (2, 2, -420 - 120)
    lines = _by(t["variance"], "sku")
    assert (lines["P1"]["counted_milli"], lines["P1"]["expected_milli"]) == (20_000, 22_000)
    assert lines["P1"]["variance_cost_fen"] == -420 and lines["P3"]["variance_cost_fen"] == -120
    (cat,) = t["variance_categories"].as_dicts()
    assert (cat["category"], cat["products"], cat["variance_milli"]) == ("饮料", 2, -3_000)

    # S01: 26 cans sold in the 28 days, lead 2 days: need ceil(26 x 2 / 28) = 1.858;
    # 20 - 1.858 <= min 30 -> up to 48: 29.858, in cases of 24 -> 48. S02 has enough.
    (order,) = t["replenishment"].as_dicts()
    assert (order["store_id"], order["supplier_id"], order["sku"]) == ("S01", "SUP1", "P1")
    assert (order["on_hand_milli"], order["order_milli"], order["daily_milli"]) == (
        20_000,
        48_000,
        26_000 // 28,
    )
    assert order["supplier"] == "可口可乐供应商"

    slow = t["slow_sellers"].as_dicts()
    assert slow[0]["sku"] == "P4" and slow[0]["sold_milli"] == 0 and slow[0]["days_left"] is None
    best = _by(t["best_sellers"], "sku")
    # Cans: 28 sold over one day, 42 left over both stores: 1.5 days.
    assert best["P1"]["on_hand_milli"] == 42_000 and best["P1"]["days_left"] == 1
    assert best["P1"]["stores"] == 2 and best["P1"]["category"] == "饮料"


def _rows(table, drop: tuple[str, ...] = ("store_id", "stores")) -> list[dict]:
    return [{k: v for k, v in r.items() if k not in drop} for r in table.as_dicts()]


def test_hq_figures_for_one_store_equal_the_stores_own(chain: tuple[Chain, Seen]) -> None:
    c, seen = chain
    kinds = ["summary", "category", "products", "stock", "replenishment"]
    for sid in ("S01", "S02"):
        store = c.stores[sid]
        cfg = store.store.config
        scope = ReportScope(sid, D, D, cfg.zone, cfg.business_day_cutover_hour)
        with store.db.read() as conn:
            own = {
                t.name: t
                for t in store_catalog.run(
                    conn,
                    cfg,
                    [*kinds, "variance"] if sid == "S01" else kinds,
                    scope,
                    store_catalog.Options(limit=50, session_id=seen.session_id),
                )
            }
        hq = _tables(c.hq.database_url, [*kinds, "variance"], (sid,), limit=50)
        for name in ("sales_day", "category", "stock_value", "replenishment"):
            assert _rows(hq[name]) == _rows(own[name]), (sid, name)
        for name in ("best_sellers", "slow_sellers"):
            # HQ breaks ties by SKU, the store by its product ids: compare by SKU.
            assert _by(hq[name], "sku").keys() == _by(own[name], "sku").keys(), (sid, name)
            for sku, row in _by(own[name], "sku").items():
                mine = {k: v for k, v in _by(hq[name], "sku")[sku].items() if k != "rank"}
                assert mine == {k: v for k, v in row.items() if k != "rank"} | {
                    "stores": mine["stores"]
                }, (sid, name, sku)
        if sid == "S01":
            assert _rows(hq["variance"]) == _rows(own["variance"])
            assert _rows(hq["variance_categories"]) == _rows(own["variance_categories"])


def test_owner_of_s01_is_refused_the_stock_reports_of_s02(chain: tuple[Chain, Seen]) -> None:
    c, _ = chain
    url = c.hq.database_url
    done = hqctl(url, "user", "add", "--id", "owner-1", "--role", "owner", "--stores", "S01")
    assert done.returncode == 0, done.stderr
    owner = done.stdout.strip()
    md = [("authorization", f"Bearer {owner}")]
    with grpc.insecure_channel(c.hq.address) as channel:
        stub = reports_pb2_grpc.HqReportServiceStub(channel)
        for kind in ("category", "products", "stock", "variance", "replenishment"):
            with pytest.raises(grpc.RpcError) as err:
                stub.RunHqReport(
                    reports_pb2.HqReportRequest(
                        kinds=[kind], stores=["S02"], date_from=DAY, date_to=DAY
                    ),
                    metadata=md,
                    timeout=30,
                )
            assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED, kind
        # Their own store: the stock of S01 only.
        own = stub.RunHqReport(
            reports_pb2.HqReportRequest(kinds=["stock"], date_from=DAY, date_to=DAY),
            metadata=md,
            timeout=30,
        )
        per_store = next(t for t in own.tables if t.name == "stock_stores")
        assert [r.cells[0].text for r in per_store.rows] == ["S01"]
        listed = stub.ListHqReports(reports_pb2.ListHqReportsRequest(), metadata=md, timeout=30)
        assert {"category", "stock", "variance", "replenishment"} <= {
            r.name for r in listed.reports
        }


def test_excel_holds_the_same_numbers(chain: tuple[Chain, Seen], tmp_path: Path) -> None:
    c, _ = chain
    url = c.hq.database_url
    xlsx = tmp_path / "hq.xlsx"
    done = hqctl(
        url,
        "report",
        "category",
        "stock",
        "variance",
        "replenishment",
        "--from",
        DAY,
        "--to",
        DAY,
        "--xlsx",
        str(xlsx),
        "--charts",
        str(tmp_path / "png"),
    )
    assert done.returncode == 0, done.stderr
    assert "截至各门店最近一次日结" in done.stdout
    wb = load_workbook(xlsx)
    assert {
        "category",
        "stock_value",
        "stock_stores",
        "stocktakes",
        "variance",
        "variance_categories",
        "replenishment",
    } <= set(wb.sheetnames)
    expected = _tables(url, ["category", "stock"])
    for sheet, key, column in (
        ("category", "category", "margin_fen"),
        ("category", "category", "ex_tax_fen"),
        ("stock_value", "category", "value_ex_tax_fen"),
    ):
        table = expected[sheet]
        title = next(col.title for col in table.columns if col.key == column)
        ws = wb[sheet]
        header = [cell.value for cell in ws[2]]
        got = {
            r[0]: r[header.index(title)]
            for r in ws.iter_rows(min_row=3, values_only=True)
            if r[0] is not None
        }
        want = {r[key]: r[column] for r in table.as_dicts()}
        assert {k: round(Decimal(str(v)) * 100) for k, v in got.items() if k in want} == want
    assert (tmp_path / "png" / "stock_value.png").exists()


def _part(seq: int, txn: int, day: str, part: int, products: list[list]) -> SimpleNamespace:
    payload = {
        "day": day,
        "part": part,
        "parts": 2,
        "fields": ["sku", "name", "category", "tax_rate_bp", "on_hand_milli", "cost_fen", "rule"],
        "products": products,
        "suppliers": {"SUP1": "可口可乐供应商"},
    }
    row = SimpleNamespace(kind="stock_snapshot", key=f"{day}:{part}", seq=seq, txn=txn)
    return SimpleNamespace(row=row, payload=payload, at=datetime(2026, 11, 23, 14, tzinfo=UTC))


def test_a_newer_snapshot_replaces_the_older_and_replays_change_nothing(engine: Engine) -> None:
    """The projector alone, part by part (as ingest's row-by-row fallback hands them over)."""
    cola = ["P1", "可乐", "饮料", 1300, 5_000, 210, [0, 1_000, 2_000, 1_000, 2, "SUP1"]]
    chips = ["P4", "薯片", "休闲零食", 1300, 3_000, None, None]
    water = ["P3", "水", "饮料", 1300, 7_000, 120, None]

    def apply(*rows: SimpleNamespace, copy: bool = True) -> list[tuple]:
        with engine.begin() as conn:
            stock.project(conn, RowWriter(conn, copy=copy), "S09", list(rows))
            return sorted(
                (r.sku, r.business_day, r.on_hand_milli, r.cost_fen, r.supplier_name)
                for r in conn.execute(
                    select(stock.stock_snapshots).where(stock.stock_snapshots.c.store_id == "S09")
                )
            )

    assert apply(_part(10, 10, DAY, 1, [cola])) == [("P1", DAY, 5_000, 210, "可口可乐供应商")]
    both = apply(_part(11, 10, DAY, 2, [chips]))
    assert [r[0] for r in both] == ["P1", "P4"] and both[1][3] is None
    # The same part again: the fast path (COPY) refuses it, so ingest goes row by
    # row with ON CONFLICT DO NOTHING, which changes nothing.
    with pytest.raises(RowsRefused):
        apply(_part(11, 10, DAY, 2, [chips]))
    assert apply(_part(11, 10, DAY, 2, [chips]), copy=False) == both
    assert apply(_part(4, 4, "2026-11-22", 1, [water])) == both  # an older close: ignored
    newer = apply(_part(20, 20, DAY2, 1, [water]))
    assert newer == [("P3", DAY2, 7_000, 120, None)]  # replaced whole
    with engine.connect() as conn:
        head = conn.execute(select(stock.stock_heads)).one()
    assert (head.store_id, head.business_day, head.txn) == ("S09", DAY2, 20)


def test_the_next_day_close_replaces_the_stock_as_of(chain: tuple[Chain, Seen]) -> None:
    """Runs last: S01 sells a bag of chips on the next day and closes it; S02 does not."""
    c, _ = chain
    url = c.hq.database_url
    # One snapshot row per store so far, each product once, one stocktake sent.
    assert hq_rows(
        url, "SELECT store_id, key FROM hq_changes WHERE kind = 'stock_snapshot' ORDER BY 1"
    ) == [("S01", f"{DAY}:1"), ("S02", f"{DAY}:1")]
    assert sorted(
        hq_rows(url, "SELECT sku, on_hand_milli FROM hq_stock_snapshots WHERE store_id = 'S01'")
    ) == [("P1", 20_000), ("P3", 18_000), ("P4", 10_000), ("P5", 5_000)]
    s01 = c.stores["S01"]
    s01.clock.advance(timedelta(days=1))
    till = Till(s01)
    till.open_shift()
    assert till.sell(cf.UPC_CHIPS, pay=cash(750)).total.fen == 750
    _close(s01, till, DAY2)
    c.replicate()
    assert hq_rows(url, "SELECT store_id, business_day FROM hq_stock_heads ORDER BY 1") == [
        ("S01", DAY2),
        ("S02", DAY),
    ]
    assert sorted(
        hq_rows(url, "SELECT sku, on_hand_milli FROM hq_stock_snapshots WHERE store_id = 'S01'")
    ) == [("P1", 20_000), ("P3", 18_000), ("P4", 9_000), ("P5", 5_000)]
    # The stocktake was sent with the first close only.
    assert hq_rows(url, "SELECT count(*) FROM hq_changes WHERE kind = 'stocktake.lines'") == [(1,)]
    assert hq_rows(url, "SELECT count(*) FROM hq_stocktake_lines") == [(2,)]
    t = _tables(url, ["stock"])
    assert f"S01 {DAY2}" in t["stock_value"].title and f"S02 {DAY}" in t["stock_value"].title
    assert _by(t["stock_value"], "category")["休闲零食"]["value_fen"] == 9 * 500


def test_hq_splits_the_cash_rounding_exactly_as_the_checkout(engine: Engine) -> None:
    """rounding_shares (SQL) against store_server.domain.allocation.allocate on random
    receipts: ties, zero-sum lines, negative lines, roundings of either sign."""
    rng = random.Random(11)
    expected: dict[str, int] = {}
    heads, items = [], []
    for n in range(400):
        doc = f"d{n}"
        nets = [
            rng.choice((0, 1, 5, 5, 99, 1234, rng.randint(1, 5000)))
            for _ in range(rng.randint(1, 6))
        ]
        if n % 37 == 0:
            nets = [0] * len(nets)  # nothing to weigh by: all on the first line
        rounding = rng.choice((-9, -5, -4, -1, 1, 3, 5, 40, -50))
        for no, (net, share) in enumerate(zip(nets, allocate(rounding, nets), strict=True), 1):
            sku = f"{doc}-{no}"
            expected[sku] = share
            items.append(
                {
                    "store_id": "S09",
                    "doc_id": doc,
                    "line_no": no,
                    "business_day": DAY,
                    "sku": sku,
                    "name": "x",
                    "units_milli": 1000,
                    "net_fen": net,
                }
            )
        heads.append(
            {
                "store_id": "S09",
                "doc_id": doc,
                "kind": "sale",
                "receipt_no": doc,
                "business_day": DAY,
                "at": datetime(2026, 11, 23, 3, tzinfo=UTC),
                "operator_id": "1",
                "device_id": "t",
                "shift_id": "",
                "member_id": "",
                "tier_name": "",
                "discount_fen": 0,
                "rounding_fen": rounding,
                "total_fen": sum(nets) + rounding,
                "change_fen": 0,
                "seq": n + 1,
            }
        )
    with engine.begin() as conn:
        conn.execute(receipts.insert(), heads)
        conn.execute(lines.insert(), items)
    with engine.connect() as conn:
        sh = line_facts.rounding_shares(HqScope(("S09",), D, D))
        got = {sku: int(share) for _, _, sku, share in conn.execute(select(sh))}
    assert got == expected


def test_the_day_close_chunks_its_snapshot(
    store: RunningStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """At the store: parts of at most CHUNK products, each product once, in SKU order."""
    monkeypatch.setattr(snapshot, "CHUNK", 3)
    skus = ["P1", "P2", "P3", "P4", "P5", "P6", "P7", "P8"]
    _stock_in(store, (1_000, 2_000, 1_000), {s: (i + 1) * 1_000 for i, s in enumerate(skus)})
    till = Till(store)
    till.open_shift()
    _close(store, till, DAY)
    with store.db.read() as conn:
        rows = [
            (key, json.loads(payload))
            for key, payload in conn.exec_driver_sql(
                "SELECT key, payload FROM change_log WHERE kind = 'stock_snapshot' ORDER BY seq"
            )
        ]
        txns = {
            t
            for (t,) in conn.exec_driver_sql(
                "SELECT txn FROM change_log WHERE kind IN ('stock_snapshot', 'day.close')"
            )
        }
    assert [k for k, _ in rows] == [f"{DAY}:1", f"{DAY}:2", f"{DAY}:3"]
    assert len(txns) == 1  # one transaction with the day close
    assert [(p["part"], p["parts"], len(p["products"])) for _, p in rows] == [
        (1, 3, 3),
        (2, 3, 3),
        (3, 3, 2),
    ]
    products = [dict(zip(p["fields"], r, strict=True)) for _, p in rows for r in p["products"]]
    assert [r["sku"] for r in products] == skus
    assert [r["on_hand_milli"] for r in products] == [n * 1_000 for n in range(1, 9)]
    cola = products[0]
    assert (cola["cost_fen"], cola["tax_rate_bp"], cola["category"]) == (210, 1300, "饮料")
    assert cola["rule"] == [0, 1_000, 2_000, 1_000, 2, "SUP1"]
    assert rows[0][1]["suppliers"] == {"SUP1": "可口可乐供应商"} and rows[1][1]["suppliers"] == {}

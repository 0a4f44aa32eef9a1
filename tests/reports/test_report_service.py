"""ReportService over sales made through the real selling RPCs; figures computed by hand.

The day (business day 2026-11-23, Shanghai):
  10:00 till-01, cashier 1001: A  可口可乐 3.00 + 农夫山泉 2.00 = 5.00 cash
                               B  可口可乐 case of 24 = 66.00 bank card
  11:00 till-01, cashier 1001: C  雪碧 3.00 + 方便面 3 x 4.50 = 16.50 cash
                               E  member 张三: 乐事薯片 at the member price 6.90 (7.50) cash
        till-02, supervisor 1002: D  农夫山泉 x 2 = 4.00 cash
        cashier 1001 returns the water of A: 2.00 back in cash
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import grpc
import pytest

from store_server.db.unit_of_work import Actor, unit_of_work
from store_server.operators import upsert_operator
from tests.support import catalog_fixture as cf
from tests.support.errors import expect_code
from tests.support.members import MemberDesk, by_card
from tests.support.server import DEADLINE, RunningStore, start_store
from tests.support.till import Till, card, cash, new_id
from tillpoint.v1 import common_pb2, reports_pb2, reports_pb2_grpc, sales_pb2

DENIED = grpc.StatusCode.PERMISSION_DENIED
DAY = "2026-11-23"


def add_operator(store: RunningStore, operator_id: str, role: str, pin: str) -> None:
    with unit_of_work(store.db, Actor.system("test"), store.clock.now()) as uow:
        upsert_operator(
            uow,
            operator_id=operator_id,
            name=f"{role} {operator_id}",
            role=role,
            pin=pin,
            store_id="S01",
        )


class Reports:
    def __init__(self, store: RunningStore, operator: str, pin: str, device: str) -> None:
        self.md = store.login(operator, pin, device_id=device)
        self.stub = reports_pb2_grpc.ReportServiceStub(store.channel)

    def run(self, *kinds: str, **fields: object) -> dict[str, list[dict]]:
        result = self.stub.RunReport(
            reports_pb2.ReportRequest(kinds=kinds, **fields), metadata=self.md, timeout=DEADLINE
        )
        return {t.name: rows(t) for t in result.tables}


def rows(table: reports_pb2.ReportTable) -> list[dict]:
    keys = [c.key for c in table.columns]
    out = []
    for row in table.rows:
        values = [
            getattr(c, c.WhichOneof("value")) if c.WhichOneof("value") else None for c in row.cells
        ]
        out.append(dict(zip(keys, values, strict=True)))
    return out


@pytest.fixture(scope="module")
def day(template_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStore]:
    """One store with the day's sales, shared: every test here only reads."""
    store = start_store(template_db, tmp_path_factory.mktemp("report-day"))
    till = Till(store)
    till.open_shift()
    sale_a = till.sell(cf.COKE_CAN, cf.WATER, pay=cash(1000))
    till.sell(cf.COKE_CASE, pay=card(6600))
    store.clock.advance(timedelta(hours=1))
    till.new_basket()
    till.scan(cf.SPRITE_CAN)
    till.scan(cf.NOODLES, 3000)
    till.commit(cash(1650))
    desk = MemberDesk(till)
    member = desk.register("13800138000")
    desk.attach(by_card(member.card_no))
    assert till.scan(cf.UPC_CHIPS).total.fen == 690
    till.commit(cash(690))
    till2 = Till(store, device_id="till-02", operator=("1002", "2222"))
    till2.open_shift()
    till2.sell(cf.WATER, cf.WATER, pay=cash(400))
    till.call(
        "ReturnItems",
        sales_pb2.ReturnRequest(
            return_id=new_id(),
            receipt_no=sale_a.receipt_no,
            lines=[
                sales_pb2.ReturnLineRequest(line_no=2, quantity=common_pb2.Quantity(milli=1000))
            ],
        ),
    )
    add_operator(store, "1005", "owner", "5555")
    add_operator(store, "1004", "stock_clerk", "4444")
    yield store
    store.channel.close()
    store.store.stop(grace=1.0)


def test_the_owner_sees_the_day_as_computed_by_hand(day: RunningStore) -> None:
    r = Reports(day, "1005", "5555", "office-01").run(
        "summary", "cashier", "tender", "category", "hourly", date_from=DAY, date_to=DAY
    )
    (d, total) = r["sales_day"]
    sales = 500 + 6600 + 1650 + 690 + 400
    assert (d["period"], d["receipts"], d["sales_fen"]) == (DAY, 5, sales)
    assert d["discount_fen"] == 60  # the member price of the chips
    # Everything sold is at 13 % VAT: 9840 / 1.13 = 8707.96 -> per rate, rounded once.
    assert d["ex_tax_fen"] == 8708
    assert (d["refund_fen"], d["net_fen"]) == (200, sales - 200)
    assert d["avg_basket_fen"] == 1968  # 9840 / 5
    assert (d["last_year_sales_fen"], d["growth_bp"]) == (0, None)
    assert total["period"] == "合计" and total["sales_fen"] == sales

    assert [
        (c["operator_id"], c["receipts"], c["sales_fen"], c["avg_basket_fen"]) for c in r["cashier"]
    ] == [
        ("1001", 4, 500 + 6600 + 1650 + 690, 2360),  # 9440 / 4
        ("1002", 1, 400, 400),
    ]
    assert (r["cashier"][0]["returns"], r["cashier"][0]["refund_fen"]) == (1, 200)
    assert r["cashier"][0]["share_bp"] == 9593  # 9440 / 9840

    assert [
        (t["kind"], t["payments"], t["applied_fen"], t["refunded_fen"]) for t in r["tender"]
    ] == [
        ("bank_card", 1, 6600, 0),
        ("cash", 4, 500 + 1650 + 690 + 400, 200),
    ]
    assert r["tender"][0]["share_bp"] == 6707  # 6600 / 9840 = 67.07 %

    cats = {c["category"]: c for c in r["category"]}
    drinks = cats["饮料"]
    # 1 + 24 cokes, 1 + 2 waters, 1 sprite = 29 units; cost 25 x 2.10 + 3 x 1.20 + 2.00
    assert (drinks["units_milli"], drinks["sales_fen"], drinks["cost_fen"]) == (29_000, 7800, 5810)
    assert (drinks["margin_fen"], drinks["refund_fen"]) == (7800 - 5810, 200)
    assert (cats["方便食品"]["units_milli"], cats["方便食品"]["sales_fen"]) == (3000, 1350)
    assert (cats["方便食品"]["cost_fen"], cats["休闲零食"]["sales_fen"]) == (930, 690)

    hours = {h["hour"]: h for h in r["hourly"]}
    assert (hours[10]["receipts"], hours[10]["sales_fen"], hours[10]["avg_basket_fen"]) == (
        2,
        7100,
        3550,
    )
    assert (hours[11]["receipts"], hours[11]["sales_fen"]) == (3, 1650 + 690 + 400)
    assert set(hours) == {10, 11}
    bands = {b["band"]: b["receipts"] for b in r["basket_sizes"]}
    assert (bands["0-10 元"], bands["10-20 元"], bands["50-100 元"]) == (3, 1, 1)


def test_member_analysis_from_the_rpc_day(day: RunningStore) -> None:
    r = Reports(day, "1003", "3333", "office-01").run("members", date_from=DAY, date_to=DAY)
    summary = {row["label"]: row for row in r["members"]}
    assert summary["会员总数"]["count"] == summary["新会员"]["count"] == 1
    assert summary["活跃会员"]["count"] == 1
    assert (summary["会员消费"]["amount_fen"], summary["会员消费"]["share_bp"]) == (690, 701)
    # 6.90 paid earns 6 points; 100 points pay 1 yuan, so the store owes 6 fen.
    assert (summary["积分余额 (负债)"]["count"], summary["积分余额 (负债)"]["amount_fen"]) == (6, 6)
    assert [(t["name"], t["members"], t["sales_fen"]) for t in r["member_tiers"]] == [
        ("普通", 1, 690)
    ]


def test_a_cashier_sees_only_their_own_shift(day: RunningStore) -> None:
    cashier = Reports(day, "1001", "1111", "till-01")
    r = cashier.run("summary", "tender")
    (d, _total) = r["sales_day"]
    assert (d["receipts"], d["sales_fen"], d["refund_fen"]) == (4, 9440, 200)
    assert sum(t["applied_fen"] for t in r["tender"]) == 9440
    # Not the supervisor's shift, not the members or stock reports.
    with day.db.read() as conn:
        other = conn.exec_driver_sql(
            "SELECT shift_id FROM shifts WHERE operator_id = '1002'"
        ).scalar_one()
    expect_code(DENIED, lambda: cashier.run("summary", shift_id=other))
    expect_code(DENIED, lambda: cashier.run("members"))
    expect_code(DENIED, lambda: cashier.run("stock"))


def test_another_store_or_no_reports_permission_is_denied(day: RunningStore) -> None:
    owner = Reports(day, "1005", "5555", "office-01")
    expect_code(DENIED, lambda: owner.run("summary", store_id="S02", date_from=DAY, date_to=DAY))
    assert owner.run("summary", store_id="S01", date_from=DAY)["sales_day"]
    clerk = Reports(day, "1004", "4444", "hand-01")
    expect_code(DENIED, lambda: clerk.run("summary"))
    bad = grpc.StatusCode.INVALID_ARGUMENT
    expect_code(bad, lambda: owner.run("nonsense"))
    expect_code(bad, lambda: owner.run("summary", date_from=DAY, date_to="2026-11-01"))
    expect_code(bad, lambda: owner.run("summary", date_from="23.11.2026"))
    expect_code(bad, lambda: owner.run("summary", period="year"))


def test_stream_report_sends_progress_then_tables(day: RunningStore) -> None:
    owner = Reports(day, "1005", "5555", "office-01")
    events = list(
        owner.stub.StreamReport(
            reports_pb2.ReportRequest(kinds=["summary", "tender"], date_from=DAY),
            metadata=owner.md,
            timeout=DEADLINE,
        )
    )
    kinds = [e.WhichOneof("event") for e in events]
    assert kinds == ["progress", "table", "progress", "table", "progress"]
    assert events[-1].progress.stage == "done" and events[-1].progress.done == 2
    assert [
        t.name
        for t in owner.stub.ListReports(
            reports_pb2.ListReportsRequest(), metadata=owner.md, timeout=DEADLINE
        ).reports
    ][:2] == ["summary", "hourly"]

"""A commit reuses the last scan's pricing only while it provably holds.

The commit path keeps the pricing of the basket's last scan (store_server.
checkout) and works the sale out before it queues for the one writer. These
tests change what pricing rests on between the total and the commit (a
promotion created or ended, one written by another process, a time-of-day
promotion starting or a validity window ending, a member attached) and
check the commit charges the price of the moment it commits.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from datetime import time as clock_time

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from store_server.db.models import ChangeLogEntry
from store_server.db.sales_models import Sale
from store_server.db.unit_of_work import Actor, receipt_payload, unit_of_work
from store_server.domain.promotions.model import Schedule
from store_server.domain.receipt import Receipt
from store_server.domain.schedule_edges import ScheduleEdges
from store_server.promotions import create as create_promotion
from tests.support import catalog_fixture as cf
from tests.support import office
from tests.support.members import MemberDesk, by_card
from tests.support.server import DEADLINE, RunningStore
from tests.support.till import Till, cash
from tillpoint.v1 import promotions_pb2, promotions_pb2_grpc, sales_pb2

TEN_OFF = {"type": "percent_off", "percent_bp": 1000}  # chips 7.50 -> 6.75


def totalled_chips(store: RunningStore) -> tuple[Till, int]:
    """A till with one bag of chips scanned and the basket totalled."""
    till = Till(store)
    till.open_shift()
    till.new_basket()
    till.scan(cf.UPC_CHIPS)
    total = till.call("TotalBasket", sales_pb2.BasketRef(basket_id=till.basket_id)).total.fen
    return till, total


def discounts(sale: sales_pb2.Sale) -> list[tuple[str, int]]:
    return [(a.name, a.amount.fen) for line in sale.receipt.lines for a in line.adjustments]


def test_a_promotion_created_after_the_total_prices_the_commit(store: RunningStore) -> None:
    till, total = totalled_chips(store)
    assert total == 750
    admin = store.login("1003", "3333", "office")
    office.create_promotion(store, admin, {"promo_id": "late", "name": "全场九折", "rule": TEN_OFF})
    sale = till.commit(cash(750))
    assert (sale.total.fen, sale.change.fen) == (675, 75)
    assert discounts(sale) == [("全场九折", -75)]


def test_a_promotion_ended_after_the_total_no_longer_prices_the_commit(
    store: RunningStore,
) -> None:
    admin = store.login("1003", "3333", "office")
    office.create_promotion(store, admin, {"promo_id": "ends", "name": "全场九折", "rule": TEN_OFF})
    till, total = totalled_chips(store)
    assert total == 675
    promotions_pb2_grpc.PromotionServiceStub(store.channel).EndPromotion(
        promotions_pb2.EndPromotionRequest(promo_id="ends"), metadata=admin, timeout=DEADLINE
    )
    sale = till.commit(cash(800))
    assert (sale.total.fen, sale.change.fen) == (750, 50)
    assert discounts(sale) == []


def test_a_promotion_written_by_another_process_prices_the_commit(store: RunningStore) -> None:
    till, total = totalled_chips(store)
    assert total == 750
    # As storectl does it: straight into the database, bumping the revision.
    with unit_of_work(store.db, Actor.system("storectl"), store.clock.now()) as uow:
        create_promotion(
            uow, {"promo_id": "ctl", "name": "店长特惠", "rule": TEN_OFF}, zone="Asia/Shanghai"
        )
    time.sleep(1.2)  # the server re-reads the revision at most once a second
    sale = till.commit(cash(750))
    assert sale.total.fen == 675
    assert discounts(sale) == [("店长特惠", -75)]


def test_a_time_of_day_promotion_starting_between_scan_and_commit_applies(
    store: RunningStore,
) -> None:
    # The store clock starts at 10:00 in Shanghai.
    admin = store.login("1003", "3333", "office")
    schedule = {"time_from": "10:05"}
    office.create_promotion(
        store,
        admin,
        {"promo_id": "am", "name": "十点零五后九折", "rule": TEN_OFF, "schedule": schedule},
    )
    till, total = totalled_chips(store)
    assert total == 750
    store.clock.advance(timedelta(minutes=5))  # exactly 10:05: it starts now
    sale = till.commit(cash(750))
    assert sale.total.fen == 675
    assert discounts(sale) == [("十点零五后九折", -75)]


def test_a_validity_window_ending_between_scan_and_commit_stops_pricing(
    store: RunningStore,
) -> None:
    admin = store.login("1003", "3333", "office")
    ends = (store.clock.now() + timedelta(seconds=30)).isoformat()
    office.create_promotion(
        store,
        admin,
        {
            "promo_id": "flash",
            "name": "限时九折",
            "rule": TEN_OFF,
            "schedule": {"valid_to": ends},
        },
    )
    till, total = totalled_chips(store)
    assert total == 675
    store.clock.advance(timedelta(seconds=29))
    # Still on: the commit may reuse the scan's pricing, and gives the discount.
    assert till.commit(cash(675)).total.fen == 675
    till.new_basket()
    till.scan(cf.UPC_CHIPS)
    store.clock.advance(timedelta(seconds=1))  # exactly valid_to: over
    sale = till.commit(cash(750))
    assert (sale.total.fen, discounts(sale)) == (750, [])


def test_a_member_attached_after_the_total_gets_the_member_price(
    store: RunningStore,
) -> None:
    till = Till(store)
    till.open_shift()
    desk = MemberDesk(till)
    member = desk.register("13800138000")
    till.new_basket()
    assert till.scan(cf.COKE_CAN).total.fen == 300  # no member: the shelf price
    till.call("TotalBasket", sales_pb2.BasketRef(basket_id=till.basket_id))
    desk.attach(by_card(member.card_no))
    sale = till.commit(cash(300))
    assert (sale.total.fen, sale.change.fen) == (280, 20)
    assert [a.name for line in sale.receipt.lines for a in line.adjustments] == ["会员价"]


def test_a_member_changed_elsewhere_since_the_scan_is_priced_as_they_are_now(
    store: RunningStore,
) -> None:
    """The scan priced the member as this process remembers them (up to
    MAX_AGE_S old); the commit prices with the member as the database holds
    them in its transaction (here a discount card written by another process,
    as HQ's one-card feed does, after the scan)."""
    till = Till(store)
    till.open_shift()
    desk = MemberDesk(till)
    member = desk.register("13800138001")
    till.new_basket()
    desk.attach(by_card(member.card_no))
    assert till.scan(cf.COKE_CAN).total.fen == 280  # the member price, remembered
    with store.db.write() as conn:
        conn.connection.driver_connection.execute(
            "UPDATE members SET card_discount_bp = 1000 WHERE member_id = ?", (member.member_id,)
        )
    sale = till.commit(cash(300))
    assert (sale.total.fen, sale.change.fen) == (252, 48)  # 280 less the card's 10%
    assert [a.name for line in sale.receipt.lines for a in line.adjustments] == [
        "会员价",
        "折扣卡",
    ]


def test_the_stored_receipt_and_change_row_are_what_the_answer_says(
    store: RunningStore,
) -> None:
    """The commit encodes its receipt before it knows the receipt number and
    splices the number in: the rows must read exactly as if encoded at once."""
    admin = store.login("1003", "3333", "office")
    office.create_promotion(
        store, admin, {"promo_id": "p", "name": '全场九折 "引号" \\ 测试', "rule": TEN_OFF}
    )
    till = Till(store)
    till.open_shift()
    till.new_basket()
    till.scan(cf.UPC_CHIPS)
    till.scan(cf.COKE_CAN)
    sale = till.commit(cash(2000))
    with store.db.read() as conn:
        text, shift_id = conn.execute(
            select(Sale.receipt, Sale.shift_id).where(Sale.sale_id == sale.sale_id)
        ).one()
        payload = conn.execute(
            select(ChangeLogEntry.payload).where(
                ChangeLogEntry.kind == "sale", ChangeLogEntry.key == sale.sale_id
            )
        ).scalar_one()
    receipt = Receipt.from_json(text)
    assert receipt.receipt_no == sale.receipt_no
    assert receipt.to_json() == text
    assert [line.net_amount_fen for line in receipt.lines] == [
        line.net_amount.fen for line in sale.receipt.lines
    ]
    assert payload == receipt_payload(text, shift_id=shift_id)
    assert json.loads(payload) == {"receipt": json.loads(text), "shift_id": shift_id}


# -- the rule the reuse rests on ------------------------------------------------

ZONE = "Asia/Shanghai"
BASE = datetime(2026, 11, 23, 0, 0, tzinfo=UTC)
minutes = st.integers(min_value=0, max_value=3 * 24 * 60)


@st.composite
def schedules(draw: st.DrawFn) -> Schedule:
    start = draw(st.none() | minutes)
    length = draw(st.integers(min_value=1, max_value=24 * 60))
    end = draw(st.none() | st.just((start or 0) + length))
    day_times = st.none() | st.builds(clock_time, st.integers(0, 23), st.sampled_from([0, 30]))
    return Schedule(
        valid_from=None if start is None else BASE + timedelta(minutes=start),
        valid_to=None if end is None else BASE + timedelta(minutes=end),
        days_of_week=draw(st.frozensets(st.integers(0, 6), max_size=3)),
        time_from=draw(day_times),
        time_to=draw(day_times),
        zone=ZONE,
    )


@settings(max_examples=300, deadline=None)
@given(
    st.lists(schedules(), max_size=4),
    minutes,
    st.integers(min_value=0, max_value=36 * 60),
    st.integers(min_value=0, max_value=59),
)
def test_unchanged_means_every_schedule_answers_the_same(
    found: list[Schedule], start: int, later: int, seconds: int
) -> None:
    t0 = BASE + timedelta(minutes=start)
    t1 = t0 + timedelta(minutes=later, seconds=seconds)
    edges = ScheduleEdges(found)
    if edges.unchanged(t0, t1):
        # Every instant in between, to the minute and at t1 itself.
        for step in range(later + 1):
            at = min(t0 + timedelta(minutes=step), t1)
            assert [s.active(at) for s in found] == [s.active(t0) for s in found]
        assert [s.active(t1) for s in found] == [s.active(t0) for s in found]


def test_unchanged_is_not_blind() -> None:
    """It says unchanged where nothing can change, and changed at an edge."""
    evening = Schedule(time_from=clock_time(20, 0), zone=ZONE)  # 20:00 local = 12:00 UTC
    edges = ScheduleEdges([evening, Schedule()])
    morning = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
    assert edges.unchanged(morning, morning + timedelta(hours=9, minutes=59))
    assert not edges.unchanged(morning, morning + timedelta(hours=10))
    assert not edges.unchanged(morning + timedelta(seconds=1), morning)  # time went back
    assert ScheduleEdges([Schedule()]).unchanged(morning, morning + timedelta(days=400))

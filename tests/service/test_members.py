"""Members against a real server and a real SQLite file: auth, tenders, ledgers, returns."""

from __future__ import annotations

import io
import threading
from datetime import UTC, datetime, timedelta

import grpc
import pytest
from PIL import Image
from sqlalchemy import func, select

from store_server.db.member_models import (
    Member,
    MemberCoupon,
    MemberDeposit,
    PointsEntry,
    StoredValueEntry,
)
from store_server.db.models import AuditEntry
from store_server.db.sales_models import StockMovement
from store_server.db.unit_of_work import Actor, unit_of_work
from store_server.domain.members.tiers import Tier
from store_server.members import gifts
from store_server.members_config import MembersConfig
from tests.support import catalog_fixture as cf
from tests.support.errors import error_detail, expect_code
from tests.support.members import (
    PIN,
    MemberDesk,
    by_card,
    by_id,
    by_phone,
    count_card,
    points,
    stored_value,
    supervisor_desk,
)
from tests.support.server import RunningStore, start_store
from tests.support.till import Till, cash, new_id
from tillpoint.v1 import common_pb2, members_pb2, sales_pb2

BAD = grpc.StatusCode.INVALID_ARGUMENT
FP = grpc.StatusCode.FAILED_PRECONDITION
PHONE = "13800138000"


@pytest.fixture
def till(store: RunningStore) -> Till:
    t = Till(store)
    t.open_shift()
    return t


@pytest.fixture
def desk(till: Till) -> MemberDesk:
    return MemberDesk(till)


def balances(store: RunningStore, member_id: str) -> tuple[int, int, int]:
    """(points, stored value paid, bonus) from the member row."""
    with store.db.read() as conn:
        row = conn.execute(
            select(Member.points, Member.sv_paid_fen, Member.sv_bonus_fen).where(
                Member.member_id == member_id
            )
        ).one()
    return tuple(row)


def ledger_sums(store: RunningStore, member_id: str) -> tuple[int, int, int]:
    """The same figures summed from the ledgers: the cache must agree with them."""
    with store.db.read() as conn:
        pts = conn.execute(
            select(func.coalesce(func.sum(PointsEntry.points), 0)).where(
                PointsEntry.member_id == member_id
            )
        ).scalar_one()
        paid, bonus = conn.execute(
            select(
                func.coalesce(func.sum(StoredValueEntry.paid_fen), 0),
                func.coalesce(func.sum(StoredValueEntry.bonus_fen), 0),
            ).where(StoredValueEntry.member_id == member_id)
        ).one()
    return pts, paid, bonus


def sell(till: Till, desk: MemberDesk | None, items: list[tuple[str, int]], *pay):
    """One sale: attach the member by card (if a desk is given), scan, pay."""
    till.new_basket()
    if desk is not None:
        desk.attach(by_card(desk.card_no))
    for code, qty in items:
        till.scan(code, qty * 1000)
    return till.commit(*pay)


def member_with_points(store: RunningStore, till: Till, desk: MemberDesk) -> members_pb2.Member:
    """A member with 660 points (10 cases of cola, paid in cash) and 100 + 10 yuan stored."""
    m = desk.register(PHONE)
    desk.card_no = m.card_no
    sale = sell(till, desk, [(cf.COKE_CASE, 10)], cash(66_000))
    assert sale.receipt.member.points_earned == 660
    supervisor_desk(store, till).top_up(m.member_id, 10_000)
    assert balances(store, m.member_id) == (660, 10_000, 1_000)
    return m


# -- registration and member auth ------------------------------------------------------


def test_register_identify_and_personal_data_kept_out_of_the_audit_log(
    store: RunningStore, desk: MemberDesk
) -> None:
    reg_id = new_id()
    m = desk.register(PHONE, "王小明", registration_id=reg_id, birthday="1990-03-04")
    assert len(m.member_id) == 13 and m.member_id.startswith("80001")
    assert m.masked_phone == "138****8000" and m.card_no == m.member_id
    assert (m.tier, m.tier_name, m.points, m.stored_value.fen) == ("normal", "普通", 0, 0)
    # A retried registration answers with the same member, and makes no second one.
    again = desk.register(PHONE, "王小明", registration_id=reg_id, birthday="1990-03-04")
    assert again.member_id == m.member_id
    with store.db.read() as conn:
        assert conn.execute(select(func.count()).select_from(Member)).scalar_one() == 1
    # Another registration with the same phone is refused.
    expect_code(grpc.StatusCode.ALREADY_EXISTS, lambda: desk.register(" 138-0013-8000 "))

    for cred in (by_card(m.card_no), by_phone(PHONE), by_phone("+86 138 0013 8000")):
        assert desk.identify(cred).member_id == m.member_id
    qr = desk.call("IssueQrCode", by_phone(PHONE))
    assert desk.identify(members_pb2.MemberCredential(qr_payload=qr.payload)).name == "王小明"

    with store.db.read() as conn:
        rows = conn.execute(select(AuditEntry.target, AuditEntry.detail)).all()
    audit = [f"{target} {detail}" for target, detail in rows]
    assert any(m.member_id in line for line in audit)
    assert not any(PHONE in line or "王小明" in line for line in audit)


def test_bad_input_is_refused_with_the_field_named_and_nothing_written(
    store: RunningStore, till: Till, desk: MemberDesk
) -> None:
    def rows() -> tuple[int, ...]:
        with store.db.read() as conn:
            return tuple(
                conn.execute(select(func.count()).select_from(t)).scalar_one()
                for t in (Member, MemberDeposit, StoredValueEntry, PointsEntry)
            )

    png = io.BytesIO()
    Image.new("RGB", (400, 400)).save(png, "PNG")
    big = png.getvalue() + b"\0" * (300 * 1024)
    cases = [
        ({"phone": "1380013800a"}, "phone"),
        ({"birthday": "2030-01-01"}, "birthday"),
        ({"photo": big}, "photo"),
        ({"photo": b"GIF89a not a photo"}, "photo"),
        ({"photo": b"\x89PNG\r\n\x1a\n" + b"broken"}, "photo"),
    ]
    before = rows()
    for fields, field in cases:
        phone = fields.pop("phone", PHONE)
        err = expect_code(BAD, lambda f=fields, p=phone: desk.register(p, **f))
        assert error_detail(err).field == field
    assert rows() == before

    m = desk.register(PHONE, photo=png.getvalue())
    assert m.has_photo
    sup = supervisor_desk(store, till)
    before = rows()
    for fen in (0, 500_001):
        err = expect_code(BAD, lambda f=fen: sup.top_up(m.member_id, f))
        assert error_detail(err).field == "amount"
    assert rows() == before
    # A cashier may not top up at all.
    expect_code(grpc.StatusCode.PERMISSION_DENIED, lambda: desk.top_up(m.member_id, 10_000))


def test_five_wrong_pins_lock_the_card_for_fifteen_minutes(
    store: RunningStore, desk: MemberDesk
) -> None:
    desk.register(PHONE)
    for _ in range(4):
        err = expect_code(
            grpc.StatusCode.UNAUTHENTICATED, lambda: desk.identify(by_phone(PHONE, "000000"))
        )
        assert error_detail(err).reason == "BAD_MEMBER_PIN"
    expect_code(
        grpc.StatusCode.RESOURCE_EXHAUSTED, lambda: desk.identify(by_phone(PHONE, "000000"))
    )
    # Locked: even the right PIN is refused.
    err = expect_code(grpc.StatusCode.RESOURCE_EXHAUSTED, lambda: desk.identify(by_phone(PHONE)))
    assert error_detail(err).reason == "MEMBER_PIN_LOCKED"
    store.clock.advance(timedelta(minutes=14))
    expect_code(grpc.StatusCode.RESOURCE_EXHAUSTED, lambda: desk.identify(by_phone(PHONE)))
    store.clock.advance(timedelta(minutes=1, seconds=1))
    assert desk.identify(by_phone(PHONE)).masked_phone == "138****8000"


def test_a_stale_or_forged_qr_code_is_refused(store: RunningStore, desk: MemberDesk) -> None:
    desk.register(PHONE)
    qr = desk.call("IssueQrCode", by_phone(PHONE)).payload
    assert desk.identify(members_pb2.MemberCredential(qr_payload=qr))
    forged = qr[:-2] + ("AA" if not qr.endswith("AA") else "BB")
    expect_code(BAD, lambda: desk.identify(members_pb2.MemberCredential(qr_payload=forged)))
    store.clock.advance(timedelta(seconds=61))  # a screenshot of a minute ago
    err = expect_code(FP, lambda: desk.identify(members_pb2.MemberCredential(qr_payload=qr)))
    assert error_detail(err).reason == "QR_EXPIRED"
    # The QR code needs the member's PIN to be issued: a card is not enough.
    expect_code(BAD, lambda: desk.call("IssueQrCode", by_card("800010000001")))


def test_lost_card_is_refused_and_the_replacement_keeps_everything(
    store: RunningStore, till: Till, desk: MemberDesk
) -> None:
    m = member_with_points(store, till, desk)
    old_card = m.card_no
    # The member reports the loss with phone + PIN.
    desk.call("ReportCardLost", members_pb2.ReportCardLostRequest(member=by_phone(PHONE)))
    err = expect_code(FP, lambda: desk.identify(by_card(old_card)))
    assert error_detail(err).reason == "CARD_LOST"
    till.new_basket()
    expect_code(FP, lambda: desk.attach(by_card(old_card)))
    # Staff without member_manage may not report for the member by number.
    expect_code(
        grpc.StatusCode.PERMISSION_DENIED,
        lambda: desk.call(
            "ReportCardLost", members_pb2.ReportCardLostRequest(member=by_id(m.member_id))
        ),
    )
    sup = supervisor_desk(store, till)
    new = sup.call(
        "ReplaceCard", members_pb2.ReplaceCardRequest(member_id=m.member_id, new_card_no="NC0001")
    )
    assert new.card_no == "NC0001"
    found = desk.identify(by_card("NC0001"))
    assert (found.member_id, found.points, found.stored_value.fen) == (m.member_id, 660, 11_000)
    expect_code(FP, lambda: desk.identify(by_card(old_card)))


# -- paying with member tenders ----------------------------------------------------------


def test_stored_value_points_and_cash_in_one_sale_exact_and_replay_safe(
    store: RunningStore, till: Till, desk: MemberDesk
) -> None:
    m = member_with_points(store, till, desk)
    till.new_basket()
    basket = desk.attach(by_card(m.card_no))
    assert basket.member.masked_phone == "138****8000" and basket.member.points == 660
    till.scan(cf.SPRITE_CAN, 10_000)  # 10 x 3.00
    basket = till.scan(cf.COKE_CAN, 5_000)  # member price 2.80
    assert basket.total.fen == 3_000 + 1_400
    sale_id = new_id()
    basket_id = till.basket_id
    sale = till.commit(stored_value(2_200), points(500), cash(2_000), sale_id=sale_id)
    assert (sale.total.fen, sale.change.fen) == (4_400, 300)
    r = sale.receipt.member
    # Points: 660 - 500 redeemed + 39 earned on the 39.00 paid with money.
    assert (r.points_redeemed, r.points_earned, r.points_balance) == (500, 39, 199)
    # Stored value: 22.00 taken 10:1 from paid and bonus.
    assert r.stored_value_balance.fen == 8_800
    assert balances(store, m.member_id) == (199, 8_000, 800)
    assert ledger_sums(store, m.member_id) == (199, 8_000, 800)
    assert [p.name for p in sale.receipt.payments] == ["储值卡", "积分抵现", "现金"]

    # The till lost the answer and sends the commit again: nothing moves.
    till.basket_id = basket_id
    replay = till.commit(stored_value(2_200), points(500), cash(2_000), sale_id=sale_id)
    assert replay.receipt_no == sale.receipt_no
    assert balances(store, m.member_id) == (199, 8_000, 800)

    # More points than the member has, or a points amount of no whole points.
    till.new_basket()
    desk.attach(by_card(m.card_no))
    till.scan(cf.SPRITE_CAN, 1_000)
    err = expect_code(FP, lambda: till.commit(points(300)))
    assert error_detail(err).reason == "INSUFFICIENT_POINTS"
    assert balances(store, m.member_id) == (199, 8_000, 800)


def test_member_tender_without_a_member_is_refused(till: Till) -> None:
    till.new_basket()
    till.scan(cf.SPRITE_CAN)
    err = expect_code(FP, lambda: till.commit(stored_value(300)))
    assert error_detail(err).reason == "NO_MEMBER"


def test_a_return_reverses_points_and_stored_value_by_what_each_tender_paid(
    store: RunningStore, till: Till, desk: MemberDesk
) -> None:
    m = member_with_points(store, till, desk)
    sale = sell(
        till,
        desk,
        [(cf.SPRITE_CAN, 10), (cf.COKE_CAN, 5)],
        stored_value(2_200),
        points(500),
        cash(2_000),
    )
    sup = Till(store, device_id=till.device_id, operator=("1002", "2222"))
    ret = sup.call(
        "ReturnItems",
        sales_pb2.ReturnRequest(
            return_id=new_id(),
            receipt_no=sale.receipt_no,
            lines=[
                sales_pb2.ReturnLineRequest(line_no=1, quantity=common_pb2.Quantity(milli=5000))
            ],
            reason="退货",
        ),
    )
    # 15.00 back of 44.00: 7.50 to stored value, 1.70 as 170 points, 5.80 cash.
    refunds = {p.kind: -p.applied.fen for p in ret.receipt.payments}
    assert refunds == {"stored_value": 750, "points": 170, "cash": 580}
    rm = ret.receipt.member
    assert (rm.points_earned, rm.points_redeemed) == (-13, -170)  # 39 x 15/44 taken back
    assert balances(store, m.member_id) == (199 - 13 + 170, 8_000 + 682, 800 + 68)
    assert ledger_sums(store, m.member_id) == balances(store, m.member_id)


def test_two_tills_spend_the_same_stored_value_at_once(
    store: RunningStore, till: Till, desk: MemberDesk
) -> None:
    m = desk.register(PHONE)
    supervisor_desk(store, till).top_up(m.member_id, 10_000)  # 100 + 10 bonus
    till2 = Till(store, device_id="till-02")
    till2.open_shift()
    desks = [desk, MemberDesk(till2)]
    for t, d in zip((till, till2), desks, strict=True):
        t.new_basket()
        d.attach(by_card(m.card_no))
        t.scan(cf.SPRITE_CAN, 20_000)  # 60.00 each; only one fits in 110.00
    barrier = threading.Barrier(2)
    results: list[object] = [None, None]

    def pay(i: int, t: Till) -> None:
        barrier.wait()
        try:
            results[i] = t.commit(stored_value(6_000))
        except grpc.RpcError as err:
            results[i] = err

    threads = [threading.Thread(target=pay, args=(i, t)) for i, t in enumerate((till, till2))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    failed = [r for r in results if isinstance(r, grpc.RpcError)]
    assert len(failed) == 1 and failed[0].code() == FP
    assert error_detail(failed[0]).reason == "INSUFFICIENT_BALANCE"
    paid, bonus = balances(store, m.member_id)[1:]
    assert paid + bonus == 5_000 and paid >= 0 and bonus >= 0


def test_top_up_bonus_drawer_cash_and_paying_back_only_what_was_paid(
    store: RunningStore, till: Till, desk: MemberDesk
) -> None:
    m = desk.register(PHONE)
    sup = supervisor_desk(store, till)
    topup_id = new_id()
    first = sup.top_up(m.member_id, 50_000, topup_id=topup_id)  # 充500送80
    assert (first.bonus.fen, first.member.stored_value.fen, first.open_drawer) == (
        8_000,
        58_000,
        True,
    )
    again = sup.top_up(m.member_id, 50_000, topup_id=topup_id)
    assert again.member.stored_value.fen == 58_000  # once, however often it is sent
    x = till.call("XReport", sales_pb2.ShiftReportRequest())
    assert x.expected_cash.fen == 50_000 + 50_000  # the float and the top-up
    # Spend 58.00: 50.00 of it from what was paid, 8.00 from the bonus.
    desk.card_no = m.card_no
    sell(till, desk, [(cf.SPRITE_CAN, 20)], stored_value(6_000))
    refund = sup.call(
        "RefundStoredValue",
        members_pb2.RefundStoredValueRequest(
            refund_id=new_id(), member=by_id(m.member_id), payment=members_pb2.DepositPayment()
        ),
    )
    # Paid 500, spent 60 of which 51.72 paid + 8.28 bonus: 448.28 goes back, the bonus stays.
    assert refund.amount.fen == -(50_000 - 5_172)
    assert refund.member.stored_value.fen == 0
    x = till.call("XReport", sales_pb2.ShiftReportRequest())
    assert x.expected_cash.fen == 50_000 + 50_000 - (50_000 - 5_172)


# -- tiers, expiry, count cards, coupons, gifts --------------------------------------------


TIERS = (
    Tier("normal", "普通", 0),
    Tier("silver", "银卡", 1, discount_bp=500, points_multiplier_bp=20_000, min_spend_fen=10_000),
)


@pytest.fixture
def tiered_store(template_db, tmp_path):
    running = start_store(template_db, tmp_path, members=MembersConfig(tiers=TIERS))
    yield running
    running.channel.close()
    running.store.stop(grace=1.0)


def test_tier_upgrade_on_the_sale_crossing_the_threshold(tiered_store: RunningStore) -> None:
    till = Till(tiered_store)
    till.open_shift()
    desk = MemberDesk(till)
    m = desk.register(PHONE)
    desk.card_no = m.card_no
    first = sell(till, desk, [(cf.SPRITE_CAN, 40)], cash(12_000))
    r = first.receipt
    assert (r.discount.fen, r.member.upgraded_to, r.member.tier_name) == (0, "银卡", "银卡")
    assert r.member.points_earned == 120  # the old tier's 1x on this sale
    second = sell(till, desk, [(cf.SPRITE_CAN, 10)], cash(2_850))
    assert (second.receipt.discount.fen, second.total.fen) == (150, 2_850)  # 5% off now
    assert second.receipt.member.points_earned == 57  # 28.50 x 2
    assert second.receipt.member.upgraded_to == ""


def test_a_basket_scanned_before_the_members_upgrade_commits_at_the_new_tier(
    tiered_store: RunningStore,
) -> None:
    """Two tills, one member: the second basket was scanned (and its pricing kept
    for the commit) before the first sale lifted the member's tier; its commit
    reads the member in the transaction and prices it at the tier they now have."""
    till_a = Till(tiered_store, device_id="till-01")
    till_b = Till(tiered_store, device_id="till-02")
    till_a.open_shift()
    till_b.open_shift()
    desk_a, desk_b = MemberDesk(till_a), MemberDesk(till_b)
    m = desk_a.register(PHONE)
    desk_a.card_no = desk_b.card_no = m.card_no
    till_b.new_basket()
    desk_b.attach(by_card(m.card_no))
    assert till_b.scan(cf.SPRITE_CAN, 10_000).total.fen == 3_000  # normal tier: no discount
    first = sell(till_a, desk_a, [(cf.SPRITE_CAN, 40)], cash(12_000))
    assert first.receipt.member.upgraded_to == "银卡"
    second = till_b.commit(cash(3_000))
    assert (second.total.fen, second.change.fen, second.receipt.discount.fen) == (2_850, 150, 150)
    assert (second.receipt.member.tier_name, second.receipt.member.points_earned) == ("银卡", 57)


def test_points_lots_expire_at_the_end_of_the_next_year(store: RunningStore) -> None:
    store.clock.set(datetime(2025, 6, 1, 2, 0, tzinfo=UTC))
    till = Till(store)
    till.open_shift()
    desk = MemberDesk(till)
    m = desk.register(PHONE)
    desk.card_no = m.card_no
    sell(till, desk, [(cf.SPRITE_CAN, 10)], cash(3_000))  # 30 points, last day 2026-12-31
    store.clock.set(datetime(2026, 3, 1, 2, 0, tzinfo=UTC))
    till = Till(store)
    desk.till, desk.md = till, till.md
    sell(till, desk, [(cf.SPRITE_CAN, 20)], cash(6_000))  # 60 points, last day 2027-12-31
    admin = store.login("1003", "3333", device_id=till.device_id)
    soon = desk.call(
        "ListExpiringPoints", members_pb2.ListExpiringPointsRequest(before="2027-01-01"), admin
    )
    assert [(i.points, i.expires_on, i.masked_phone) for i in soon.items] == [
        (30, "2026-12-31", "138****8000")
    ]
    nothing = desk.call("ExpirePoints", members_pb2.ExpirePointsRequest(today="2026-12-31"), admin)
    assert (nothing.lots, nothing.points) == (0, 0)
    done = desk.call("ExpirePoints", members_pb2.ExpirePointsRequest(today="2027-01-01"), admin)
    assert (done.lots, done.points) == (1, 30)
    assert balances(store, m.member_id)[0] == 60
    with store.db.read() as conn:
        expired = conn.execute(
            select(PointsEntry.points, PointsEntry.kind).where(PointsEntry.kind == "expire")
        ).all()
    assert expired == [(-30, "expire")]
    again = desk.call("ExpirePoints", members_pb2.ExpirePointsRequest(today="2027-01-01"), admin)
    assert again.lots == 0
    # Nobody runs anything: the server's daily tick expires the 2026 lot in 2028.
    store.clock.set(datetime(2028, 1, 1, 2, 0, tzinfo=UTC))
    store.store.expiry.tick()
    assert balances(store, m.member_id)[0] == 0


def test_count_card_uses_on_sale_and_back_on_return(
    store: RunningStore, till: Till, desk: MemberDesk
) -> None:
    m = desk.register(PHONE)
    desk.card_no = m.card_no
    coke = till.scan(cf.COKE_CAN).lines[0].product_id
    till.call("ClearBasket", sales_pb2.BasketRef(basket_id=till.basket_id))
    sup = supervisor_desk(store, till)
    card_id = new_id()
    sold = sup.sell_count_card(m.member_id, coke, uses=5, price_fen=1_000, card_id=card_id)
    assert [(c.remaining, c.total_uses) for c in sold.member.count_cards] == [(5, 5)]
    sale = sell(
        till, desk, [(cf.COKE_CAN, 2), (cf.SPRITE_CAN, 1)], count_card(card_id, 2), cash(300)
    )
    assert [(p.kind, p.applied.fen) for p in sale.receipt.payments] == [
        ("count_card", 560),
        ("cash", 300),
    ]
    assert sale.receipt.member.points_earned == 3  # only the sprite was paid with money
    assert desk.identify(by_card(m.card_no)).count_cards[0].remaining == 3
    sup_till = Till(store, device_id=till.device_id, operator=("1002", "2222"))
    sup_till.call(
        "ReturnItems",
        sales_pb2.ReturnRequest(
            return_id=new_id(),
            receipt_no=sale.receipt_no,
            lines=[
                sales_pb2.ReturnLineRequest(line_no=1, quantity=common_pb2.Quantity(milli=1000))
            ],
        ),
    )
    assert desk.identify(by_card(m.card_no)).count_cards[0].remaining == 4
    # More uses than the card has left.
    err = expect_code(FP, lambda: sell(till, desk, [(cf.COKE_CAN, 5)], count_card(card_id, 5)))
    assert error_detail(err).reason == "COUNT_CARD_EXHAUSTED"


def test_birthday_coupon_single_use_and_restored_on_a_full_return(
    store: RunningStore, till: Till, desk: MemberDesk
) -> None:
    m = desk.register(PHONE, birthday="1990-11-05")  # today is 2026-11-23
    desk.card_no = m.card_no
    assert desk.identify(by_card(m.card_no)).coupons == 1
    listed = desk.call("ListCoupons", by_card(m.card_no)).coupons
    assert [(c.name, c.valid_until, c.status) for c in listed] == [
        ("生日券", "2026-11-30", "issued")
    ]
    coupon_id = listed[0].coupon_id
    till.new_basket()
    desk.attach(by_card(m.card_no))
    till.scan(cf.SPRITE_CAN, 20_000)
    basket = till.call(
        "ApplyCoupon", sales_pb2.CouponRequest(basket_id=till.basket_id, coupon_id=coupon_id)
    )
    assert (basket.total.fen, list(basket.coupon_ids)) == (4_000, [coupon_id])
    # A second till puts the same coupon on its basket before the first commits.
    till2 = Till(store, device_id="till-02")
    till2.open_shift()
    MemberDesk(till2).attach(by_card(m.card_no))
    till2.scan(cf.SPRITE_CAN, 20_000)
    till2.call(
        "ApplyCoupon", sales_pb2.CouponRequest(basket_id=till2.basket_id, coupon_id=coupon_id)
    )
    sale = till.commit(cash(4_000))
    err = expect_code(FP, lambda: till2.commit(cash(4_000)))
    assert error_detail(err).reason == "COUPON_USED"
    with store.db.read() as conn:
        status = conn.execute(select(MemberCoupon.status)).scalar_one()
    assert status == "redeemed"
    till.new_basket()
    desk.attach(by_card(m.card_no))
    till.scan(cf.SPRITE_CAN, 20_000)
    err = expect_code(
        FP,
        lambda: till.call(
            "ApplyCoupon", sales_pb2.CouponRequest(basket_id=till.basket_id, coupon_id=coupon_id)
        ),
    )
    assert error_detail(err).reason == "COUPON_USED"
    sup = Till(store, device_id=till.device_id, operator=("1002", "2222"))
    sup.call(
        "ReturnItems",
        sales_pb2.ReturnRequest(
            return_id=new_id(),
            receipt_no=sale.receipt_no,
            lines=[
                sales_pb2.ReturnLineRequest(line_no=1, quantity=common_pb2.Quantity(milli=20_000))
            ],
        ),
    )
    with store.db.read() as conn:
        status = conn.execute(select(MemberCoupon.status)).scalar_one()
    assert status == "issued"
    # Only one birthday coupon a year, however often the member is identified.
    assert desk.identify(by_card(m.card_no)).coupons == 1


def test_member_price_gift_redemption_and_history(
    store: RunningStore, till: Till, desk: MemberDesk
) -> None:
    m = member_with_points(store, till, desk)
    till.new_basket()
    plain = till.scan(cf.COKE_CAN)
    assert plain.total.fen == 300  # no member: the shelf price
    with_member = desk.attach(by_card(m.card_no))
    assert with_member.total.fen == 280
    assert [a.name for a in with_member.lines[0].adjustments] == ["会员价"]
    till.call("ClearBasket", sales_pb2.BasketRef(basket_id=till.basket_id))
    till.new_basket()
    water = till.scan(cf.WATER).lines[0].product_id
    till.call("ClearBasket", sales_pb2.BasketRef(basket_id=till.basket_id))
    with unit_of_work(store.db, Actor.system("test"), store.clock.now()) as uow:
        gifts.set_gift(uow, water, 200)
    redemption = members_pb2.RedeemGiftRequest(
        redemption_id=new_id(), member=by_card(m.card_no), product_id=water, quantity=2
    )
    done = desk.call("RedeemGift", redemption)
    assert (done.points, done.member.points) == (400, 260)
    assert desk.call("RedeemGift", redemption).member.points == 260  # once
    with store.db.read() as conn:
        moved = conn.execute(
            select(StockMovement.quantity_milli).where(StockMovement.kind == "points_gift")
        ).all()
    assert moved == [(-2_000,)]
    history = desk.call(
        "MemberHistory", members_pb2.MemberHistoryRequest(member=by_card(m.card_no))
    )
    assert [p.total.fen for p in history.purchases] == [66_000]
    kinds = [(e.ledger, e.kind) for e in history.entries]
    assert set(kinds) == {("points", "earn"), ("stored_value", "topup"), ("points", "gift")}
    assert all(e.entry_id.startswith("S01-") for e in history.entries)


def test_pin_on_registration_is_hashed(store: RunningStore, desk: MemberDesk) -> None:
    desk.register(PHONE)
    with store.db.read() as conn:
        stored = conn.execute(select(Member.pin_hash)).scalar_one()
    assert stored.startswith("scrypt$") and PIN not in stored


def test_a_return_of_points_already_spent_leaves_them_owed(
    store: RunningStore, till: Till, desk: MemberDesk
) -> None:
    m = member_with_points(store, till, desk)  # 660 points
    earned = sell(till, desk, [(cf.SPRITE_CAN, 10)], cash(3_000))
    assert earned.receipt.member.points_balance == 690
    spent = sell(till, desk, [(cf.SPRITE_CAN, 3)], points(690), cash(210))
    assert spent.receipt.member.points_balance == 2  # 0 + 2 earned on the 2.10 cash
    sup = Till(store, device_id=till.device_id, operator=("1002", "2222"))
    ret = sup.call(
        "ReturnItems",
        sales_pb2.ReturnRequest(
            return_id=new_id(),
            receipt_no=earned.receipt_no,
            lines=[
                sales_pb2.ReturnLineRequest(line_no=1, quantity=common_pb2.Quantity(milli=10_000))
            ],
        ),
    )
    # The 30 points of that sale come back off the balance: 2 are there, 28 are owed.
    assert (ret.receipt.member.points_earned, ret.receipt.member.points_balance) == (-30, -28)
    assert ledger_sums(store, m.member_id)[0] == -28
    # The next earnings pay the debt first; what is left can be spent.
    later = sell(till, desk, [(cf.SPRITE_CAN, 40)], cash(12_000))
    assert later.receipt.member.points_balance == 120 - 28
    final = sell(till, desk, [(cf.SPRITE_CAN, 1)], points(92), cash(208))
    assert final.receipt.member.points_redeemed == 92
    err = expect_code(FP, lambda: sell(till, desk, [(cf.SPRITE_CAN, 1)], points(300)))
    assert error_detail(err).reason == "INSUFFICIENT_POINTS"


def test_discount_card_and_the_better_of_tier_and_card(
    store: RunningStore, desk: MemberDesk
) -> None:
    m = desk.register(PHONE, card_discount_bp=1_000)  # 折扣卡 10%
    desk.card_no = m.card_no
    desk.till.new_basket()
    desk.attach(by_card(m.card_no))
    basket = desk.till.scan(cf.SPRITE_CAN, 10_000)
    assert basket.total.fen == 2_700
    assert [a.name for a in basket.lines[0].adjustments] == ["折扣卡"]
    err = expect_code(BAD, lambda: desk.register("13911112222", card_discount_bp=9_000))
    assert error_detail(err).field == "card_discount_bp"


def test_campaign_coupon_with_scope_minimum_spend_and_validity(
    store: RunningStore, till: Till, desk: MemberDesk
) -> None:
    m = desk.register(PHONE)
    desk.card_no = m.card_no
    definition = (
        '{"name": "饮料券", "rule": {"type": "coupon", "amount_fen": 500, "min_spend_fen": 2000},'
        ' "scope": {"categories": ["饮料"]}}'
    )

    def issue(coupon_id: str, until: str, md=None):
        return desk.issue_coupon(
            coupon_id, m.member_id, definition, valid_from="2026-11-01", valid_until=until, md=md
        )

    expect_code(grpc.StatusCode.PERMISSION_DENIED, lambda: issue("C1", "2026-11-30"))
    sup = supervisor_desk(store, till)
    issue("C1", "2026-11-30", sup.md)
    issue("C-OLD", "2026-11-22", sup.md)  # ended yesterday
    till.new_basket()
    desk.attach(by_card(m.card_no))
    till.scan(cf.SPRITE_CAN, 5_000)
    till.scan(cf.UPC_CHIPS, 1_000)  # snacks: outside the coupon's scope
    apply = sales_pb2.CouponRequest(basket_id=till.basket_id, coupon_id="C1")
    basket = till.call("ApplyCoupon", apply)
    chips = basket.lines[1].net_amount.fen
    assert basket.total.fen == 1_500 + chips  # 15.00 of drinks: under the 20.00 minimum
    basket = till.scan(cf.SPRITE_CAN, 2_000)
    assert basket.total.fen == 2_100 - 500 + chips
    err = expect_code(
        FP,
        lambda: till.call(
            "ApplyCoupon", sales_pb2.CouponRequest(basket_id=till.basket_id, coupon_id="C-OLD")
        ),
    )
    assert error_detail(err).reason == "COUPON_NOT_VALID"
    bad = expect_code(
        BAD,
        lambda: desk.issue_coupon(
            "C2",
            m.member_id,
            '{"name": "x", "rule": {"type": "percent_off", "percent_bp": 100}}',
            valid_until="2026-12-01",
            campaign="x",
            md=sup.md,
        ),
    )
    assert error_detail(bad).field == "definition.rule"

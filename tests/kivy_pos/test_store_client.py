"""The till's gRPC client layer against a real store server (no Kivy)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import grpc
import pytest
from sqlalchemy import func, select

from clients.kivy_pos.client import CallPolicy, Offline, ServerError, StoreClient, payment
from store_server.db.sales_models import Sale
from tests.kivy_pos.stores import start_again, stop
from tests.support import catalog_fixture as cf
from tests.support.members import MemberDesk, by_phone, supervisor_desk
from tests.support.server import RunningStore
from tests.support.till import Till
from tillpoint.v1 import common_pb2, sales_pb2

CASH = sales_pb2.TENDER_KIND_CASH


def new_id() -> str:
    return str(uuid.uuid4())


def sale_count(store: RunningStore) -> int:
    with store.db.read() as conn:
        return conn.execute(select(func.count()).select_from(Sale)).scalar_one()


@pytest.fixture
def pauses() -> list[float]:
    return []


@pytest.fixture
def client(store: RunningStore, pauses: list[float]) -> Iterator[StoreClient]:
    c = StoreClient(store.store.address, "till-01", sleep=pauses.append)
    yield c
    c.close()


def logged_in_with_shift(client: StoreClient) -> StoreClient:
    client.login("1001", "1111")
    if client.current_shift() is None:
        client.open_shift(new_id(), 50_000)
    return client


# -- errors in the server's words ---------------------------------------------------


def test_wrong_pin_is_the_servers_sentence_and_not_retried(
    client: StoreClient, pauses: list[float]
) -> None:
    with pytest.raises(ServerError) as info:
        client.login("1001", "9999")
    err = info.value
    assert err.code == grpc.StatusCode.UNAUTHENTICATED
    assert err.reason and err.message and "UNAUTHENTICATED" not in err.message
    assert not isinstance(err, Offline)
    assert pauses == [] and not client.logged_in


def test_unknown_and_bad_barcodes_name_the_reason_and_field(client: StoreClient) -> None:
    logged_in_with_shift(client)
    basket_id = new_id()
    client.create_basket(basket_id)
    with pytest.raises(ServerError) as unknown:
        client.add_item(basket_id, new_id(), code=cf.ean13("690999999999"))
    assert unknown.value.code == grpc.StatusCode.NOT_FOUND and unknown.value.reason
    with pytest.raises(ServerError) as bad:
        client.add_item(basket_id, new_id(), code="6901234567890")  # wrong check digit
    assert bad.value.code == grpc.StatusCode.INVALID_ARGUMENT
    assert bad.value.field == "code" and bad.value.message


def test_no_shift_is_none_then_a_shift_opens_once(client: StoreClient) -> None:
    client.login("1001", "1111")
    assert client.operator is not None and client.operator.operator_id == "1001"
    assert client.current_shift() is None
    shift_id = new_id()
    first = client.open_shift(shift_id, 50_000)
    assert client.open_shift(shift_id, 50_000).shift_id == first.shift_id  # a replay
    assert client.current_shift().shift_id == shift_id


# -- a sale -------------------------------------------------------------------------


def test_scan_total_and_cash_sale_replayed_is_one_sale(
    store: RunningStore, client: StoreClient
) -> None:
    logged_in_with_shift(client)
    basket_id = new_id()
    client.create_basket(basket_id)
    line_id = new_id()
    client.add_item(basket_id, line_id, code=cf.COKE_CAN)
    client.add_item(basket_id, line_id, code=cf.COKE_CAN)  # the same scan sent again
    client.add_item(basket_id, new_id(), code=cf.COKE_CASE)
    basket = client.add_item(basket_id, new_id(), code="1001", quantity_milli=500)  # apples
    assert [line.name for line in basket.lines] == [
        "可口可乐 330ml",
        "可口可乐 330ml",
        "红富士苹果",
    ]
    assert basket.total.fen == 300 + 6_600 + 640
    assert client.total_basket(basket_id).totalled
    sale_id = new_id()
    sale = client.commit_sale(sale_id, basket_id, [payment(CASH, 10_000)])
    assert (sale.total.fen, sale.change.fen) == (7_540, 2_460)
    again = client.commit_sale(sale_id, basket_id, [payment(CASH, 10_000)])
    assert again.receipt_no == sale.receipt_no
    assert sale_count(store) == 1
    assert client.get_receipt(sale.receipt_no).copy


def test_void_back_out_hold_and_resume(client: StoreClient) -> None:
    logged_in_with_shift(client)
    basket_id = new_id()
    client.create_basket(basket_id)
    keep, drop = new_id(), new_id()
    client.add_item(basket_id, keep, code=cf.SPRITE_CAN)
    client.add_item(basket_id, drop, code=cf.WATER)
    assert client.void_line(basket_id, drop).total.fen == 300
    assert client.set_quantity(basket_id, keep, 3_000).total.fen == 900
    client.total_basket(basket_id)
    assert not client.back_out_total(basket_id).totalled
    client.hold_basket(basket_id)
    assert [b.basket_id for b in client.held_baskets()] == [basket_id]
    assert client.resume_basket(basket_id).total.fen == 900


def test_member_by_phone_and_pin_pays_with_stored_value_points_and_cash(
    store: RunningStore, client: StoreClient
) -> None:
    till = Till(store, device_id="desk-01")  # the service desk registers and tops up
    till.open_shift()
    desk = MemberDesk(till)
    member = desk.register("13800138000")
    supervisor_desk(store, till).top_up(member.member_id, 10_000)  # 100 + 10 bonus
    client.login("1001", "1111")
    client.open_shift(new_id(), 50_000)
    # A first sale earns points: 10 cases of cola, 660.00 in cash, 660 points.
    first = new_id()
    client.create_basket(first)
    client.attach_member(first, by_phone("13800138000"))
    client.add_item(first, new_id(), code=cf.COKE_CASE, quantity_milli=10_000)
    earned = client.commit_sale(new_id(), first, [payment(CASH, 66_000)])
    assert earned.receipt.member.points_earned == 660

    basket_id = new_id()
    client.create_basket(basket_id)
    basket = client.attach_member(basket_id, by_phone("13800138000"))
    assert basket.member.masked_phone == "138****8000"
    assert (basket.member.stored_value.fen, basket.member.points) == (11_000, 660)
    basket = client.add_item(basket_id, new_id(), code=cf.COKE_CAN, quantity_milli=5_000)
    assert basket.total.fen == 1_400  # member price 2.80
    assert [a.name for a in basket.lines[0].adjustments] == ["会员价"]
    sale = client.commit_sale(
        new_id(),
        basket_id,
        [
            payment(sales_pb2.TENDER_KIND_STORED_VALUE, 800),
            payment(sales_pb2.TENDER_KIND_POINTS, 300),  # 300 points = 3.00
            payment(CASH, 500),
        ],
    )
    assert sale.change.fen == 200
    assert [p.name for p in sale.receipt.payments] == ["储值卡", "积分抵现", "现金"]
    assert sale.receipt.member.stored_value_balance.fen == 10_200
    assert sale.receipt.member.points_redeemed == 300
    with pytest.raises(ServerError) as refused:  # more points than the member has
        basket_id = new_id()
        client.create_basket(basket_id)
        client.attach_member(basket_id, by_phone("13800138000"))
        client.add_item(basket_id, new_id(), code=cf.COKE_CASE, quantity_milli=1_000)
        client.commit_sale(new_id(), basket_id, [payment(sales_pb2.TENDER_KIND_POINTS, 6_600)])
    assert refused.value.reason == "INSUFFICIENT_POINTS"
    with pytest.raises(ServerError) as info:
        client.attach_member(new_id(), by_phone("13800138000", "000000"))
    assert info.value.message


def test_return_by_receipt_number(client: StoreClient) -> None:
    logged_in_with_shift(client)
    basket_id = new_id()
    client.create_basket(basket_id)
    client.add_item(basket_id, new_id(), code=cf.SPRITE_CAN, quantity_milli=3_000)
    sale = client.commit_sale(new_id(), basket_id, [payment(CASH, 900)])
    return_id = new_id()
    line = sales_pb2.ReturnLineRequest(line_no=1, quantity=common_pb2.Quantity(milli=2_000))
    first = client.return_items(return_id, sale.receipt_no, [line], reason="顾客退货")
    assert abs(first.refund.fen) == 600
    again = client.return_items(return_id, sale.receipt_no, [line], reason="顾客退货")
    assert again.receipt_no == first.receipt_no


def test_search_by_pinyin_initials(client: StoreClient) -> None:
    client.login("1001", "1111")
    names = [p.name for p in client.search("KKKL")]
    assert "可口可乐 330ml" in names
    assert client.lookup(cf.COKE_CASE).pack_factor == 24


# -- the server goes away -----------------------------------------------------------


def test_offline_commit_is_retried_with_the_same_sale_id_and_sells_once(
    fixed_store: RunningStore, pauses: list[float]
) -> None:
    client = StoreClient(
        fixed_store.store.address,
        "till-01",
        policy=CallPolicy(deadline=1.0, attempts=3, backoff=0.01),
        sleep=pauses.append,
    )
    logged_in_with_shift(client)
    basket_id = new_id()
    client.create_basket(basket_id)
    client.add_item(basket_id, new_id(), code=cf.COKE_CAN, quantity_milli=2_000)
    sale_id = new_id()
    stop(fixed_store)
    with pytest.raises(Offline) as info:
        client.commit_sale(sale_id, basket_id, [payment(CASH, 600)])
    assert info.value.message == "无法连接门店服务器" or "回应" in info.value.message
    assert pauses == [0.01, 0.02]  # three attempts: CommitSale is idempotent by its sale id
    pauses.clear()
    with pytest.raises(Offline):
        client.void_line(basket_id, new_id())
    assert pauses == []  # a void is sent once
    start_again(fixed_store)
    assert client.reachable(timeout=5.0)
    sale = client.commit_sale(sale_id, basket_id, [payment(CASH, 600)])
    assert client.commit_sale(sale_id, basket_id, [payment(CASH, 600)]).receipt_no == (
        sale.receipt_no
    )
    assert sale_count(fixed_store) == 1
    client.close()


class _Unavailable(grpc.RpcError):
    def code(self) -> grpc.StatusCode:
        return grpc.StatusCode.UNAVAILABLE

    def details(self) -> str:
        return "connection refused"


class _RecordingStub:
    """Fails UNAVAILABLE n times, then answers; records each call's deadline."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.timeouts: list[float | None] = []

    def __getattr__(self, method: str):
        def invoke(request, metadata=None, timeout=None):
            self.timeouts.append(timeout)
            if len(self.timeouts) <= self.failures:
                raise _Unavailable()
            return "answer"

        return invoke


def test_every_attempt_carries_the_deadline_and_only_idempotent_calls_retry() -> None:
    pauses: list[float] = []
    client = StoreClient(
        "127.0.0.1:1", "till-01", policy=CallPolicy(deadline=2.5), sleep=pauses.append
    )
    stub = _RecordingStub(failures=2)
    assert client.call(stub, "AddItem", object()) == "answer"
    assert stub.timeouts == [2.5, 2.5, 2.5] and pauses == [0.2, 0.4]
    for method in ("Login", "VoidLine", "ClearBasket", "AttachMember", "CloseShift"):
        stub = _RecordingStub(failures=1)
        with pytest.raises(Offline):
            client.call(stub, method, object())
        assert stub.timeouts == [2.5], method
    client.close()

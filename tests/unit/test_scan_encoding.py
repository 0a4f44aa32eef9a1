"""The scan's answer: a basket put together from kept line encodings is the basket
protobuf itself builds, field for field, however the lines and prices change."""

from __future__ import annotations

from datetime import UTC, datetime

from google.protobuf.internal.encoder import _VarintBytes
from hypothesis import given, settings
from hypothesis import strategies as st

from store_server.baskets import BasketView
from store_server.db.basket_repo import StoredBasket, StoredLine
from store_server.domain.pricing import Adjustment, PricedBasket, PricedLine
from store_server.members.book import MemberBrief
from store_server.services import sales_convert as cv
from tests.support.lines import stored_line
from tillpoint.v1 import sales_pb2

INT64 = st.integers(min_value=-(2**63), max_value=2**63 - 1)
# Amounts as baskets carry them, the edges of each varint length, and huge
# ones (small enough that the basket's totals of six lines stay int64).
AMOUNTS = st.one_of(
    st.integers(min_value=-3_000_000, max_value=3_000_000),
    st.sampled_from([0, 1, -1, 127, 128, -128, 2**14, 2**21 - 1, 2**21, -(2**21), -(2**21) - 1]),
    st.integers(min_value=-(2**59), max_value=2**59),
)
TEXT = st.sampled_from(["", "可口可乐 330ml", "x", "满100减10", "é" * 70, "长" * 200])
CREATED = datetime(2026, 11, 23, 4, 0, 1, 250_000, tzinfo=UTC)


def basket_of(lines: list[StoredLine], **kw: object) -> StoredBasket:
    values: dict[str, object] = {
        "basket_id": "00000000-0000-4000-8000-00000000b000",
        "device_id": "till-01",
        "operator_id": "1001",
        "status": "open",
        "totalled": False,
        "member_id": None,
        "sale_id": None,
        "created_at": CREATED,
        "held_at": None,
        "lines": tuple(lines),
    }
    values.update(kw)
    return StoredBasket(**values)  # type: ignore[arg-type]


def reference(view: BasketView) -> sales_pb2.Basket:
    """The basket built the plain way: every field through protobuf's API."""
    b, priced = view.basket, view.priced
    out = sales_pb2.Basket(
        basket_id=b.basket_id,
        status=sales_pb2.BASKET_STATUS_HELD if b.status == "held" else sales_pb2.BASKET_STATUS_OPEN,
        totalled=b.totalled,
        item_count=len(b.lines),
        sale_id=b.sale_id or "",
    )
    out.subtotal.fen = priced.subtotal_fen
    out.discount.fen = priced.discount_fen
    out.total.fen = priced.total_fen
    out.cash_total.fen = priced.total_fen if view.cash_total_fen is None else view.cash_total_fen
    out.created_at.FromDatetime(b.created_at)
    if b.held_at is not None:
        out.held_at.FromDatetime(b.held_at)
    if view.member is not None:
        out.member.member_id = view.member.member_id
        out.member.masked_phone = view.member.masked_phone
        out.member.name = view.member.name
        out.member.tier_name = view.member.tier_name
        out.member.points = view.member.points
        out.member.stored_value.fen = view.member.stored_value_fen
        out.coupon_ids.extend(cid for cid, _ in b.coupons)
    for line, p in zip(b.lines, priced.lines, strict=True):
        pb = out.lines.add(
            line_id=line.line_id,
            product_id=line.product_id,
            sku=line.sku,
            name=line.name,
            code=line.code,
            pack_factor=line.pack_factor,
            weighed=line.weighed,
            gift=line.gift,
            unit=line.unit,
        )
        pb.quantity.milli = line.quantity_milli
        shown = line.override_unit_price_fen
        pb.unit_price.fen = line.unit_price_fen if shown is None else shown
        pb.base_amount.fen = p.base_amount_fen
        pb.net_amount.fen = p.net_amount_fen
        for a in p.adjustments:
            adj = pb.adjustments.add(code=a.code, name=a.name)
            adj.amount.fen = a.amount_fen
    return out


def assert_same(view: BasketView) -> None:
    got, want = cv.basket(view), reference(view)
    assert got == want
    assert got.SerializeToString(deterministic=True) == want.SerializeToString(deterministic=True)


lines_st = st.lists(
    st.builds(
        dict,
        name=TEXT,
        code=TEXT,
        unit=TEXT,
        weighed=st.booleans(),
        gift=st.booleans(),
        pack_factor=st.sampled_from([1, 6, 24]),
        quantity_milli=st.integers(min_value=1, max_value=10**6),
        unit_price_fen=AMOUNTS,
        override_unit_price_fen=st.one_of(st.none(), AMOUNTS),
    ),
    max_size=6,
)
prices_st = st.tuples(
    AMOUNTS,
    AMOUNTS,
    st.lists(st.tuples(TEXT, TEXT, AMOUNTS).map(lambda t: Adjustment(*t)), max_size=3),
)


@settings(max_examples=150, deadline=None)
@given(lines_st, st.lists(prices_st, min_size=6, max_size=6), st.lists(prices_st, min_size=6))
def test_every_field_of_every_line_as_protobuf_builds_it(
    specs: list[dict], first: list[tuple], second: list[tuple]
) -> None:
    lines = [stored_line(n, **spec) for n, spec in enumerate(specs, 1)]

    def priced(prices: list[tuple]) -> PricedBasket:
        return PricedBasket(
            tuple(
                PricedLine(line.line_id, base, tuple(adjustments), net, 1300)
                for line, (base, net, adjustments) in zip(lines, prices, strict=False)
            )
        )

    assert_same(BasketView(basket_of(lines), priced(first)))
    # The same line objects priced again (a basket-wide promotion moved its
    # discount): the kept product halves must carry the new prices.
    if len(second) >= len(lines):
        assert_same(BasketView(basket_of(lines), priced(second)))


def test_a_line_read_again_shows_what_it_says_now_not_what_was_kept() -> None:
    first = stored_line(1)
    priced = PricedBasket((PricedLine(first.line_id, 300, (), 300, 1300),))
    assert cv.basket(BasketView(basket_of([first]), priced)).lines[0].name == "可口可乐 330ml"
    # Same line id, product renamed and quantity changed: a new StoredLine object.
    again = stored_line(1, name="可口可乐 500ml", quantity_milli=2000)
    out = cv.basket(BasketView(basket_of([again]), priced))
    assert (out.lines[0].name, out.lines[0].quantity.milli) == ("可口可乐 500ml", 2000)
    assert_same(BasketView(basket_of([again]), priced))


def test_member_held_and_totals_around_the_kept_lines() -> None:
    lines = [stored_line(1), stored_line(2, gift=True, unit_price_fen=1290)]
    priced = PricedBasket(
        (
            PricedLine(lines[0].line_id, 300, (Adjustment("MEMBER_PRICE", "会员价", -20),), 280, 0),
            PricedLine(lines[1].line_id, 1290, (Adjustment("GIFT", "赠送", -1290),), 0, 0),
        )
    )
    view = BasketView(
        basket_of(
            lines,
            status="held",
            held_at=CREATED,
            member_id="M1",
            coupons=(("C1", "{}"),),
        ),
        priced,
        MemberBrief("M1", "138****0000", "张三", "金卡", 1200, 5000),
        cash_total_fen=280,
    )
    assert_same(view)
    out = cv.basket(view)
    assert (out.total.fen, out.discount.fen, out.member.name) == (280, 1310, "张三")
    assert [a.amount.fen for a in out.lines[1].adjustments] == [-1290]


@given(INT64)
def test_varint_is_protobufs(n: int) -> None:
    assert cv._varint(n) == _VarintBytes(n & (2**64 - 1))


def test_varint_at_every_length_edge() -> None:
    for bits in range(0, 64):
        for n in (2**bits - 1, 2**bits, -(2**bits), -(2**bits) - 1):
            if -(2**63) <= n < 2**63:
                assert cv._varint(n) == _VarintBytes(n & (2**64 - 1)), n

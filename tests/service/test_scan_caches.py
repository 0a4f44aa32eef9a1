"""A scan answers from kept pieces (line conversions, line encodings): every change
that moves a price shows in the very next answer, on lines scanned before it."""

from __future__ import annotations

import grpc

from tests.support import catalog_fixture as cf
from tests.support.errors import error_detail, expect_code
from tests.support.members import MemberDesk, by_card
from tests.support.office import create_promotion, schedule_price
from tests.support.server import DEADLINE, RunningStore
from tests.support.till import Till
from tillpoint.v1 import (
    promotions_pb2,
    promotions_pb2_grpc,
    sales_pb2,
)


def lines(basket: sales_pb2.Basket) -> list[tuple[str, int, int, list[tuple[str, int]]]]:
    """(name, quantity, net, [(adjustment, fen)]) per line, after checking its sums."""
    out = []
    for line in basket.lines:
        adjustments = [(a.name, a.amount.fen) for a in line.adjustments]
        assert line.net_amount.fen == line.base_amount.fen + sum(f for _, f in adjustments)
        out.append((line.name, line.quantity.milli, line.net_amount.fen, adjustments))
    assert basket.total.fen == sum(line.net_amount.fen for line in basket.lines)
    assert basket.subtotal.fen == sum(line.base_amount.fen for line in basket.lines)
    return out


def test_promotions_members_quantities_and_prices_show_on_earlier_lines(
    store: RunningStore,
) -> None:
    admin = store.login("1003", "3333", "office")
    promotions = promotions_pb2_grpc.PromotionServiceStub(store.channel)
    till = Till(store)
    till.open_shift()
    till.new_basket()
    till.scan(cf.COKE_CAN)
    basket = till.scan(cf.UPC_CHIPS)
    assert lines(basket) == [
        ("可口可乐 330ml", 1000, 300, []),
        ("乐事 原味薯片 70g", 1000, 750, []),
    ]

    # A promotion created between two scans prices the lines already there.
    create_promotion(
        store,
        admin,
        {
            "promo_id": "drinks-10",
            "name": "饮料九折",
            "rule": {"type": "percent_off", "percent_bp": 1000},
            "scope": {"categories": ["饮料"]},
        },
    )
    basket = till.scan(cf.SPRITE_CAN)
    assert lines(basket) == [
        ("可口可乐 330ml", 1000, 270, [("饮料九折", -30)]),
        ("乐事 原味薯片 70g", 1000, 750, []),
        ("雪碧 330ml", 1000, 270, [("饮料九折", -30)]),
    ]
    # A quantity change: the same line, new amounts (and its share of the promotion).
    basket = till.call(
        "SetQuantity",
        sales_pb2.SetQuantityRequest(
            basket_id=till.basket_id, line_id=basket.lines[0].line_id, quantity_milli=3000
        ),
    )
    assert lines(basket)[0] == ("可口可乐 330ml", 3000, 810, [("饮料九折", -90)])

    # Ended: gone from every line at the next scan.
    promotions.EndPromotion(
        promotions_pb2.EndPromotionRequest(promo_id="drinks-10"), metadata=admin, timeout=DEADLINE
    )
    basket = till.scan(cf.UPC_CHIPS)
    assert [(n, net, adj) for n, _, net, adj in lines(basket)] == [
        ("可口可乐 330ml", 900, []),
        ("乐事 原味薯片 70g", 750, []),
        ("雪碧 330ml", 300, []),
        ("乐事 原味薯片 70g", 750, []),
    ]

    # A member attached: member prices (cola 2.80, chips 6.90) on the lines scanned before.
    desk = MemberDesk(till)
    member = desk.register("13800138000")
    basket = desk.attach(by_card(member.card_no))
    assert lines(basket)[0] == ("可口可乐 330ml", 3000, 840, [("会员价", -60)])
    basket = till.scan(cf.COKE_CAN)
    assert [net for _, _, net, _ in lines(basket)] == [840, 690, 300, 690, 280]
    basket = till.call("DetachMember", sales_pb2.BasketRef(basket_id=till.basket_id))
    assert [net for _, _, net, _ in lines(basket)] == [900, 750, 300, 750, 300]

    # A price change applied now: the next scan of the product takes the new price.
    schedule_price(store, admin, "P2", 350)
    basket = till.scan(cf.SPRITE_CAN)
    assert [(n, net) for n, _, net, _ in lines(basket)][-1] == ("雪碧 330ml", 350)
    # The answer to a scan is the basket as read back on its own.
    again = till.call("GetBasket", sales_pb2.BasketRef(basket_id=till.basket_id))
    assert again == basket


def test_a_scan_with_a_wrong_check_digit_is_refused_and_adds_nothing(
    store: RunningStore,
) -> None:
    till = Till(store)
    till.new_basket()
    till.scan(cf.COKE_CAN)
    for code in (cf.COKE_CAN[:-1] + str((int(cf.COKE_CAN[-1]) + 1) % 10), "96385075"):
        err = expect_code(grpc.StatusCode.INVALID_ARGUMENT, lambda c=code: till.scan(c))
        assert (error_detail(err).reason, error_detail(err).field) == ("BAD_CHECK_DIGIT", "code")
    basket = till.scan(cf.WATER_EAN8)  # a right EAN-8 still scans
    assert [line.code for line in basket.lines] == [cf.COKE_CAN, cf.WATER_EAN8]

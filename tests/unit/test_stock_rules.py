"""Every stock and stocktake RPC has a rule; handhelds reach nothing that shows on-hand."""

from __future__ import annotations

from store_server.domain.permissions import Permission, Role, permissions_of
from store_server.rpc_rules import RULES
from tillpoint.v1 import stock_pb2


def _methods() -> list[str]:
    return [
        f"/{service.full_name}/{method.name}"
        for service in stock_pb2.DESCRIPTOR.services_by_name.values()
        for method in service.methods
    ]


def test_every_rpc_has_a_rule() -> None:
    assert [m for m in _methods() if m not in RULES] == []


def test_blind_counting_by_permission() -> None:
    clerk = permissions_of(Role.STOCK_CLERK)
    reachable = {m for m in _methods() if RULES[m].permission in clerk}
    assert reachable == {
        "/tillpoint.v1.StockService/ReceiveDelivery",
        "/tillpoint.v1.StockService/SendTransfer",
        "/tillpoint.v1.StockService/ReceiveTransfer",
        "/tillpoint.v1.StockService/SplitPack",
        "/tillpoint.v1.StocktakeService/ListSessions",
        "/tillpoint.v1.StocktakeService/SendCounts",
        "/tillpoint.v1.StocktakeService/StreamCounts",
        "/tillpoint.v1.StocktakeService/ListRecounts",
    }
    assert all(RULES[m].permission is not None for m in _methods())
    assert RULES["/tillpoint.v1.StocktakeService/PostSession"].permission is (
        Permission.STOCKTAKE_POST
    )

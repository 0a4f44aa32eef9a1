"""The real till window under Xvfb, driven like a cashier against a real store server."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image, ImageStat
from sqlalchemy import select

from clients.kivy_pos.till.amounts import quantity_text, yuan
from store_server.db.sales_models import Sale
from tests.kivy_pos.scenario import ROOT, SHOTS, prepare_member, run_till
from tests.kivy_pos.stores import start_again, stop
from tests.support.server import RunningStore
from tests.support.till import Till
from tillpoint.v1 import sales_pb2

pytestmark = pytest.mark.slow


def assert_not_blank(path: Path, size: tuple[int, int] = (1024, 768)) -> None:
    with Image.open(path) as image:
        assert image.size == size, path
        rgb = image.convert("RGB")
        colours = rgb.getcolors(maxcolors=1 << 16)
        assert colours is None or len(colours) > 50, f"{path}: {colours and len(colours)} colours"
        assert max(ImageStat.Stat(rgb).stddev) > 20, f"{path} is nearly uniform"


def test_log_in_scan_pay_cash_and_the_server_sale_is_what_the_screen_showed(
    store: RunningStore, tmp_path: Path
) -> None:
    prepare_member(store)
    result = run_till(store.store.address, tmp_path)
    screens = result["screens"]

    done = next(t for t in screens["tender_done"] if t.startswith("交易完成"))
    receipt_no = done.split("小票")[1].strip()
    checker = Till(store, device_id="check-01")
    receipt = checker.call("GetReceipt", sales_pb2.GetReceiptRequest(receipt_no=receipt_no))

    sell = screens["sell"]
    # Every receipt line is on the sell screen: name, quantity, net amount, discounts.
    for line in receipt.lines:
        assert any(t.startswith(line.name) for t in sell)
        weighed = line.unit == "kg"
        assert quantity_text(line.quantity.milli, weighed=weighed, unit=line.unit) in sell
        assert yuan(line.net_amount.fen) in sell
        for adj in line.adjustments:
            assert f"{adj.name} {yuan(adj.amount.fen)}" in sell
    assert "会员价 -0.20" in sell  # the explained discount
    assert "可口可乐 330ml（24罐装）" in sell  # the case barcode's line
    assert f"应付 ¥{yuan(receipt.total.fen)}" in sell
    assert any("138****8000" in t for t in sell)  # the member badge, phone masked
    assert [line.name for line in receipt.lines] == [
        "可口可乐 330ml",
        "雪碧 330ml",
        "可口可乐 330ml",
        "红富士苹果",
    ]

    tender_done = screens["tender_done"]
    assert f"应付 ¥{yuan(receipt.total.fen)}" in tender_done
    assert f"找零 ¥{yuan(receipt.change.fen)}" in tender_done
    assert (receipt.total.fen, receipt.change.fen) == (8_420, 1_580)
    assert [p.name for p in receipt.payments] == ["现金"]
    assert receipt.member.masked_phone == "138****8000"

    assert "Tillpoint 收银登录" in screens["login"] and "●●" in screens["login"]
    for name in SHOTS:
        assert_not_blank(Path(result["shots"][name]))


def test_the_screenshots_in_docs_are_not_blank() -> None:
    """`make screenshots` writes these; the README shows them."""
    for name in SHOTS:
        assert_not_blank(ROOT / "docs" / "screenshots" / f"till-{name}.png")


def test_server_lost_during_tender_banner_then_one_sale_after_it_returns(
    fixed_store: RunningStore, tmp_path: Path
) -> None:
    result = run_till(
        fixed_store.store.address,
        tmp_path,
        scenario="outage",
        handlers={
            "stop-the-server": (lambda: stop(fixed_store), "server-stopped"),
            "offline-shown": (lambda: start_again(fixed_store), "server-started"),
        },
    )
    offline = result["screens"]["offline"]
    banner = next(t for t in offline if t.startswith("门店服务器无法连接"))
    assert "不会重复收款" in banner
    assert "应付 ¥6.00" in offline  # the sale stays on screen
    done = result["screens"]["offline_done"]
    receipt_no = next(t for t in done if t.startswith("交易完成")).split("小票")[1].strip()
    assert "找零 ¥4.00" in done and not any(t.startswith("门店服务器无法连接") for t in done)
    with fixed_store.db.read() as conn:
        sales = conn.execute(select(Sale.receipt_no)).scalars().all()
    assert sales == [receipt_no]  # one sale, not two
    assert_not_blank(Path(result["shots"]["offline"]))

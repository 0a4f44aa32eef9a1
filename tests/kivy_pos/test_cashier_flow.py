"""The full cashier on the real till window under Xvfb, against a real store server, with
a simulated network receipt printer and a simulated pole display: what the screens showed,
the server's records and the decoded printed bytes must agree."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from sqlalchemy import select

from clients.kivy_pos.till.amounts import quantity_text, yuan
from clients.printing.sim_printer import start_simulator
from devices.display.simulator import DisplaySimulator
from devices.printer.decode import decode
from store_server.db.sales_models import Sale, SalePayment, Shift
from store_server.domain.barcodes import DEFAULT_LAYOUTS, make_scale_label
from tests.kivy_pos.scenario import prepare_member, run_till
from tests.kivy_pos.test_till_window import assert_not_blank
from tests.support.server import RunningStore
from tests.support.till import Till
from tillpoint.v1 import sales_pb2

pytestmark = pytest.mark.slow


def printed_slip(folder: Path, receipt_no: str) -> list[tuple]:
    """The decoded events of the one printed job that carries this receipt number."""
    slips = [decode(p.read_bytes()) for p in sorted(folder.glob("*.bin"))]
    mine = [s for s in slips if any(receipt_no in str(e[-1]) for e in s if e[0] == "text")]
    assert len(mine) == 1, f"{len(mine)} slips name {receipt_no}"
    return mine[0]


def amount_after(prefix: str, texts: list[str]) -> int:
    """'短款 ¥1.50' -> 150 (fen) from the first text starting with prefix."""
    text = next(t for t in texts if t.startswith(prefix))
    whole, frac = re.search(r"¥(\d+)\.(\d\d)", text).groups()  # type: ignore[union-attr]
    return int(whole) * 100 + int(frac)


def test_cashier_sells_five_items_split_tender_prints_and_closes_the_shift(
    store: RunningStore, tmp_path: Path
) -> None:
    prepare_member(store)
    printer = start_simulator(("127.0.0.1", 0), tmp_path / "receipts")
    host, port = printer.address
    display = tmp_path / "pole-display.bin"
    label = make_scale_label(DEFAULT_LAYOUTS[0], "1001", 352)  # 0.352 kg of apples
    try:
        result = run_till(
            store.store.address,
            tmp_path / "till",
            scenario="cashier",
            printer=f"network:{host}:{port}",
            display=f"file:{display}",
            codes={"apples_label": label, "counted": "600"},
            timeout=90.0,
        )
    finally:
        printer.stop()
    screens = result["screens"]
    assert any(t.startswith("农夫山泉") for t in screens["cashier_search"])  # the result list

    done = screens["cashier_done"]
    receipt_no = next(t for t in done if t.startswith("交易完成")).split("小票")[1].strip()
    receipt = Till(store, device_id="check-01").call(
        "GetReceipt", sales_pb2.GetReceiptRequest(receipt_no=receipt_no)
    )
    # The sell screen showed every line of the server's sale, discounts explained.
    sell = screens["cashier_sell"]
    assert [line.name for line in receipt.lines] == [
        "可口可乐 330ml",
        "雪碧 330ml",
        "可口可乐 330ml",
        "红富士苹果",
        "农夫山泉 饮用天然水 550ml",
    ]
    for line in receipt.lines:
        weighed = line.unit == "kg"
        assert quantity_text(line.quantity.milli, weighed=weighed, unit=line.unit) in sell
        assert yuan(line.net_amount.fen) in sell
        for adj in line.adjustments:
            assert f"{adj.name} {yuan(adj.amount.fen)}" in sell
    assert "0.352 kg" in sell and "可口可乐 330ml（24罐装）" in sell
    assert any("138****8000" in t for t in sell)
    assert f"应付 ¥{yuan(receipt.total.fen)}" in sell
    # Split tender: 50.00 on the card (slip C-7788), the rest in cash with change.
    assert [(p.name, p.applied.fen, p.reference) for p in receipt.payments] == [
        ("银行卡", 5_000, "C-7788"),
        ("现金", receipt.total.fen - 5_000, ""),
    ]
    assert f"找零 ¥{yuan(receipt.change.fen)}" in done
    assert receipt.change.fen == 10_000 - (receipt.total.fen - 5_000)

    with store.db.read() as conn:
        sales = conn.execute(select(Sale.receipt_no, Sale.total_fen, Sale.change_fen)).all()
        payments = conn.execute(
            select(SalePayment.kind, SalePayment.applied_fen).order_by(SalePayment.seq)
        ).all()
        shift = conn.execute(
            select(Shift.counted_cash_fen, Shift.z_report, Shift.closed_at).where(
                Shift.device_id == "till-01"
            )
        ).one()
    assert sales == [(receipt_no, receipt.total.fen, receipt.change.fen)]
    assert [fen for _kind, fen in payments] == [5_000, receipt.total.fen - 5_000]

    # The printed slip, decoded from the bytes the printer received.
    slip = printed_slip(tmp_path / "receipts", receipt_no)
    lines = [str(e[1]) for e in slip if e[0] == "text"]
    for line in receipt.lines:
        assert any(line.name in t for t in lines), line.name
    assert any(yuan(receipt.total.fen) in t and "合计" in t for t in lines), lines
    assert any("C-7788" in t for t in lines) and ("drawer", 2) in slip
    assert any(e[0] in ("barcode", "qr") and receipt_no in str(e[-1]) for e in slip)

    # The customer saw the change on the pole display last.
    pole = DisplaySimulator()
    pole.feed(display.read_bytes())
    assert pole.lines[0].strip() == "CHANGE" and pole.lines[1].strip().endswith(
        yuan(receipt.change.fen)
    )

    # Shift close: the Z screen's figures are the server's; the count was blind.
    z = screens["cashier_z"]
    expected = json.loads(shift.z_report)["expected_cash_fen"]
    assert shift.counted_cash_fen == 60_000 and shift.closed_at is not None
    assert amount_after("应有现金", z) == expected == 50_000 + receipt.total.fen - 5_000
    assert amount_after("实点现金", z) == 60_000
    word = "长款" if expected < 60_000 else "短款"
    assert amount_after(word, z) == abs(60_000 - expected)
    for name in ("cashier_search", "cashier_sell", "cashier_done", "cashier_z"):
        assert_not_blank(Path(result["shots"][name]))


def test_the_till_at_1920x1080_with_the_help_overlay(store: RunningStore, tmp_path: Path) -> None:
    result = run_till(store.store.address, tmp_path, scenario="wide", size="1920x1080")
    help_texts = result["screens"]["wide_help"]
    assert "键盘帮助（每个操作都有按键）" in help_texts
    for key in ("F1", "F5", "F12"):
        assert any(t.strip().startswith(key) for t in help_texts), key
    assert "应付 ¥3.00" in result["screens"]["wide_tender"]
    assert_not_blank(Path(result["shots"]["wide_help"]), size=(1920, 1080))

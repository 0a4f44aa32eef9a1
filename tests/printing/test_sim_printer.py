"""The simulated network printer of `make run DEVICES=sim`: real sales, real TCP, files.

A real store server sells the demo basket, the till's print queue prints through
python-escpos's Network printer to the simulator on 127.0.0.1, and the receipt must
appear in the folder as .bin, .txt and .png with the sale's content.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from escpos.printer import Dummy
from PIL import Image
from pyzbar import pyzbar

from clients.printing import demo
from clients.printing.preview import preview_text
from clients.printing.receipt_layout import layout_receipt, render
from clients.printing.sim_printer import (
    ReceiptFolder,
    ops_from_events,
    receipt_name,
    start_simulator,
)
from devices.printer.decode import decode
from tests.printing.receipts import RECEIPT_NO, sale_receipt
from tests.support.server import DEADLINE, RunningStore
from tillpoint.v1 import members_pb2, members_pb2_grpc

REPO = Path(__file__).resolve().parents[2]
PHONE = "13900139000"
CARD = "8000100000027"


def wait_for(condition: Callable[[], bool], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.02)


def sold_receipt_no(output: str) -> str:
    match = re.search(r"sold receipt (\S+)", output)
    assert match, output
    return match.group(1)


def check_filed_receipt(out: Path, receipt_no: str) -> None:
    txt = out / f"{receipt_no}.txt"
    wait_for(txt.exists)
    text = txt.read_text(encoding="utf-8")
    lines = text.splitlines()
    assert "可口可乐" in text  # the demo basket: cola x2 and noodles
    assert any(line.startswith("单号 No.") and line.endswith(receipt_no) for line in lines)
    assert any(line.startswith("合计 TOTAL") for line in lines)
    assert any(line.startswith("现金") for line in lines)
    assert any(line.startswith("找零 Change") for line in lines)
    assert f"[QR {receipt_no}]" in (line.strip() for line in lines)
    assert lines[-1] == "[drawer]"  # a cash sale kicked the drawer
    events = decode((out / f"{receipt_no}.bin").read_bytes())
    assert ("qr", receipt_no) in events
    assert ("cut",) in events
    with Image.open(out / f"{receipt_no}.png") as image:
        assert image.format == "PNG"
        found = {(code.type, code.data.decode()) for code in pyzbar.decode(image)}
    assert found == {("CODE128", receipt_no), ("QRCODE", receipt_no)}


def register_member(store: RunningStore, phone: str, card_no: str) -> None:
    md = store.login("1001", "1111", "member-desk")
    members_pb2_grpc.MemberServiceStub(store.channel).RegisterMember(
        members_pb2.RegisterMemberRequest(
            registration_id=str(uuid.uuid4()), phone=phone, name="李四", card_no=card_no
        ),
        metadata=md,
        timeout=DEADLINE,
    )


def test_a_member_sale_prints_to_the_simulated_network_printer(
    store: RunningStore, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    register_member(store, PHONE, CARD)
    out = tmp_path / "receipts"
    simulator = start_simulator(("127.0.0.1", 0), out)
    try:
        _host, port = simulator.address
        till_dir = tmp_path / "till"
        argv = ["--server", store.store.address, "--out", str(till_dir), "--member", CARD]
        assert demo.main([*argv, "--printer", f"network:127.0.0.1:{port}"]) == 0
        receipt_no = sold_receipt_no(capsys.readouterr().out)
        check_filed_receipt(out, receipt_no)
        # The till wrote no previews of its own: the printer's files are the receipt.
        assert not list(till_dir.glob("*.txt"))
    finally:
        simulator.stop()
    lines = (out / f"{receipt_no}.txt").read_text(encoding="utf-8").splitlines()
    member_line = next(line for line in lines if line.startswith("会员 Member"))
    assert member_line.endswith("139****9000")
    assert any(line.startswith("本次积分 Points earned") for line in lines)
    assert any(line.startswith("积分余额 Points balance") for line in lines)
    assert any(line.startswith("储值余额 Stored value") for line in lines)
    assert PHONE.encode() not in (out / f"{receipt_no}.bin").read_bytes()


def test_printer_absent_the_receipt_stays_queued(
    store: RunningStore, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    simulator = start_simulator(("127.0.0.1", 0), tmp_path / "receipts")
    _host, port = simulator.address
    simulator.stop()  # nothing listens there now
    argv = ["--server", store.store.address, "--out", str(tmp_path / "till")]
    assert demo.main([*argv, "--printer", f"network:127.0.0.1:{port}", "--timeout", "5"]) == 1
    assert "stays queued" in capsys.readouterr().err


def test_filed_text_is_the_layouts_own_preview(tmp_path: Path) -> None:
    # Bytes -> events -> operations loses nothing a preview shows, styles included.
    receipt = sale_receipt()
    receipt.member.masked_phone = "138****5678"
    receipt.member.tier_name = "金卡"
    receipt.member.points_earned = 63
    for width in (32, 48):
        ops = layout_receipt(receipt, width=width)
        printer = Dummy()
        render(ops, printer)
        decoded = ops_from_events(decode(printer.output, styled=True))
        assert preview_text(decoded, width) == preview_text(ops, width)
        bold = next(op for op in decoded if getattr(op, "bold", False))
        assert bold.line.startswith("合计")
        assert getattr(decoded[0], "double", False)  # the store name, double size
        folder = ReceiptFolder(tmp_path / str(width))
        txt = folder(printer.output)
        assert txt == tmp_path / str(width) / f"{RECEIPT_NO}.txt"
        assert txt.read_text(encoding="utf-8") == preview_text(ops, width)
        # The same receipt again (a retry) keeps both slips.
        assert folder(printer.output).name == f"{RECEIPT_NO}-2.txt"


def test_a_reprint_is_filed_as_a_copy() -> None:
    receipt = sale_receipt()
    receipt.copy = True
    printer = Dummy()
    render(layout_receipt(receipt, width=48), printer)
    ops = ops_from_events(decode(printer.output, styled=True))
    assert receipt_name(ops) == f"{RECEIPT_NO}-copy"


def test_make_run_devices_sim_starts_server_and_printer(
    template_db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """What `make run DEVICES=sim` runs: one process tree, stopped by Ctrl-C."""
    db = tmp_path / "store.db"
    shutil.copy(template_db, db)
    out = tmp_path / "receipts"
    env = {**os.environ, "TILLPOINT_DATABASE": str(db), "TILLPOINT_LISTEN": "127.0.0.1:0"}
    command = [
        sys.executable,
        "-m",
        "clients.printing.sim_store",
        "--config",
        str(REPO / "config/store.demo.toml"),
        "--printer-listen",
        "127.0.0.1:0",
        "--out",
        str(out),
    ]
    proc = subprocess.Popen(
        command, env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    lines: list[str] = []
    try:
        server = printer = None
        deadline = time.monotonic() + 60
        while (server is None or printer is None) and time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line)
            if match := re.search(r"simulated receipt printer on (127\.0\.0\.1:\d+)", line):
                printer = match.group(1)
            if match := re.search(r"listening on (127\.0\.0\.1:\d+)", line):
                server = match.group(1)
        assert server and printer, "".join(lines)
        threading.Thread(target=lambda: lines.extend(proc.stdout), daemon=True).start()

        argv = ["--server", server, "--out", str(tmp_path / "till"), "--width", "32"]
        assert demo.main([*argv, "--printer", f"network:{printer}"]) == 0
        receipt_no = sold_receipt_no(capsys.readouterr().out)
        txt = out / f"{receipt_no}.txt"
        wait_for(txt.exists)
        text = txt.read_text(encoding="utf-8")
        assert "可口可乐" in text and "找零 Change" in text
        assert max(len(line) for line in text.splitlines()) <= 32  # the 58 mm layout

        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 0, "".join(lines)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)

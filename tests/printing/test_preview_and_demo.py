"""Receipt previews (text and PNG) and the demo that sells on a real store server."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image, ImageChops
from pyzbar import pyzbar

from clients.label_printer.fonts import MISSING_CHAR
from clients.printing import demo
from clients.printing.columns import text_width
from clients.printing.preview import CELL_PX, MARGIN_PX, preview_image, preview_png, preview_text
from clients.printing.receipt_layout import DrawerKick, Text, layout_receipt
from devices.printer.decode import decode
from tests.printing.receipts import RECEIPT_NO, sale_receipt
from tests.support.server import RunningStore

AMOUNTS = ("7.00", "-0.60", "52.80", "4.86", "64.66", "63.98", "50.00", "6.02")


@pytest.mark.parametrize("width", [32, 48])
def test_preview_text_has_the_chinese_lines_with_amounts_aligned(width: int) -> None:
    ops = [*layout_receipt(sale_receipt(), width=width), DrawerKick()]
    lines = preview_text(ops, width).splitlines()

    assert "可口可乐 330ml" in lines
    assert "红富士苹果" in lines
    assert any(line.startswith("合计 TOTAL") and line.endswith("63.98") for line in lines)
    for amount in AMOUNTS:
        line = next(line for line in lines if line.endswith(" " + amount))
        assert text_width(line) == width, line  # every amount ends in the last column
    assert f"[QR {RECEIPT_NO}]" in (line.strip() for line in lines)
    assert (f"[CODE128 {RECEIPT_NO}]" in "\n".join(lines)) == (width == 48)
    assert lines[-2].strip() == "----- cut -----"
    assert lines[-1] == "[drawer]"


def _ink(image: Image.Image) -> int:
    return sum(image.convert("L").histogram()[:128])  # pixels darker than mid-grey


def test_preview_png_draws_chinese_glyphs_not_boxes() -> None:
    name = preview_image([Text("可口可乐")], 32)
    boxes = preview_image([Text(MISSING_CHAR * 4)], 32)
    # The name area: four glyphs, two columns each, from the left margin.
    area = (MARGIN_PX, MARGIN_PX, MARGIN_PX + 8 * CELL_PX, name.height - MARGIN_PX)
    assert _ink(name.crop(area)) > 200
    assert ImageChops.difference(name, boxes).getbbox() is not None
    # Each hanzi is its own shape: the two 可 match, 口 differs from them.
    cells = [
        name.crop((MARGIN_PX + i * 2 * CELL_PX, 0, MARGIN_PX + (i + 1) * 2 * CELL_PX, name.height))
        for i in range(4)
    ]
    assert ImageChops.difference(cells[0], cells[2]).getbbox() is None
    assert ImageChops.difference(cells[0], cells[1]).getbbox() is not None


def test_preview_png_barcode_and_qr_decode_to_the_receipt_number(tmp_path: Path) -> None:
    ops = layout_receipt(sale_receipt(), width=48)
    path = preview_png(ops, 48, tmp_path / "receipt.png")

    with Image.open(path) as image:
        assert image.format == "PNG"
        found = {(code.type, code.data.decode()) for code in pyzbar.decode(image)}
    assert found == {("CODE128", RECEIPT_NO), ("QRCODE", RECEIPT_NO)}


def test_preview_png_58mm_has_only_the_qr(tmp_path: Path) -> None:
    path = preview_png(layout_receipt(sale_receipt(), width=32), 32, tmp_path / "r.png")
    with Image.open(path) as image:
        assert image.width == 32 * CELL_PX + 2 * MARGIN_PX
        found = {(code.type, code.data.decode()) for code in pyzbar.decode(image)}
    assert found == {("QRCODE", RECEIPT_NO)}


def _run(store: RunningStore, out: Path, *extra: str) -> int:
    return demo.main(["--server", store.store.address, "--out", str(out), *extra])


def _files(out: Path, pattern: str) -> set[Path]:
    return set(out.glob(pattern))


def test_demo_sells_and_prints_receipts_with_consecutive_numbers(
    store: RunningStore, tmp_path: Path
) -> None:
    out = tmp_path / "receipts"
    assert _run(store, out) == 0
    first = _files(out, "*.bin")
    assert _run(store, out) == 0  # the shift from the first run is still open: sells on it
    second = _files(out, "*.bin") - first
    assert len(first) == len(second) == 1

    numbers = []
    for raw_path in (*first, *second):
        receipt_no = raw_path.stem
        numbers.append(receipt_no)
        assert raw_path.with_suffix(".txt").is_file()
        assert raw_path.with_suffix(".png").is_file()
        events = decode(raw_path.read_bytes())
        assert ("barcode", "CODE128", receipt_no) in events
        assert ("qr", receipt_no) in events
        assert ("cut",) in events
        assert events[-1] == ("drawer", 2)  # a cash sale opens the drawer
        text = raw_path.with_suffix(".txt").read_text(encoding="utf-8")
        assert "可口可乐 330ml" in text
        assert "找零 Change" in text
        with Image.open(raw_path.with_suffix(".png")) as image:
            assert {code.data.decode() for code in pyzbar.decode(image)} == {receipt_no}

    prefix, _, counter = numbers[0].rpartition("-")
    assert numbers[1] == f"{prefix}-{int(counter) + 1:0{len(counter)}d}"


def test_demo_prints_where_it_wrote_the_files(
    store: RunningStore, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _run(store, tmp_path, "--width", "32") == 0
    printed = capsys.readouterr().out
    for path in tmp_path.glob("S01-*"):
        assert str(path) in printed


def test_demo_shows_a_server_error_as_one_line(
    store: RunningStore, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _run(store, tmp_path, "--pin", "0000") == 1
    err = capsys.readouterr().err.strip()
    assert err == "error: UNAUTHENTICATED: wrong operator id or PIN"
    assert not list(tmp_path.glob("*.bin"))

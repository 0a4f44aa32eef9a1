"""Labels as a PDF: a real PDF (pdfinfo), label-sized pages, and pages that render back
(pdftoppm, poppler) to the label itself, barcode and all."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image, ImageChops

from clients.label_printer.__main__ import main
from clients.label_printer.batch import print_pending_labels
from clients.label_printer.label_data import label_from_product
from clients.label_printer.render_pdf import page_size_pt, save_pdf
from clients.label_printer.render_png import (
    BARCODE_LABEL,
    SHELF_LABEL,
    render_barcode_label,
    render_shelf_label,
)
from tests.label_printer.conftest import decode_barcodes
from tests.label_printer.test_batch import pending, reprice
from tests.label_printer.test_render_png import APPLE, COKE
from tests.support.catalog_fixture import COKE_CAN
from tests.support.server import RunningStore

MM_PER_PT = 25.4 / 72


@pytest.fixture
def three_jobs(store: RunningStore) -> list[tuple[str, str]]:
    md = store.login("1003", "3333", "label-01")
    for sku, fen in (("P1", 350), ("P2", 320), ("P6", 1380)):
        reprice(store, md, sku, fen)
    assert len(pending(store, md)) == 3
    return md


def poppler(tool: str) -> str:
    # Fails, never skips: `make test` installs poppler-utils (Debian) for these checks.
    path = shutil.which(tool)
    assert path, f"{tool} is missing: apt-get install poppler-utils"
    return path


def pdf_info(path: Path) -> tuple[int, list[tuple[float, float]]]:
    """(pages, [(width, height) in points per page]) as poppler's pdfinfo reads them."""
    out = subprocess.run(
        [poppler("pdfinfo"), "-f", "1", "-l", "999", str(path)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    pages = int(re.search(r"^Pages:\s+(\d+)", out, re.M).group(1))
    sizes = [
        (float(w), float(h))
        for w, h in re.findall(r"^Page\s+\d+ size:\s+([\d.]+) x ([\d.]+) pts", out, re.M)
    ]
    return pages, sizes


def render_page(path: Path, page: int, dpi: int, tmp_path: Path) -> Image.Image:
    prefix = tmp_path / f"page{page}"
    subprocess.run(
        [poppler("pdftoppm"), "-r", str(dpi), "-f", str(page), "-l", str(page), "-gray",
         "-png", "-singlefile", str(path), str(prefix)],
        check=True,
    )  # fmt: skip
    with Image.open(prefix.with_suffix(".png")) as image:
        return image.convert("L")


def differing_share(a: Image.Image, b: Image.Image) -> float:
    """Share of pixels that differ by more than mid-grey (ink where there was none)."""
    diff = ImageChops.difference(a.convert("L"), b.convert("L")).point(lambda v: v > 128 and 255)
    return diff.histogram()[255] / (a.width * a.height)


def test_pdf_has_one_label_sized_page_per_label_that_renders_the_label(
    font_path: str, tmp_path: Path
) -> None:
    coke = render_shelf_label(label_from_product(COKE))
    apple = render_shelf_label(label_from_product(APPLE))
    path = save_pdf([coke, apple], tmp_path / "labels.pdf", SHELF_LABEL.dpi)

    assert path.read_bytes().startswith(b"%PDF-")
    assert not list(tmp_path.glob(".*part"))  # written whole, then renamed
    pages, sizes = pdf_info(path)
    assert pages == 2
    for width_pt, height_pt in sizes:
        assert (width_pt, height_pt) == pytest.approx(page_size_pt(coke, SHELF_LABEL.dpi), abs=0.01)
        # 480 x 320 dots at 203 dpi: the 60 x 40 mm label stock, to a tenth of a mm.
        assert width_pt * MM_PER_PT == pytest.approx(60, abs=0.1)
        assert height_pt * MM_PER_PT == pytest.approx(40, abs=0.1)

    for number, label, other in ((1, coke, apple), (2, apple, coke)):
        page = render_page(path, number, SHELF_LABEL.dpi, tmp_path)
        # pdftoppm rounds the page up to whole pixels: one row or column more at most.
        assert label.width <= page.width <= label.width + 1
        assert label.height <= page.height <= label.height + 1
        page = page.crop((0, 0, *label.size))
        # At the printer's dpi the page is the label: only the one-pixel fringes of
        # poppler's anti-aliasing differ (~1.5 %), while the other label differs widely.
        assert differing_share(page, label) < 0.03
        assert differing_share(page, other) > 3 * differing_share(page, label)
    assert ("EAN13", COKE_CAN) in decode_barcodes(render_page(path, 1, 203, tmp_path))


def test_barcode_label_pdf_page_size_and_scan(font_path: str, tmp_path: Path) -> None:
    label = render_barcode_label(label_from_product(COKE), BARCODE_LABEL)
    path = save_pdf([label], tmp_path / "barcode.pdf", BARCODE_LABEL.dpi)
    pages, sizes = pdf_info(path)
    assert pages == 1
    assert sizes[0][0] * MM_PER_PT == pytest.approx(40, abs=0.1)
    assert sizes[0][1] * MM_PER_PT == pytest.approx(30, abs=0.1)
    # Printed larger (a 600 dpi office printer), the bars still scan.
    page = render_page(path, 1, 600, tmp_path)
    assert ("EAN13", COKE_CAN) in decode_barcodes(page)


def test_an_empty_pdf_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="at least one label"):
        save_pdf([], tmp_path / "none.pdf")


def test_batch_as_a_pdf_preview_completes_nothing(
    store: RunningStore, three_jobs: list[tuple[str, str]], tmp_path: Path
) -> None:
    pdf = tmp_path / "labels.pdf"
    assert print_pending_labels(store.channel, three_jobs, None, pdf_path=pdf) == 0
    assert pdf_info(pdf)[0] == 3
    assert len(pending(store, three_jobs)) == 3


def test_batch_printed_as_a_pdf_completes_its_jobs(
    store: RunningStore,
    three_jobs: list[tuple[str, str]],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    pdf = tmp_path / "out" / "labels.pdf"
    code = main(
        ["--server", store.store.address, "--operator", "1003", "--pin", "3333",
         "--pdf", str(pdf), "--pdf-is-print"]
    )  # fmt: skip
    assert code == 0, capsys.readouterr().err
    assert f"3 labels printed into {pdf}" in capsys.readouterr().out
    pages, sizes = pdf_info(pdf)
    assert pages == 3 and len(sizes) == 3
    assert pending(store, three_jobs) == []
    first = render_page(pdf, 1, SHELF_LABEL.dpi, tmp_path)
    assert ("EAN13", COKE_CAN) in decode_barcodes(first)  # P1, 可口可乐, is the oldest job


def test_pdf_is_print_needs_a_pdf_and_no_printer(
    store: RunningStore, capsys: pytest.CaptureFixture[str]
) -> None:
    base = ["--server", store.store.address, "--operator", "1003", "--pin", "3333"]
    assert main([*base, "--pdf-is-print", "--png-dir", "x"]) == 2
    assert main([*base, "--pdf", "a.pdf", "--pdf-is-print", "--printer-config", "dummy"]) == 2
    assert "--pdf-is-print needs --pdf" in capsys.readouterr().err

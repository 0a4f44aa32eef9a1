"""The label batch against a real in-process store server and python-escpos Dummy printers."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from escpos.printer import Dummy
from PIL import Image

from clients.label_printer.__main__ import main
from clients.label_printer.batch import LabelBatchError, Progress, print_pending_labels
from devices.printer.decode import decode
from tests.label_printer.conftest import decode_barcodes
from tests.support.catalog_fixture import COKE_CAN, SPRITE_CAN
from tests.support.server import DEADLINE, RunningStore
from tillpoint.v1 import catalog_pb2, catalog_pb2_grpc, common_pb2

GS_V0 = b"\x1dv0"


@pytest.fixture
def admin_md(store: RunningStore) -> list[tuple[str, str]]:
    return store.login("1003", "3333", "label-01")


def reprice(store: RunningStore, md: list[tuple[str, str]], sku: str, fen: int) -> None:
    stub = catalog_pb2_grpc.CatalogServiceStub(store.channel)
    product = stub.GetProduct(catalog_pb2.GetProductRequest(sku=sku), metadata=md, timeout=DEADLINE)
    stub.SchedulePriceChange(
        catalog_pb2.SchedulePriceChangeRequest(
            change_id=str(uuid.uuid4()),
            product_id=product.product_id,
            retail_price=common_pb2.Money(fen=fen),
        ),
        metadata=md,
        timeout=DEADLINE,
    )


def pending(store: RunningStore, md: list[tuple[str, str]]) -> list[catalog_pb2.LabelJob]:
    response = catalog_pb2_grpc.CatalogServiceStub(store.channel).ListLabelJobs(
        catalog_pb2.ListLabelJobsRequest(page=common_pb2.PageRequest(page_size=100)),
        metadata=md,
        timeout=DEADLINE,
    )
    return list(response.jobs)


def raster_images(output: bytes) -> list[Image.Image]:
    """The GS v 0 raster images in the printer bytes, back as pictures (bit 1 = black)."""
    images = []
    start = output.find(GS_V0)
    while start >= 0:
        header = output[start + 4 : start + 8]
        width_bytes = int.from_bytes(header[:2], "little")
        height = int.from_bytes(header[2:], "little")
        body = output[start + 8 : start + 8 + width_bytes * height]
        image = Image.frombytes("1", (width_bytes * 8, height), body)
        images.append(image.point(lambda v: 255 - v))  # printer 1 = black, Pillow 1 = white
        start = output.find(GS_V0, start + 8 + len(body))
    return images


@pytest.fixture
def three_jobs(store: RunningStore, admin_md: list[tuple[str, str]]) -> list[tuple[str, str]]:
    assert pending(store, admin_md) == []
    reprice(store, admin_md, "P1", 350)  # 可口可乐 330ml
    reprice(store, admin_md, "P2", 320)  # 雪碧 330ml
    reprice(store, admin_md, "P6", 1380)  # 红富士苹果, weighed
    assert len(pending(store, admin_md)) == 3
    return admin_md


def test_batch_prints_previews_and_completes_every_job(
    store: RunningStore, three_jobs: list[tuple[str, str]], tmp_path: Path
) -> None:
    printer = Dummy()
    progress: list[Progress] = []
    printed = print_pending_labels(
        store.channel,
        three_jobs,
        lambda: printer,
        png_dir=tmp_path / "labels",
        page_size=2,  # three jobs over two pages
        on_progress=progress.append,
    )
    assert printed == 3
    assert [p.status for p in progress] == ["printed"] * 3
    assert [p.label.price_text for p in progress if p.label] == ["3.50", "3.20", "13.80"]

    events = decode(printer.output)  # also proves the stream is well-formed ESC/POS
    assert events.count(("cut",)) == 3
    images = raster_images(printer.output)
    assert [im.size for im in images] == [(480, 320)] * 3
    # What went to the printer scans as the products' codes.
    assert [decode_barcodes(im) for im in images] == [
        [("EAN13", COKE_CAN)],
        [("EAN13", SPRITE_CAN)],
        [("CODE128", "1001")],
    ]
    pngs = sorted((tmp_path / "labels").glob("*.png"))
    assert len(pngs) == 3
    assert decode_barcodes(Image.open(pngs[0])) == [("EAN13", COKE_CAN)]
    assert pending(store, three_jobs) == []


def test_unopenable_printer_completes_nothing(
    store: RunningStore, three_jobs: list[tuple[str, str]], tmp_path: Path
) -> None:
    def broken() -> Dummy:
        raise OSError("/dev/usb/lp0: no such device")

    with pytest.raises(LabelBatchError, match="unavailable") as caught:
        print_pending_labels(store.channel, three_jobs, broken, png_dir=tmp_path)
    assert caught.value.printed == 0
    assert len(pending(store, three_jobs)) == 3


class JamsOnSecondLabel(Dummy):
    def __init__(self) -> None:
        super().__init__()
        self.images = 0

    def image(self, *args: object, **kwargs: object) -> None:
        self.images += 1
        if self.images == 2:
            raise OSError("paper jam")
        super().image(*args, **kwargs)


def test_failed_label_and_the_rest_stay_pending(
    store: RunningStore, three_jobs: list[tuple[str, str]]
) -> None:
    printer = JamsOnSecondLabel()
    with pytest.raises(LabelBatchError, match="paper jam") as caught:
        print_pending_labels(store.channel, three_jobs, lambda: printer)
    assert caught.value.printed == 1
    assert decode(printer.output).count(("cut",)) == 1
    left = pending(store, three_jobs)
    assert [job.product.sku for job in left] == ["P2", "P6"]


def test_preview_run_writes_pngs_and_completes_nothing(
    store: RunningStore, three_jobs: list[tuple[str, str]], tmp_path: Path
) -> None:
    assert print_pending_labels(store.channel, three_jobs, None, png_dir=tmp_path) == 0
    assert len(list(tmp_path.glob("*.png"))) == 3
    assert len(pending(store, three_jobs)) == 3


def test_two_changes_of_one_product_print_one_label(
    store: RunningStore, admin_md: list[tuple[str, str]]
) -> None:
    reprice(store, admin_md, "P1", 350)
    reprice(store, admin_md, "P1", 330)
    printer = Dummy()
    assert print_pending_labels(store.channel, admin_md, lambda: printer) == 1
    assert decode(printer.output).count(("cut",)) == 1
    assert pending(store, admin_md) == []


def test_cli_prints_with_progress(
    store: RunningStore,
    three_jobs: list[tuple[str, str]],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = main(
        [
            "--server", store.store.address,
            "--operator", "1003",
            "--pin", "3333",
            "--device", "label-01",
            "--png-dir", str(tmp_path),
            "--printer-config", "dummy",
        ]
    )  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0
    assert "[1/3] 可口可乐 330ml 3.50元 printed" in out
    assert "3 labels printed" in out
    assert len(list(tmp_path.glob("*.png"))) == 3
    assert pending(store, three_jobs) == []


def test_cli_refuses_an_operator_without_the_labels_right(
    store: RunningStore, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        ["--server", store.store.address, "--operator", "1001", "--pin", "1111",
         "--printer-config", "dummy"]
    )  # fmt: skip
    assert code == 1
    assert "PERMISSION_DENIED" in capsys.readouterr().err

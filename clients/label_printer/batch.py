"""Prints the store's pending shelf-label jobs (one per price change) and marks them done.

A job is marked printed only after its label went to the printer; a job whose label
failed stays pending and comes back next run. Reprinting a label is harmless, a
missing label is not (the shelf would show the old price).

For a printer without ESC/POS the batch can go into one PDF instead (one label-sized
page per label); when the caller says the PDF is the print, its jobs are marked printed
once the whole file is written.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import grpc
from escpos.escpos import Escpos
from PIL import Image

from clients.label_printer.barcode_image import BarcodeDataError
from clients.label_printer.escpos_output import print_label
from clients.label_printer.label_data import Label, label_from_product
from clients.label_printer.render_pdf import save_pdf
from clients.label_printer.render_png import SHELF_LABEL, LabelStyle, render_shelf_label, save_png
from tillpoint.v1 import catalog_pb2, catalog_pb2_grpc, common_pb2

Metadata = Sequence[tuple[str, str]]
PrinterFactory = Callable[[], Escpos]
DEADLINE = 10.0
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")


class LabelBatchError(RuntimeError):
    """Printing stopped part way; ``printed`` labels went out and were marked printed."""

    def __init__(self, message: str, printed: int) -> None:
        super().__init__(message)
        self.printed = printed


@dataclass(frozen=True)
class LabelItem:
    """One label to print and the jobs it settles."""

    job_ids: tuple[int, ...]
    product: catalog_pb2.Product


@dataclass(frozen=True)
class Progress:
    index: int  # 1-based
    total: int
    label: Label | None  # None when the product could not be made into a label
    status: str  # "printed", "preview", "skipped: ..."
    png: Path | None


ProgressCallback = Callable[[Progress], None]


def pending_jobs(
    stub: catalog_pb2_grpc.CatalogServiceStub, metadata: Metadata, page_size: int
) -> list[catalog_pb2.LabelJob]:
    """Every pending job, read in full before any is completed: the page token is an
    offset, so completing jobs while paging would make the next page skip some."""
    jobs: dict[int, catalog_pb2.LabelJob] = {}
    token = ""
    while True:
        response = stub.ListLabelJobs(
            catalog_pb2.ListLabelJobsRequest(
                page=common_pb2.PageRequest(page_size=page_size, page_token=token)
            ),
            metadata=metadata,
            timeout=DEADLINE,
        )
        for job in response.jobs:
            jobs.setdefault(job.job_id, job)
        token = response.page.next_page_token
        if not token or not response.jobs:
            return list(jobs.values())


def group_by_product(jobs: Sequence[catalog_pb2.LabelJob]) -> list[LabelItem]:
    """One label per product, oldest job first: two price changes of one product are one
    shelf label showing the price it sells at now (every job carries the current product)."""
    by_product: dict[int, list[catalog_pb2.LabelJob]] = {}
    for job in jobs:
        by_product.setdefault(job.product.product_id, []).append(job)
    return [
        LabelItem(tuple(j.job_id for j in group), group[-1].product)
        for group in by_product.values()
    ]


def _png_path(png_dir: Path, item: LabelItem) -> Path:
    sku = _UNSAFE.sub("_", item.product.sku) or str(item.product.product_id)
    return png_dir / f"{item.job_ids[0]:08d}_{sku}.png"


def _chunks(ids: Sequence[int], size: int) -> Iterator[list[int]]:
    for start in range(0, len(ids), size):
        yield list(ids[start : start + size])


def _complete(
    stub: catalog_pb2_grpc.CatalogServiceStub, metadata: Metadata, job_ids: Sequence[int]
) -> None:
    for chunk in _chunks(job_ids, 1000):  # the server takes at most 1,000 ids a call
        stub.CompleteLabelJobs(
            catalog_pb2.CompleteLabelJobsRequest(job_ids=chunk),
            metadata=metadata,
            timeout=DEADLINE,
        )


def print_pending_labels(
    channel: grpc.Channel,
    metadata: Metadata,
    printer_factory: PrinterFactory | None,
    *,
    png_dir: Path | str | None = None,
    page_size: int = 50,
    style: LabelStyle = SHELF_LABEL,
    on_progress: ProgressCallback | None = None,
    pdf_path: Path | str | None = None,
    pdf_is_print: bool = False,
) -> int:
    """Render, preview and print every pending label job; returns the labels printed.

    Without a printer factory this is a preview run: PNGs are written and no job is
    completed. If the printer cannot be opened or a print fails, the labels printed so far
    stay completed, the rest stay pending, and LabelBatchError says what happened.

    ``pdf_path``: also write every label into one PDF there. With ``pdf_is_print`` (and no
    printer) the PDF is the print: its jobs are completed once it is written, and they
    count as printed; otherwise it is a preview.
    """
    if page_size < 1:
        raise ValueError("page_size must be at least 1")
    if pdf_is_print and (pdf_path is None or printer_factory is not None):
        raise ValueError("pdf_is_print needs a pdf_path and no printer")
    stub = catalog_pb2_grpc.CatalogServiceStub(channel)
    items = group_by_product(pending_jobs(stub, metadata, page_size))
    if not items:
        return 0
    previews = Path(png_dir) if png_dir is not None else None
    printer = None
    if printer_factory is not None:
        try:
            printer = printer_factory()
        except Exception as exc:  # any transport error means: no label printed
            raise LabelBatchError(f"label printer unavailable: {exc}", printed=0) from exc

    printed = 0
    pdf_pages: list[tuple[Image.Image, LabelItem]] = []
    try:
        for index, item in enumerate(items, start=1):
            try:
                label = label_from_product(item.product)
                image = render_shelf_label(label, style)
            except BarcodeDataError as exc:
                # Bad catalog data spoils one label, not the batch; the job stays pending.
                _report(on_progress, Progress(index, len(items), None, f"skipped: {exc}", None))
                continue
            png = save_png(image, _png_path(previews, item), style.dpi) if previews else None
            if pdf_path is not None:
                pdf_pages.append((image, item))
            if printer is None:
                status = "in PDF" if pdf_is_print else "preview"
                _report(on_progress, Progress(index, len(items), label, status, png))
                continue
            try:
                print_label(printer, image)
            except Exception as exc:  # the device failed: stop, later labels would fail too
                raise LabelBatchError(
                    f"printing {label.name} failed after {printed} labels: {exc}",
                    printed=printed,
                ) from exc
            # Completed right after printing, so a crash later reprints nothing printed.
            _complete(stub, metadata, item.job_ids)
            printed += 1
            _report(on_progress, Progress(index, len(items), label, "printed", png))
    finally:
        if printer is not None:
            # A failing device may fail to close too; that must not hide the print error.
            with contextlib.suppress(Exception):
                printer.close()
    if pdf_path is not None and pdf_pages:
        save_pdf([image for image, _item in pdf_pages], pdf_path, style.dpi)
        if pdf_is_print:
            # Only now: a PDF that failed to write printed nothing.
            _complete(stub, metadata, [job for _image, item in pdf_pages for job in item.job_ids])
            printed += len(pdf_pages)
    return printed


def _report(callback: ProgressCallback | None, progress: Progress) -> None:
    if callback is not None:
        callback(progress)

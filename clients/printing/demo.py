"""Sell one demo basket on a store server and print its receipt to a simulated printer.

    python -m clients.printing --server 127.0.0.1:50051 --operator 1001 --pin 1111 \\
        --device demo-till --out var/receipts [--width 48] [--printer network:127.0.0.1:9100]

Logs in, opens a shift (or keeps the one the till already has), scans products found by
catalog search, pays cash with change, and prints through the durable PrintQueue to an
escpos Dummy printer. Writes <receipt_no>.bin (the raw ESC/POS bytes), .txt and .png
previews into --out, so a newcomer sees real receipts without a printer. With --printer
(a printer spec: network:HOST[:PORT], serial:DEV[:BAUD], file:DEV, usb:VID:PID) the
receipt goes to that printer instead, real or the simulated one of `make run DEVICES=sim`,
which files the previews itself; the print queue then lives in --out.
"""

from __future__ import annotations

import argparse
import re
import sys
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
from escpos.escpos import Escpos
from escpos.printer import Dummy
from google.protobuf.message import Message
from grpc_status import rpc_status

from clients.label_printer.fonts import FontUnavailableError
from clients.printing.preview import preview_png, preview_text
from clients.printing.print_queue import PrintQueue, RunResult
from clients.printing.printer_factory import printer_factory
from clients.printing.receipt_layout import WIDTH_58MM, WIDTH_80MM, DrawerKick, layout_receipt
from devices.printer.decode import decode
from devices.printer.spec import PrinterConfigError, parse_printer_spec
from tillpoint.v1 import (
    auth_pb2,
    auth_pb2_grpc,
    catalog_pb2,
    catalog_pb2_grpc,
    common_pb2,
    members_pb2,
    sales_pb2,
    sales_pb2_grpc,
)

# (search query, scans): two cans of cola and a pack of noodles.
DEMO_BASKET = (("可乐", 2), ("面", 1))
FLOAT_FEN = 50_000  # 500.00 yuan of change in the drawer
NOTE_FEN = 10_000  # the customer pays in 100-yuan notes, so there is change
QUEUE_FILE = "print-queue.sqlite"


class DemoError(Exception):
    """Something the demo cannot get past, as one line for the terminal."""


@dataclass(frozen=True)
class DemoResult:
    receipt_no: str
    bin_path: Path | None  # None: printed on a configured printer, which keeps its own
    txt_path: Path | None
    png_path: Path | None


class _Till:
    """The few calls a till makes, with the login's metadata and a deadline on each."""

    def __init__(self, channel: grpc.Channel, timeout: float) -> None:
        self.timeout = timeout
        self.metadata: list[tuple[str, str]] = []
        self.auth = auth_pb2_grpc.AuthServiceStub(channel)
        self.catalog = catalog_pb2_grpc.CatalogServiceStub(channel)
        self.sales = sales_pb2_grpc.SalesServiceStub(channel)

    def login(self, operator: str, pin: str, device: str) -> None:
        request = auth_pb2.LoginRequest(operator_id=operator, pin=pin, device_id=device)
        response = self.auth.Login(request, timeout=self.timeout)
        self.metadata = [("authorization", f"Bearer {response.token}"), ("x-device-id", device)]

    def call(self, method: Callable[..., Any], request: Message) -> Any:
        return method(request, metadata=self.metadata, timeout=self.timeout)

    def ensure_shift(self) -> None:
        request = sales_pb2.OpenShiftRequest(
            shift_id=str(uuid.uuid4()), float=common_pb2.Money(fen=FLOAT_FEN)
        )
        try:
            self.call(self.sales.OpenShift, request)
        except grpc.RpcError as exc:
            # The till already has an open shift (an earlier run): sell on it.
            if exc.code() is not grpc.StatusCode.FAILED_PRECONDITION or _reason(exc) not in (
                "SHIFT_OPEN",
                "",
            ):
                raise

    def find_code(self, query: str) -> str:
        """A scannable code of the first product sold by the unit that matches ``query``."""
        request = catalog_pb2.SearchRequest(query=query, page=common_pb2.PageRequest(page_size=20))
        response = self.call(self.catalog.Search, request)
        for product in response.products:
            if product.weighed:
                continue  # a weighed item needs a scale label, not a plain scan
            for code in product.barcodes:
                if code.pack_factor <= 1:
                    return code.code
            if product.plu:
                return product.plu
        raise DemoError(f"no product to scan found in the catalog for {query!r}")

    def sell(self, codes: Sequence[str], member_card: str = "") -> sales_pb2.Sale:
        basket_id = str(uuid.uuid4())
        self.call(self.sales.CreateBasket, sales_pb2.CreateBasketRequest(basket_id=basket_id))
        if member_card:
            # The member's card scanned first, as at a real till: the receipt then has
            # the member block (points earned, balances).
            credential = members_pb2.MemberCredential(card_no=member_card)
            request = sales_pb2.AttachMemberRequest(basket_id=basket_id, member=credential)
            self.call(self.sales.AttachMember, request)
        basket = None
        for code in codes:
            basket = self.call(
                self.sales.AddItem,
                sales_pb2.AddItemRequest(basket_id=basket_id, line_id=str(uuid.uuid4()), code=code),
            )
        assert basket is not None, "a demo basket has at least one item"
        total = basket.total.fen
        tendered = (total // NOTE_FEN + 1) * NOTE_FEN
        cash = sales_pb2.Payment(
            kind=sales_pb2.TENDER_KIND_CASH, amount=common_pb2.Money(fen=tendered)
        )
        request = sales_pb2.CommitSaleRequest(
            sale_id=str(uuid.uuid4()), basket_id=basket_id, payments=[cash]
        )
        return self.call(self.sales.CommitSale, request)


def _reason(exc: grpc.RpcError) -> str:
    """The ErrorDetail reason the server packs into its status, or "" without one."""
    status = rpc_status.from_call(exc)  # type: ignore[arg-type]
    if status is None:
        return ""
    for packed in status.details:
        detail = common_pb2.ErrorDetail()
        if packed.Unpack(detail):
            return detail.reason
    return ""


def print_receipt(sale: sales_pb2.Sale, out: Path, width: int) -> bytes:
    """Print the sale's receipt through a PrintQueue in ``out``; the bytes the printer got."""
    printed: list[Dummy] = []
    open_dummy = printer_factory({"type": "dummy"})

    def open_printer() -> Escpos:
        # Keep each job's printer: a Dummy's output is the job's bytes.
        printer = open_dummy()
        printed.append(printer)  # type: ignore[arg-type]
        return printer

    with PrintQueue(out / QUEUE_FILE, open_printer, width=width) as queue:
        queue.enqueue(sale.receipt, open_drawer=sale.open_drawer)
        # Older jobs left pending in this queue print first, oldest first, as on a till.
        while (result := queue.run_once()) is RunResult.PRINTED:
            pass
        if result is RunResult.FAILED:
            job = queue.pending()[0]
            raise DemoError(f"printing {job.receipt_no} failed: {job.last_error} ({job.detail})")
    # Ours is the job whose slip shows its receipt number (older jobs printed before it).
    for printer in reversed(printed):
        events = decode(printer.output)
        if any(sale.receipt_no in str(part) for event in events for part in event[1:]):
            return printer.output
    raise DemoError(f"the printer got no receipt {sale.receipt_no}")


def print_to_printer(sale: sales_pb2.Sale, out: Path, width: int, printer: dict[str, Any]) -> None:
    """Print the sale's receipt through a PrintQueue in ``out`` to the configured printer."""
    with PrintQueue(out / QUEUE_FILE, printer_factory(printer), width=width) as queue:
        queue.enqueue(sale.receipt, open_drawer=sale.open_drawer)
        while (result := queue.run_once()) is RunResult.PRINTED:
            pass
        if result is RunResult.FAILED:
            job = queue.pending()[0]
            raise DemoError(
                f"printing {job.receipt_no} failed, it stays queued in {out / QUEUE_FILE}: "
                f"{job.last_error} ({job.detail})"
            )


def run_demo(
    server: str,
    operator: str,
    pin: str,
    device: str,
    out: Path,
    width: int,
    timeout: float,
    printer: dict[str, Any] | None = None,
    member_card: str = "",
) -> DemoResult:
    out.mkdir(parents=True, exist_ok=True)
    with grpc.insecure_channel(server) as channel:
        till = _Till(channel, timeout)
        till.login(operator, pin, device)
        till.ensure_shift()
        codes = [code for query, scans in DEMO_BASKET for code in [till.find_code(query)] * scans]
        sale = till.sell(codes, member_card)
    if printer is not None and printer.get("type") != "dummy":
        print_to_printer(sale, out, width, printer)
        return DemoResult(sale.receipt_no, None, None, None)
    raw = print_receipt(sale, out, width)
    stem = _safe_name(sale.receipt_no)
    ops = layout_receipt(sale.receipt, width=width)
    if sale.open_drawer:
        ops.append(DrawerKick())  # a fresh cash sale: the queue kicked the drawer too
    result = DemoResult(
        receipt_no=sale.receipt_no,
        bin_path=out / f"{stem}.bin",
        txt_path=out / f"{stem}.txt",
        png_path=out / f"{stem}.png",
    )
    result.bin_path.write_bytes(raw)
    result.txt_path.write_text(preview_text(ops, width), encoding="utf-8")
    preview_png(ops, width, result.png_path)
    return result


def _safe_name(receipt_no: str) -> str:
    # Receipt numbers are 'S01-20261123-0042'; anything else must not escape --out.
    return re.sub(r"[^A-Za-z0-9._-]", "_", receipt_no).lstrip(".") or "receipt"


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m clients.printing", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--server", default="127.0.0.1:50051", help="store server host:port")
    parser.add_argument("--operator", default="1001")
    parser.add_argument("--pin", default="1111")
    parser.add_argument("--device", default="demo-till", help="the till's device id")
    parser.add_argument("--out", type=Path, default=Path("var/receipts"))
    parser.add_argument("--width", type=int, choices=(WIDTH_58MM, WIDTH_80MM), default=WIDTH_80MM)
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds per call")
    parser.add_argument("--member", default="", help="a member's card number to sell to")
    parser.add_argument(
        "--printer",
        help="print to this printer (network:HOST[:PORT], serial:DEV[:BAUD], file:DEV, "
        "usb:VID:PID) instead of writing the previews here",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        printer = parse_printer_spec(args.printer) if args.printer else None
    except PrinterConfigError as exc:
        print(f"error: bad --printer: {exc}", file=sys.stderr)
        return 2
    try:
        result = run_demo(
            args.server,
            args.operator,
            args.pin,
            args.device,
            args.out,
            args.width,
            args.timeout,
            printer,
            args.member,
        )
    except grpc.RpcError as exc:
        print(f"error: {exc.code().name}: {exc.details()}", file=sys.stderr)
        return 1
    except (DemoError, FontUnavailableError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"sold receipt {result.receipt_no}")
    if args.printer:
        print(f"  printed on {args.printer}")
    for label, path in (
        ("ESC/POS bytes", result.bin_path),
        ("text preview", result.txt_path),
        ("PNG preview", result.png_path),
    ):
        if path is not None:
            print(f"  {label}: {path}")
    return 0

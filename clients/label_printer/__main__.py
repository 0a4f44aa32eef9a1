"""python -m clients.label_printer: print the store's pending shelf labels.

    python -m clients.label_printer --server 127.0.0.1:50051 --operator 1003 --pin 3333 \\
        --device label-01 --png-dir var/labels [--printer-config file:/dev/usb/lp0] \\
        [--pdf var/labels/labels.pdf [--pdf-is-print]]

Without --printer-config only previews (PNG, and with --pdf one PDF of the batch) are
written and no job is marked printed. For a printer without ESC/POS, --pdf FILE
--pdf-is-print makes the PDF the print: its jobs are marked printed once it is written.
"""

from __future__ import annotations

import argparse
import functools
import sys
from collections.abc import Sequence
from pathlib import Path

import grpc

from clients.label_printer.batch import (
    DEADLINE,
    LabelBatchError,
    Metadata,
    PrinterFactory,
    Progress,
    print_pending_labels,
)
from clients.label_printer.fonts import DEFAULT_FONT_PATH, FontUnavailableError
from clients.label_printer.printer_config import PrinterConfigError, parse_printer_config
from clients.label_printer.render_png import SHELF_LABEL, LabelStyle
from devices.errors import DeviceUnavailableError
from devices.printer.transports import open_printer
from tillpoint.v1 import auth_pb2, auth_pb2_grpc


def _args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m clients.label_printer", description="Print pending shelf labels."
    )
    parser.add_argument("--server", default="127.0.0.1:50051", help="store server host:port")
    parser.add_argument("--operator", required=True, help="operator id with the labels right")
    parser.add_argument("--pin", required=True)
    parser.add_argument("--device", default="label-01", help="this device's id")
    parser.add_argument("--png-dir", type=Path, help="write a PNG preview of every label here")
    parser.add_argument(
        "--printer-config",
        help="file:/dev/usb/lp0, serial:/dev/ttyS0[:9600], network:HOST[:9100], "
        "usb:VENDOR:PRODUCT or dummy",
    )
    parser.add_argument("--pdf", type=Path, help="also write the batch as one PDF here")
    parser.add_argument(
        "--pdf-is-print",
        action="store_true",
        help="the PDF is what gets printed (no ESC/POS printer): mark its labels printed",
    )
    parser.add_argument("--font", type=Path, default=DEFAULT_FONT_PATH, help="a CJK font file")
    parser.add_argument("--page-size", type=int, default=50)
    return parser.parse_args(argv)


def _login(channel: grpc.Channel, operator: str, pin: str, device: str) -> Metadata:
    response = auth_pb2_grpc.AuthServiceStub(channel).Login(
        auth_pb2.LoginRequest(operator_id=operator, pin=pin, device_id=device), timeout=DEADLINE
    )
    return [("authorization", f"Bearer {response.token}"), ("x-device-id", device)]


def _show(progress: Progress) -> None:
    where = f" -> {progress.png}" if progress.png else ""
    if progress.label is None:
        print(f"[{progress.index}/{progress.total}] {progress.status}", flush=True)
        return
    label = progress.label
    print(
        f"[{progress.index}/{progress.total}] {label.name} {label.price_text}元 "
        f"{progress.status}{where}",
        flush=True,
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = _args(argv)
    factory: PrinterFactory | None = None
    if args.printer_config:
        try:
            config = parse_printer_config(args.printer_config)
        except PrinterConfigError as exc:
            print(f"bad --printer-config: {exc}", file=sys.stderr)
            return 2
        factory = functools.partial(open_printer, config)  # opened once per batch
    if factory is None and args.png_dir is None and args.pdf is None:
        print("nothing to do: give --printer-config, --png-dir or --pdf", file=sys.stderr)
        return 2
    if args.pdf_is_print and (args.pdf is None or factory is not None):
        print("--pdf-is-print needs --pdf and no --printer-config", file=sys.stderr)
        return 2
    style = LabelStyle(
        width_mm=SHELF_LABEL.width_mm,
        height_mm=SHELF_LABEL.height_mm,
        dpi=SHELF_LABEL.dpi,
        font_path=args.font,
    )
    with grpc.insecure_channel(args.server) as channel:
        try:
            grpc.channel_ready_future(channel).result(timeout=DEADLINE)
        except grpc.FutureTimeoutError:
            print(f"store server {args.server} does not answer", file=sys.stderr)
            return 1
        try:
            metadata = _login(channel, args.operator, args.pin, args.device)
            printed = print_pending_labels(
                channel,
                metadata,
                factory,
                png_dir=args.png_dir,
                page_size=args.page_size,
                style=style,
                on_progress=_show,
                pdf_path=args.pdf,
                pdf_is_print=args.pdf_is_print,
            )
        except grpc.RpcError as exc:
            print(f"store server refused: {exc.code().name}: {exc.details()}", file=sys.stderr)
            return 1
        except (LabelBatchError, FontUnavailableError, DeviceUnavailableError) as exc:
            print(f"labels not printed: {exc}", file=sys.stderr)
            return 1
    if args.pdf_is_print:
        print(f"{printed} labels printed into {args.pdf}")
    elif factory is None:
        also = f" (PDF: {args.pdf})" if args.pdf is not None else ""
        print(f"previews written{also}; no printer given, so no job was marked printed")
    else:
        print(f"{printed} labels printed")
    return 0


if __name__ == "__main__":
    sys.exit(main())

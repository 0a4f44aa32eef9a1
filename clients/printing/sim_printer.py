"""A simulated receipt printer that files every receipt it is sent, for demos without hardware.

    python -m clients.printing.sim_printer --listen 127.0.0.1:9100 --out var/receipts

Listens as a network ESC/POS printer (devices.printer.simulator); a till prints to it with
the printer config ``network:127.0.0.1:9100``. Each job's bytes are decoded back into the
receipt's lines and symbols and written as <receipt no>.bin (the raw bytes), .txt and
.png (the same previews as the receipt demo), so what the till really sent is what shows.
"""

from __future__ import annotations

import argparse
import logging
import re
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

from clients.printing.columns import text_width
from clients.printing.preview import preview_png, preview_text
from clients.printing.receipt_layout import (
    COPY_BANNER,
    WIDTH_58MM,
    WIDTH_80MM,
    Barcode,
    Cut,
    DrawerKick,
    Op,
    Qr,
    Text,
)
from devices.printer.decode import EscPosDecodeError, Event, decode
from devices.printer.simulator import NetworkPrinterSimulator

log = logging.getLogger(__name__)
DEFAULT_LISTEN = "127.0.0.1:9100"
_RECEIPT_NO_LINE = re.compile(r"^单号 No\.\s+(\S+)$")


def ops_from_events(events: Sequence[Event]) -> list[Op]:
    """decode(..., styled=True) events as the layout's operations, for the previews."""
    ops: list[Op] = []
    for event in events:
        match event:
            case ("text", str(line), bool(bold), bool(double)):
                ops.append(Text(line, bold=bold, double=double))
            case ("barcode", _kind, str(data)):
                ops.append(Barcode(data))
            case ("qr", str(data)):
                ops.append(Qr(data))
            case ("cut",):
                ops.append(Cut())
            case ("drawer", int(pin)):
                ops.append(DrawerKick(pin))
            case _:
                raise EscPosDecodeError(f"unexpected event {event!r}")
    return ops


def receipt_width(ops: Sequence[Op]) -> int:
    """58 or 80 mm paper, in columns: a receipt's rules span its full width."""
    widest = max((text_width(op.line) for op in ops if isinstance(op, Text)), default=0)
    return WIDTH_80MM if widest > WIDTH_58MM else WIDTH_58MM


def receipt_name(ops: Sequence[Op]) -> str | None:
    """The receipt number (from its QR, barcode or 单号 line), '-copy' for a reprint."""
    number = next((op.data for op in ops if isinstance(op, (Qr, Barcode))), None)
    if number is None:
        for op in ops:
            if isinstance(op, Text) and (match := _RECEIPT_NO_LINE.match(op.line.strip())):
                number = match.group(1)
                break
    if number is None:
        return None
    copy = any(isinstance(op, Text) and op.line.strip() == COPY_BANNER for op in ops)
    return number + ("-copy" if copy else "")


def safe_name(name: str) -> str:
    # Receipt numbers are 'S01-20261123-0042'; anything else must not escape the folder.
    return re.sub(r"[^A-Za-z0-9._-]", "_", name).lstrip(".") or "receipt"


class ReceiptFolder:
    """The job handler: writes each printed receipt into ``out`` as .bin, .txt and .png."""

    def __init__(self, out: Path) -> None:
        self.out = out
        self.out.mkdir(parents=True, exist_ok=True)
        self._count = 0

    def __call__(self, data: bytes) -> Path:
        """Files one job; returns the path of its text preview."""
        self._count += 1
        try:
            ops = ops_from_events(decode(data, styled=True))
        except EscPosDecodeError as exc:
            stem = self._free_stem(f"job-{self._count:04d}")
            (self.out / f"{stem}.bin").write_bytes(data)
            log.warning("simulated printer: job %s is not a receipt we can read: %s", stem, exc)
            return self.out / f"{stem}.bin"
        width = receipt_width(ops)
        stem = self._free_stem(safe_name(receipt_name(ops) or f"job-{self._count:04d}"))
        (self.out / f"{stem}.bin").write_bytes(data)
        txt = self.out / f"{stem}.txt"
        # The PNG first, the text last: a watcher that sees the .txt finds all three.
        preview_png(ops, width, self.out / f"{stem}.png")
        partial = txt.with_suffix(".txt.part")
        partial.write_text(preview_text(ops, width), encoding="utf-8")
        partial.replace(txt)
        log.info("simulated printer: printed %s (.png and .bin beside it)", txt)
        return txt

    def _free_stem(self, stem: str) -> str:
        # A receipt printed twice (a retry after a torn slip) keeps both slips.
        candidate, n = stem, 1
        while (self.out / f"{candidate}.bin").exists():
            n += 1
            candidate = f"{stem}-{n}"
        return candidate


def parse_listen(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit():
        raise argparse.ArgumentTypeError(f"write HOST:PORT, not {text!r}")
    return host, int(port)


def start_simulator(listen: tuple[str, int], out: Path) -> NetworkPrinterSimulator:
    """A running simulated printer filing receipts into ``out``."""
    simulator = NetworkPrinterSimulator(ReceiptFolder(out), host=listen[0], port=listen[1])
    return simulator.start()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m clients.printing.sim_printer", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--listen", type=parse_listen, default=parse_listen(DEFAULT_LISTEN))
    parser.add_argument("--out", type=Path, default=Path("var/receipts"))
    args = parser.parse_args(argv)
    # force: an imported library (python-escpos) already configured the root logger.
    logging.basicConfig(
        level=logging.INFO, format="%(levelname)s %(name)s: %(message)s", force=True
    )
    try:
        simulator = start_simulator(args.listen, args.out)
    except OSError as exc:
        print(f"error: cannot listen on {args.listen[0]}:{args.listen[1]}: {exc}", file=sys.stderr)
        return 1
    host, port = simulator.address
    print(f"simulated receipt printer on {host}:{port}, receipts into {args.out}/", flush=True)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    stop.wait()
    simulator.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())

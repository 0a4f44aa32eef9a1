"""The till's real devices: receipts through the durable print queue, the drawer kicked
through the printer, the customer pole display. Simulators in demo mode and in tests:
``--printer network:127.0.0.1:9100`` (clients.printing.sim_printer files every slip),
``--display file:PATH`` (the display's bytes appended to a file the tests decode).
"""

from __future__ import annotations

import threading
from pathlib import Path

from clients.printing.print_queue import PrintQueue
from clients.printing.printer_factory import PrinterFactory, printer_factory
from devices.display.pole_display import BytePort, PoleDisplay
from devices.printer import commands
from devices.printer.spec import parse_printer_spec
from tillpoint.v1 import sales_pb2


class FileDisplay(PoleDisplay):
    """A pole display whose port is a file: every byte appended (the display simulator)."""

    def __init__(self, path: Path, cjk: bool = False) -> None:
        super().__init__(f"file:{path}", cjk=cjk)
        self.path = path

    def _open(self) -> BytePort:
        port = self.path.open("ab")
        port.write(self.init_bytes())
        self._port = port
        return port


def open_display(spec: str) -> PoleDisplay:
    """'file:PATH' (simulator) or a pyserial URL / device ('/dev/ttyUSB0', 'loop://')."""
    if spec.startswith("file:"):
        return FileDisplay(Path(spec.removeprefix("file:")))
    return PoleDisplay(spec)


class TillDevices:
    """Printer (through a PrintQueue in queue_path) and display; either may be absent."""

    def __init__(
        self, *, printer: str = "", display: str = "", queue_path: Path | None = None
    ) -> None:
        self._factory: PrinterFactory | None = None
        self._queue: PrintQueue | None = None
        if printer:
            self._factory = printer_factory(parse_printer_spec(printer))
            path = queue_path or Path("var/till-print-queue.db")
            path.parent.mkdir(parents=True, exist_ok=True)
            self._queue = PrintQueue(path, self._factory)
            self._queue.start()
        self._display = open_display(display) if display else None
        self._lock = threading.Lock()  # the display is written from one thread at a time

    @property
    def queue(self) -> PrintQueue | None:
        return self._queue

    def print_receipt(self, receipt: sales_pb2.Receipt, *, open_drawer: bool) -> None:
        if self._queue is not None:
            self._queue.enqueue(receipt, open_drawer=open_drawer)

    def open_drawer(self) -> None:
        if self._factory is None:
            return
        printer = self._factory()
        try:
            commands.kick_drawer(printer)
        finally:
            printer.close()

    def _show(self, method: str, *args: object) -> None:
        if self._display is not None:
            with self._lock:
                getattr(self._display, method)(*args)

    def show_item(self, name: str, fen: int) -> None:
        self._show("show_item", name, fen)

    def show_total(self, fen: int) -> None:
        self._show("show_total", fen)

    def show_change(self, fen: int) -> None:
        self._show("show_change", fen)

    def close(self) -> None:
        if self._queue is not None:
            self._queue.close()
        if self._display is not None:
            self._display.close()

"""Opens the receipt printer for each print job, from a devices.printer transports config.

The print queue opens the printer per job (and closes it after) so an unplugged and
replugged printer is found again without restarting the till.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from escpos.escpos import Escpos

from devices.printer.transports import open_printer

PrinterFactory = Callable[[], Escpos]


def printer_factory(config: Mapping[str, Any]) -> PrinterFactory:
    """A callable that opens the printer ``config`` describes (see transports.py)."""
    frozen = dict(config)

    def open_configured() -> Escpos:
        # open_printer refuses a missing device node rather than creating a file there.
        return open_printer(frozen)

    return open_configured

"""The --printer-config text ("file:/dev/usb/lp0") as a devices.printer config dict.

The parser is devices.printer.spec's, shared with the receipt printer.
"""

from __future__ import annotations

from devices.printer.spec import PrinterConfigError, parse_printer_spec

__all__ = ["PrinterConfigError", "parse_printer_config"]

parse_printer_config = parse_printer_spec

"""A printer config written as one line of text, for command lines and config files.

    file:/dev/usb/lp0           {"type": "file", "devfile": "/dev/usb/lp0"}
    serial:/dev/ttyS0[:BAUD]    {"type": "serial", "devfile": "/dev/ttyS0", "baudrate": ...}
    network:HOST[:PORT]         {"type": "network", "host": HOST, "port": PORT or 9100}
    usb:VENDOR_ID:PRODUCT_ID    {"type": "usb", "vendor_id": ..., "product_id": ...}
    dummy                       {"type": "dummy"} (keeps the bytes in memory)

The result is the dict transports.build_printer()/open_printer() take.
"""

from __future__ import annotations

from typing import Any

from devices.printer.transports import PrinterConfigError

__all__ = ["PrinterConfigError", "parse_printer_spec"]


def parse_printer_spec(text: str) -> dict[str, Any]:
    """file:/dev/usb/lp0, serial:/dev/ttyS0[:BAUD], network:HOST[:PORT], usb:VID:PID, dummy."""
    kind, _, rest = text.partition(":")
    if kind == "dummy":
        return {"type": "dummy"}
    if not rest:
        raise PrinterConfigError(f"{text!r} needs a device after {kind}:")
    if kind == "file":
        return {"type": "file", "devfile": rest}
    if kind == "serial":
        devfile, _, baud = rest.partition(":")
        config: dict[str, Any] = {"type": "serial", "devfile": devfile}
        if baud:
            config["baudrate"] = _number(baud, text)
        return config
    if kind == "network":
        host, _, port = rest.partition(":")
        if not host:
            raise PrinterConfigError(f"{text!r} needs a host after network:")
        return {"type": "network", "host": host, "port": _number(port, text) if port else 9100}
    if kind == "usb":
        vendor, _, product = rest.partition(":")
        if not product:
            raise PrinterConfigError(f"{text!r}: write usb:VENDOR_ID:PRODUCT_ID")
        return {"type": "usb", "vendor_id": vendor, "product_id": product}
    raise PrinterConfigError(f"unknown printer kind {kind!r} in {text!r}")


def _number(value: str, text: str) -> int:
    if not value.isdigit():
        raise PrinterConfigError(f"{value!r} in {text!r} is not a number")
    return int(value)

from __future__ import annotations

import pytest

from clients.label_printer.printer_config import PrinterConfigError, parse_printer_config


@pytest.mark.parametrize(
    ("text", "config"),
    [
        ("file:/dev/usb/lp0", {"type": "file", "devfile": "/dev/usb/lp0"}),
        ("serial:/dev/ttyS0", {"type": "serial", "devfile": "/dev/ttyS0"}),
        ("serial:/dev/ttyS0:19200", {"type": "serial", "devfile": "/dev/ttyS0", "baudrate": 19200}),
        ("network:192.168.1.50", {"type": "network", "host": "192.168.1.50", "port": 9100}),
        ("network:printer:9101", {"type": "network", "host": "printer", "port": 9101}),
        ("usb:0x0416:0x5011", {"type": "usb", "vendor_id": "0x0416", "product_id": "0x5011"}),
        ("dummy", {"type": "dummy"}),
    ],
)
def test_parse(text: str, config: dict[str, object]) -> None:
    assert parse_printer_config(text) == config


@pytest.mark.parametrize("text", ["file:", "lpt:1", "usb:0416", "network:host:port", ""])
def test_rejects(text: str) -> None:
    with pytest.raises(PrinterConfigError):
        parse_printer_config(text)

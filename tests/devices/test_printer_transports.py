"""Printer transports built from configuration, and the bytes they really deliver.

Network: a real TCP listener on 127.0.0.1 receives the job and the test decodes it.
Serial: a socat pty pair. USB cannot be exercised without a printer on the bus: only the
configuration (parsing, the Usb object python-escpos would open, its ids) is tested.
"""

from __future__ import annotations

import socket
import threading

import pytest
import serial
from escpos.printer import Dummy, Network, Serial

from devices.errors import DeviceUnavailableError
from devices.printer.decode import decode
from devices.printer.spec import parse_printer_spec
from devices.printer.transports import PrinterConfigError, build_printer, open_printer
from tests.devices.conftest import PtyPair
from tests.devices.test_printer_commands import RECEIPT_EVENTS, print_receipt
from tests.support.socat import read_until


class Listener:
    """A one-connection TCP sink: collects every byte until the client closes."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(5)
        self.port = self.sock.getsockname()[1]
        self.received = bytearray()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        connection, _ = self.sock.accept()
        with connection:
            connection.settimeout(5)
            while chunk := connection.recv(4096):
                self.received += chunk

    def join(self) -> bytes:
        self.thread.join(timeout=5)
        assert not self.thread.is_alive(), "the printer never closed the connection"
        self.sock.close()
        return bytes(self.received)


def test_network_printer_delivers_the_receipt_over_tcp() -> None:
    listener = Listener()
    config = parse_printer_spec(f"network:127.0.0.1:{listener.port}")
    printer = open_printer(config)
    assert isinstance(printer, Network)
    try:
        print_receipt(printer)
    finally:
        printer.close()
    received = listener.join()
    expected = Dummy()
    print_receipt(expected)
    assert received == expected.output
    assert "可口可乐".encode("gb18030") in received
    assert decode(received) == RECEIPT_EVENTS


def test_network_printer_that_refuses_is_unavailable() -> None:
    with socket.create_server(("127.0.0.1", 0)) as sock:
        port = sock.getsockname()[1]
    # Nothing listens on that port any more: connection refused.
    with pytest.raises(DeviceUnavailableError, match="cannot be opened"):
        open_printer({"type": "network", "host": "127.0.0.1", "port": port, "timeout": 2})


def test_serial_printer_on_a_pty(pty_pair: PtyPair, far_end: serial.Serial) -> None:
    # A pty has no DSR/DTR lines: hardware flow control off, as for a 3-wire cable.
    printer = open_printer({"type": "serial", "devfile": pty_pair.a, "dsrdtr": False})
    assert isinstance(printer, Serial)
    expected = Dummy()
    print_receipt(expected)
    try:
        print_receipt(printer)
    finally:
        printer.close()
    received = read_until(far_end, lambda got: len(got) >= len(expected.output))
    assert decode(received) == RECEIPT_EVENTS


@pytest.mark.parametrize(
    "config",
    [
        {"type": "usb", "vendor_id": "0x0416", "product_id": "0x5011"},
        {"type": "usb", "vendor_id": "0416", "product_id": "5011"},
        {"type": "usb", "vendor_id": 0x0416, "product_id": 0x5011},
        parse_printer_spec("usb:0x0416:0x5011"),
    ],
)
def test_usb_config_selects_escpos_usb_without_touching_hardware(config: dict) -> None:
    from escpos.printer.usb import Usb

    printer = build_printer(config)
    assert isinstance(printer, Usb)
    assert printer.usb_args == {"idVendor": 0x0416, "idProduct": 0x5011}
    assert (printer.in_ep, printer.out_ep) == (0x82, 0x01)  # python-escpos's defaults
    assert printer._device is False  # nothing opened


def test_usb_endpoints_from_config() -> None:
    printer = build_printer(
        {
            "type": "usb",
            "vendor_id": "0x0fe6",
            "product_id": "0x811e",
            "in_ep": "0x81",
            "out_ep": "0x03",
            "timeout_ms": 500,
        }
    )
    assert (printer.in_ep, printer.out_ep, printer.timeout) == (0x81, 0x03, 500)


def test_usb_without_a_printer_is_unavailable_not_a_crash() -> None:
    # No USB printer here; without pyusb the message says what to install.
    with pytest.raises(DeviceUnavailableError):
        open_printer({"type": "usb", "vendor_id": "0x0416", "product_id": "0x5011"})


@pytest.mark.parametrize(
    ("config", "match"),
    [
        ({"type": "usb", "product_id": "0x5011"}, "vendor_id"),
        ({"type": "usb", "vendor_id": "0xZZ", "product_id": "0x5011"}, "bad USB id"),
        ({"type": "network"}, "host"),
        ({"type": "serial"}, "devfile"),
        ({}, "printer type"),
    ],
)
def test_incomplete_configs_are_refused(config: dict, match: str) -> None:
    with pytest.raises(PrinterConfigError, match=match):
        build_printer(config)


@pytest.mark.parametrize(
    ("text", "config"),
    [
        ("file:/dev/usb/lp0", {"type": "file", "devfile": "/dev/usb/lp0"}),
        ("serial:/dev/ttyS0:19200", {"type": "serial", "devfile": "/dev/ttyS0", "baudrate": 19200}),
        ("network:127.0.0.1", {"type": "network", "host": "127.0.0.1", "port": 9100}),
        ("usb:0x0416:0x5011", {"type": "usb", "vendor_id": "0x0416", "product_id": "0x5011"}),
        ("dummy", {"type": "dummy"}),
    ],
)
def test_each_spec_builds_its_transport(text: str, config: dict) -> None:
    assert parse_printer_spec(text) == config
    kinds = {"file": "File", "serial": "Serial", "network": "Network", "usb": "UsbPrinter"}
    kinds["dummy"] = "Dummy"
    assert type(build_printer(config)).__name__ == kinds[config["type"]]


@pytest.mark.parametrize("text", ["network:", "network::9100", "lpt:1", "usb:0416"])
def test_bad_specs_are_refused(text: str) -> None:
    with pytest.raises(PrinterConfigError):
        parse_printer_spec(text)

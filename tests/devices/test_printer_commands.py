"""Exact bytes of each receipt command, and their round trip through the decoder."""

from __future__ import annotations

import pytest
import serial
from escpos.printer import Dummy

from devices.errors import DeviceUnavailableError
from devices.printer import commands
from devices.printer.decode import decode
from devices.printer.transports import PrinterConfigError, build_printer, open_printer
from tests.devices.conftest import PtyPair
from tests.support.socat import read_until

COKE_GB18030 = b"\xbf\xc9\xbf\xda\xbf\xc9\xc0\xd6"  # 可口可乐


def emitted(command, *args) -> bytes:
    printer = Dummy()
    command(printer, *args)
    return printer.output


def test_chinese_text_line_bytes() -> None:
    data = emitted(commands.text_line, "可口可乐 3.50")
    assert data == b"\x1c\x26" + COKE_GB18030 + b" 3.50" + b"\x1c\x2e\n"
    assert decode(data) == [("text", "可口可乐 3.50")]


def test_text_line_refuses_embedded_newlines() -> None:
    with pytest.raises(ValueError):
        emitted(commands.text_line, "a\nb")


def test_styling_bytes_are_exact_and_ignored_by_the_decoder() -> None:
    assert emitted(commands.bold, True) == b"\x1b\x45\x01"
    assert emitted(commands.bold, False) == b"\x1b\x45\x00"
    assert emitted(commands.double_size, True) == b"\x1d\x21\x11"
    assert emitted(commands.double_size, False) == b"\x1d\x21\x00"
    assert emitted(commands.initialize) == b"\x1b\x40"
    printer = Dummy()
    commands.bold(printer, True)
    commands.double_size(printer, True)
    commands.text_line(printer, "合计 12.50")
    commands.bold(printer, False)
    assert decode(printer.output) == [("text", "合计 12.50")]


def test_receipt_barcode_bytes() -> None:
    data = emitted(commands.receipt_barcode, "R0001-000123")
    assert data == (
        b"\x1b\x61\x01"  # centre
        b"\x1d\x68\x40"  # height 64 dots
        b"\x1d\x77\x02"  # module width 2
        b"\x1d\x66\x00"  # HRI font A
        b"\x1d\x48\x02"  # HRI below
        b"\x1d\x6b\x49\x0e{BR0001-000123"  # CODE128, 14 bytes, code set B
        b"\x1b\x61\x00"  # back to left
    )
    assert decode(data) == [("barcode", "CODE128", "R0001-000123")]


@pytest.mark.parametrize("bad", ["", "收据1", "R{1", "R\t1"])
def test_receipt_barcode_refuses_bad_numbers(bad: str) -> None:
    with pytest.raises(ValueError):
        emitted(commands.receipt_barcode, bad)


def test_receipt_qr_bytes() -> None:
    data = emitted(commands.receipt_qr, "R0001-000123")
    assert data == (
        b"\x1d(k\x04\x001A2\x00"  # model 2
        b"\x1d(k\x03\x001C\x06"  # module size 6
        b"\x1d(k\x03\x001E1"  # error correction M
        b"\x1d(k\x0f\x001P0R0001-000123"  # store 12 bytes of data
        b"\x1d(k\x03\x001Q0"  # print
    )
    assert decode(data) == [("qr", "R0001-000123")]


def test_cut_bytes() -> None:
    data = emitted(commands.cut)
    assert data == b"\x1b\x64\x06" + b"\x1d\x56\x00"  # feed 6 lines, full cut
    assert decode(data) == [("cut",)]


@pytest.mark.parametrize(("pin", "m"), [(2, 0), (5, 1)])
def test_drawer_kick_bytes(pin: int, m: int) -> None:
    data = emitted(commands.kick_drawer, pin)
    assert data == b"\x1b\x70" + bytes((m, 50, 50))  # 100 ms on, 100 ms off
    assert decode(data) == [("drawer", pin)]


def test_drawer_pin_must_be_2_or_5() -> None:
    with pytest.raises(ValueError):
        emitted(commands.kick_drawer, 3)


def print_receipt(printer) -> None:
    commands.initialize(printer)
    commands.double_size(printer, True)
    commands.text_line(printer, "天天超市")
    commands.double_size(printer, False)
    commands.text_line(printer, "可口可乐 330ml  x2   7.00")
    commands.text_line(printer, "Total 7.00")
    commands.receipt_barcode(printer, "R0001-000123")
    commands.receipt_qr(printer, "https://tillpoint.example/r/R0001-000123")
    commands.cut(printer)
    commands.kick_drawer(printer, 2)


RECEIPT_EVENTS = [
    ("text", "天天超市"),
    ("text", "可口可乐 330ml  x2   7.00"),
    ("text", "Total 7.00"),
    ("barcode", "CODE128", "R0001-000123"),
    ("qr", "https://tillpoint.example/r/R0001-000123"),
    ("cut",),
    ("drawer", 2),
]


def test_whole_receipt_through_dummy() -> None:
    printer = build_printer({"type": "dummy"})
    print_receipt(printer)
    assert decode(printer.output) == RECEIPT_EVENTS


def test_whole_receipt_through_a_file_printer_on_a_pty(
    pty_pair: PtyPair, far_end: serial.Serial
) -> None:
    expected = Dummy()
    print_receipt(expected)
    printer = open_printer({"type": "file", "devfile": pty_pair.a})
    try:
        print_receipt(printer)
    finally:
        printer.close()
    received = read_until(far_end, lambda got: len(got) >= len(expected.output))
    assert received == expected.output
    assert decode(received) == RECEIPT_EVENTS


def test_missing_printer_is_a_clear_error(tmp_path) -> None:
    missing = tmp_path / "lp0"
    with pytest.raises(DeviceUnavailableError, match="is missing"):
        open_printer({"type": "file", "devfile": str(missing)})
    # ... and no plain file was created where the device should be.
    assert not missing.exists()


def test_transport_configs() -> None:
    assert build_printer({"type": "file", "devfile": "/dev/usb/lp0"}).devfile == "/dev/usb/lp0"
    serial_printer = build_printer({"type": "serial", "devfile": "/dev/ttyS0", "baudrate": 19200})
    assert (serial_printer.devfile, serial_printer.baudrate) == ("/dev/ttyS0", 19200)
    network = build_printer({"type": "network", "host": "192.168.1.50"})
    assert (network.host, network.port) == ("192.168.1.50", 9100)
    with pytest.raises(PrinterConfigError, match="devfile"):
        build_printer({"type": "file"})
    with pytest.raises(PrinterConfigError, match="printer type"):
        build_printer({"type": "bluetooth"})

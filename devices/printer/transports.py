"""Builds a python-escpos printer object from a config dict.

    {"type": "file", "devfile": "/dev/usb/lp0"}
    {"type": "serial", "devfile": "/dev/ttyS0", "baudrate": 9600}
    {"type": "network", "host": "192.168.1.50", "port": 9100}
    {"type": "usb", "vendor_id": "0x0416", "product_id": "0x5011"}
    {"type": "dummy"}

An optional "profile" key names a python-escpos printer profile. build_printer() does no
I/O (python-escpos opens on the first write); open_printer() opens now and turns a missing
device into DeviceUnavailableError, so the till can say "printer offline" up front.
spec.py reads the same configs from one line of text ("network:192.168.1.50:9100").

USB: python-escpos's Usb class is imported only when a USB printer is configured, and
building it touches no hardware; pyusb and libusb are needed only to open it, so a till
without them (or without USB) still runs with any other transport. A missing pyusb is
DeviceUnavailableError at open time, with what to install.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any

from escpos.escpos import Escpos
from escpos.exceptions import Error
from escpos.printer import Dummy, File, Network, Serial

from devices.errors import DeviceUnavailableError

Config = Mapping[str, Any]


class PrinterConfigError(ValueError):
    """The printer config is incomplete or names an unknown transport."""


def _required(config: Config, key: str) -> Any:
    if key not in config:
        raise PrinterConfigError(f"{config.get('type')} printer needs {key!r}")
    return config[key]


def _usb_id(value: int | str) -> int:
    """USB ids are written in hex in every manual: accept 0x0416, "0x0416" and "0416"."""
    if isinstance(value, int):
        return value
    try:
        return int(value, 16)
    except ValueError as exc:
        raise PrinterConfigError(f"bad USB id {value!r}") from exc


def _file(config: Config, profile: str | None) -> Escpos:
    return File(devfile=_required(config, "devfile"), profile=profile)


def _serial(config: Config, profile: str | None) -> Escpos:
    return Serial(
        devfile=_required(config, "devfile"),
        baudrate=int(config.get("baudrate", 9600)),
        # Hardware flow control is python-escpos's default; ptys and 3-wire cables lack it.
        dsrdtr=bool(config.get("dsrdtr", True)),
        profile=profile,
    )


def _network(config: Config, profile: str | None) -> Escpos:
    return Network(
        host=_required(config, "host"),
        port=int(config.get("port", 9100)),
        timeout=float(config.get("timeout", 10)),
        profile=profile,
    )


def _usb(config: Config, profile: str | None) -> Escpos:
    # Imported here: only a configured USB printer needs the class (and, to open, pyusb).
    from devices.printer.usb_printer import UsbPrinter

    # Endpoints only when configured: python-escpos's defaults (0x82, 0x01) fit most.
    kwargs = {key: _usb_id(config[key]) for key in ("in_ep", "out_ep") if key in config}
    return UsbPrinter(
        idVendor=_usb_id(_required(config, "vendor_id")),
        idProduct=_usb_id(_required(config, "product_id")),
        timeout=int(config.get("timeout_ms", 0)),
        profile=profile,
        **kwargs,
    )


def _dummy(config: Config, profile: str | None) -> Escpos:
    return Dummy(profile=profile)


_BUILDERS: dict[str, Callable[[Config, str | None], Escpos]] = {
    "file": _file,
    "serial": _serial,
    "network": _network,
    "usb": _usb,
    "dummy": _dummy,
}


def build_printer(config: Config) -> Escpos:
    """A printer object for ``config``; nothing is opened yet."""
    kind = config.get("type")
    builder = _BUILDERS.get(kind) if isinstance(kind, str) else None
    if builder is None:
        raise PrinterConfigError(f"printer type must be one of {sorted(_BUILDERS)}, not {kind!r}")
    return builder(config, config.get("profile"))


def open_printer(config: Config) -> Escpos:
    """build_printer() and open it; DeviceUnavailableError if the device is missing."""
    printer = build_printer(config)
    if isinstance(printer, Dummy):
        return printer
    # python-escpos opens a "file" printer with open(devfile, "wb"), which creates a plain
    # file when the device node is gone (an unplugged USB printer, a pty whose other side
    # died): the receipt would vanish into it and count as printed.
    if config.get("type") == "file" and not os.path.exists(str(config.get("devfile", ""))):
        raise DeviceUnavailableError(f"printer device {config.get('devfile')!r} is missing")
    if config.get("type") == "usb" and not printer.is_usable():
        raise DeviceUnavailableError(
            "USB printers need pyusb (pin it in requirements.txt) and libusb-1.0-0 (apt)"
        )
    try:
        printer.open()
    except (Error, OSError) as exc:  # DeviceNotFoundError is an Error
        raise DeviceUnavailableError(f"printer {dict(config)} cannot be opened: {exc}") from exc
    except ValueError as exc:
        # pyusb without a libusb backend raises NoBackendError, a ValueError.
        raise DeviceUnavailableError(f"printer {dict(config)} cannot be opened: {exc}") from exc
    return printer

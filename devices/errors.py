"""Errors shared by the device drivers."""

from __future__ import annotations


class DeviceError(Exception):
    """A device could not do what was asked."""


class DeviceUnavailableError(DeviceError):
    """The device (its port, file or socket) is missing or cannot be opened.

    Raised by ``start()``/the first write, never swallowed: a silent no-op driver would
    hide an unplugged scanner or printer from the cashier.
    """

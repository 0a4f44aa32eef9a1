"""python-escpos's Usb printer, imported only when a USB printer is configured.

Usb.close() requires pyusb even when nothing was opened, and python-escpos calls close()
from __del__: a configured-but-never-opened USB printer on a till without pyusb would
print a RuntimeError when collected. Closing what was never opened is a no-op here.
"""

from __future__ import annotations

from escpos.printer.usb import Usb


class UsbPrinter(Usb):
    def close(self) -> None:
        if self._device:
            super().close()

"""What the till asks of its devices: print a receipt, open the drawer, show the customer.

The presenter calls these after the server has answered, so a device that fails
never loses a sale: the sale is committed first, the receipt waits in the print
queue, and the cashier is told in words. NoDevices is the till without any.
"""

from __future__ import annotations

from typing import Protocol

from tillpoint.v1 import sales_pb2


class Peripherals(Protocol):
    def print_receipt(self, receipt: sales_pb2.Receipt, *, open_drawer: bool) -> None: ...
    def open_drawer(self) -> None: ...
    def show_item(self, name: str, fen: int) -> None: ...
    def show_total(self, fen: int) -> None: ...
    def show_change(self, fen: int) -> None: ...
    def close(self) -> None: ...


class NoDevices:
    """A till with no printer and no customer display (tests of the logic, demos)."""

    def print_receipt(self, receipt: sales_pb2.Receipt, *, open_drawer: bool) -> None:
        pass

    def open_drawer(self) -> None:
        pass

    def show_item(self, name: str, fen: int) -> None:
        pass

    def show_total(self, fen: int) -> None:
        pass

    def show_change(self, fen: int) -> None:
        pass

    def close(self) -> None:
        pass

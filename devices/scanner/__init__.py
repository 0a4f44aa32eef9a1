"""Barcode scanners: serial (pyserial) and keyboard wedge, with a serial simulator."""

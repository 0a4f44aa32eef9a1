"""Sends a rendered label to a python-escpos printer as a raster image, then cuts.

A raster image rather than printer-side text and barcode commands: label printers differ
in their Chinese fonts and barcode support, but all of them print GS v 0 rasters the same.
"""

from __future__ import annotations

from escpos.escpos import Escpos
from PIL import Image


def print_label(printer: Escpos, image: Image.Image, *, cut: bool = True) -> None:
    """Print ``image`` (a 1-bit label at the printer's dpi) and cut after it."""
    # Raster (GS v 0) at full density: 203 dpi both ways, so a module is exactly 2 dots.
    printer.image(
        image, impl="bitImageRaster", high_density_vertical=True, high_density_horizontal=True
    )
    if cut:
        printer.cut()

"""Labels as a PDF: one label-sized page per label, for previews and non-ESC/POS printers.

Pillow writes the PDF itself (no extra dependency): each page is one label image at the
label's real size, its resolution being the printer's dpi, so a 60 x 40 mm label is a
170 x 113 pt page (1 pt = 1/72 inch) and prints at 100 % on any printer that takes a
PDF (CUPS `lp -o fit-to-page=false`). 1-bit images are stored losslessly
(CCITT group 4), so the bars keep their exact widths and the barcode still scans.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from PIL import Image

from clients.label_printer.render_png import SHELF_LABEL


def page_size_pt(image: Image.Image, dpi: int) -> tuple[float, float]:
    """The PDF page size of ``image`` printed at ``dpi``, in points."""
    return image.width * 72 / dpi, image.height * 72 / dpi


def save_pdf(images: Sequence[Image.Image], path: Path | str, dpi: int = SHELF_LABEL.dpi) -> Path:
    """Write ``images`` as a PDF at ``path``, one page each, in order; returns the path.

    The file appears complete or not at all (written beside it, then renamed), so a
    printer watching the folder never picks up half a batch.
    """
    if not images:
        raise ValueError("a PDF needs at least one label")
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.part")
    first, *rest = images
    first.save(
        partial,
        format="PDF",
        save_all=True,
        append_images=rest,
        resolution=float(dpi),
        title="Tillpoint labels",
        creator="Tillpoint label printer",
    )
    os.replace(partial, target)
    return target

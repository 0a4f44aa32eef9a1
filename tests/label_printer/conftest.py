from __future__ import annotations

import pytest
from PIL import Image

from clients.label_printer.fonts import DEFAULT_FONT_PATH


@pytest.fixture(scope="session")
def font_path() -> str:
    # Not skipped when missing: a label client without a CJK font prints boxes, so the
    # machine is misconfigured (apt-get install fonts-wqy-zenhei).
    assert DEFAULT_FONT_PATH.is_file(), "install the Debian package fonts-wqy-zenhei"
    return str(DEFAULT_FONT_PATH)


def decode_barcodes(image: Image.Image) -> list[tuple[str, str]]:
    """(symbology, data) of every barcode zbar finds.

    Fails, never skips, without zbar: `make test` installs libzbar0 and pyzbar.
    """
    try:
        from pyzbar import pyzbar
    except ImportError as exc:  # pyzbar raises ImportError when libzbar0 is missing
        raise AssertionError(
            "barcode decoding needs pyzbar (requirements.txt) and libzbar0 (apt)"
        ) from exc
    return [(s.type, s.data.decode("ascii")) for s in pyzbar.decode(image.convert("L"))]

"""The CJK font labels are drawn with, and a clear error when it is not installed.

Pillow's default font and most Latin fonts have no Chinese glyphs: every 可口可乐 would
come out as empty boxes. So a font that cannot draw Chinese is refused up front.
"""

from __future__ import annotations

import functools
from pathlib import Path

from PIL import ImageFont

DEFAULT_FONT_PATH = Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc")
FONT_PACKAGE = "fonts-wqy-zenhei"
# A private-use code point no font draws: what a missing glyph looks like in this font.
MISSING_CHAR = "\U0010fffd"
_PROBE = "价"


class FontUnavailableError(RuntimeError):
    """The configured font is missing or cannot draw Chinese."""


def glyph_bitmap(font: ImageFont.FreeTypeFont, char: str) -> tuple[tuple[int, int], bytes]:
    """(size, pixels) of one character as the font draws it, for coverage checks."""
    mask = font.getmask(char, mode="1")
    return mask.size, bytes(mask)


def has_glyph(font: ImageFont.FreeTypeFont, char: str) -> bool:
    """True when ``char`` draws as something other than the font's missing-glyph shape."""
    drawn = font.getmask(char, mode="1")
    if drawn.getbbox() is None:
        return False
    return glyph_bitmap(font, char) != glyph_bitmap(font, MISSING_CHAR)


@functools.lru_cache(maxsize=64)
def load_font(path: Path | str, size: int) -> ImageFont.FreeTypeFont:
    """The font at ``path`` (index 0 of a .ttc) at ``size`` pixels."""
    font_path = Path(path)
    if not font_path.is_file():
        raise FontUnavailableError(
            f"CJK font not found at {font_path}: install the Debian package {FONT_PACKAGE} "
            f"(apt-get install {FONT_PACKAGE}) or configure another font path"
        )
    try:
        font = ImageFont.truetype(str(font_path), size, index=0)
    except OSError as exc:
        raise FontUnavailableError(f"cannot read font {font_path}: {exc}") from exc
    if not has_glyph(font, _PROBE):
        raise FontUnavailableError(
            f"font {font_path} has no Chinese glyphs; install {FONT_PACKAGE} and use "
            f"{DEFAULT_FONT_PATH}"
        )
    return font

"""A receipt's printer operations as plain text or as a PNG: receipts without hardware.

Both previews follow the layout's columns exactly (a Chinese character is two columns),
so what lines up here lines up on paper. The PNG draws every character in its own grid
cell (one column = half a CJK glyph) rather than letting the font advance the pen: the
font's Latin glyphs are proportional, and the right-aligned amounts would drift.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import barcode
import qrcode
from barcode.writer import ImageWriter
from PIL import Image, ImageDraw, ImageFont

from clients.label_printer.fonts import DEFAULT_FONT_PATH, load_font
from clients.printing.columns import centre, char_width
from clients.printing.receipt_layout import (
    WIDTH_58MM,
    WIDTH_80MM,
    Barcode,
    Cut,
    DrawerKick,
    Initialize,
    Op,
    Qr,
    Text,
)

CUT_MARK = "----- cut -----"
DRAWER_MARK = "[drawer]"
# 12 px per column: 48 columns are 576 px, the dot width of an 80 mm printer head.
CELL_PX = 12
FONT_PX = 2 * CELL_PX  # a CJK glyph fills two columns
LINE_PX = FONT_PX + 6
MARGIN_PX = 16
INK = 0
PAPER = 255
MARK_GREY = 150
# Printer-like symbol sizes: 2-dot CODE128 modules, 6-dot QR modules (commands.py).
BARCODE_MODULE_PX = 2
BARCODE_HEIGHT_PX = 64
QR_BOX_PX = 6


def preview_text(ops: Iterable[Op], width: int) -> str:
    """The receipt as it would print, one line per printed line, with markers for the rest."""
    _check_width(width)
    lines: list[str] = []
    for op in ops:
        match op:
            case Initialize():
                pass
            case Text(line=line):
                lines.append(line)
            case Barcode(data=data):
                lines += centre(f"[CODE128 {data}]", width)
            case Qr(data=data):
                lines += centre(f"[QR {data}]", width)
            case Cut():
                lines += centre(CUT_MARK, width)
            case DrawerKick():
                lines.append(DRAWER_MARK)
            case _:
                raise TypeError(f"not a printer operation: {op!r}")
    return "\n".join(lines) + "\n"


def preview_image(
    ops: Iterable[Op], width: int, font_path: Path | str = DEFAULT_FONT_PATH
) -> Image.Image:
    """The receipt drawn on white paper (mode "L"), ``width`` columns wide."""
    _check_width(width)
    paper_px = width * CELL_PX
    blocks = [_block(op, paper_px, font_path) for op in ops]
    height = sum(block.height for block in blocks) + 2 * MARGIN_PX
    page = Image.new("L", (paper_px + 2 * MARGIN_PX, height), PAPER)
    y = MARGIN_PX
    for block in blocks:
        # Symbols are centred, as the printer centres them; text blocks span the paper.
        page.paste(block, (MARGIN_PX + (paper_px - block.width) // 2, y))
        y += block.height
    return page


def preview_png(
    ops: Iterable[Op], width: int, path: Path | str, font_path: Path | str = DEFAULT_FONT_PATH
) -> Path:
    """Write the receipt as a PNG at ``path``; returns the path."""
    target = Path(path)
    preview_image(ops, width, font_path).save(target, format="PNG")
    return target


def _check_width(width: int) -> None:
    if width not in (WIDTH_58MM, WIDTH_80MM):
        raise ValueError(f"receipt width must be {WIDTH_58MM} or {WIDTH_80MM} columns")


def _block(op: Op, paper_px: int, font_path: Path | str) -> Image.Image:
    match op:
        case Initialize():
            return Image.new("L", (paper_px, 0), PAPER)
        case Text(line=line, bold=bold, double=double):
            return _text_block(line, paper_px, font_path, scale=2 if double else 1, bold=bold)
        case Barcode(data=data):
            return _with_caption(_code128(data), data, paper_px, font_path)
        case Qr(data=data):
            return _fit(_qr(data), paper_px)
        case Cut():
            return _cut_block(paper_px)
        case DrawerKick():
            return _text_block(DRAWER_MARK, paper_px, font_path, grey=True)
        case _:
            raise TypeError(f"not a printer operation: {op!r}")


def _text_block(
    line: str,
    paper_px: int,
    font_path: Path | str,
    *,
    scale: int = 1,
    bold: bool = False,
    grey: bool = False,
) -> Image.Image:
    font = load_font(font_path, FONT_PX * scale)
    cell = CELL_PX * scale
    block = Image.new("L", (paper_px, LINE_PX * scale), PAPER)
    draw = ImageDraw.Draw(block)
    baseline = _baseline(font)
    column = 0
    for char in line:
        columns = char_width(char)
        if char != " ":
            # Centred in its cells: the font's Latin glyphs are narrower than a column.
            position = (column * cell + columns * cell // 2, baseline)
            fill = MARK_GREY if grey else INK
            # Bold as the printer does it: the same glyph struck slightly wider.
            draw.text(position, char, font=font, fill=fill, anchor="ms", stroke_width=int(bold))
        column += columns
    return block


def _baseline(font: ImageFont.FreeTypeFont) -> int:
    ascent, _descent = font.getmetrics()
    # A little headroom above the tallest glyph; the rest of the line height goes below.
    return ascent + font.size // 12


def _code128(data: str) -> Image.Image:
    # 300 dpi and 2-dot modules: module_width in mm such that one module is 2 pixels.
    dpi = 300
    options = {
        "module_width": BARCODE_MODULE_PX * 25.4 / dpi,
        "module_height": BARCODE_HEIGHT_PX * 25.4 / dpi,
        "quiet_zone": 10 * BARCODE_MODULE_PX * 25.4 / dpi,
        "dpi": dpi,
        "write_text": False,  # the caption is drawn with the receipt's own font
    }
    image = barcode.get("code128", data, writer=ImageWriter()).render(options)
    return image.convert("L")


def _qr(data: str) -> Image.Image:
    code = qrcode.QRCode(
        error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=QR_BOX_PX, border=4
    )
    code.add_data(data)
    code.make(fit=True)
    return code.make_image(fill_color="black", back_color="white").get_image().convert("L")


def _with_caption(
    symbol: Image.Image, caption: str, paper_px: int, font_path: Path | str
) -> Image.Image:
    """The symbol with its human-readable text centred below, as the printer's HRI."""
    symbol = _fit(symbol, paper_px)
    columns = paper_px // CELL_PX
    text = _text_block(centre(caption, columns)[0], paper_px, font_path)
    block = Image.new("L", (paper_px, symbol.height + text.height), PAPER)
    block.paste(symbol, ((paper_px - symbol.width) // 2, 0))
    block.paste(text, (0, symbol.height))
    return block


def _fit(image: Image.Image, paper_px: int) -> Image.Image:
    # Only a hand-built layout puts a CODE128 on 58 mm paper; shrink it rather than crop.
    if image.width <= paper_px:
        return image
    height = image.height * paper_px // image.width
    return image.resize((paper_px, height), Image.Resampling.NEAREST)


def _cut_block(paper_px: int) -> Image.Image:
    block = Image.new("L", (paper_px, LINE_PX), PAPER)
    draw = ImageDraw.Draw(block)
    middle = LINE_PX // 2
    for x in range(0, paper_px, 12):
        draw.line([(x, middle), (x + 6, middle)], fill=MARK_GREY, width=2)
    return block

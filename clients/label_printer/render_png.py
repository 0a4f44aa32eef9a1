"""Shelf-edge and barcode labels drawn as 1-bit Pillow images at the printer's resolution.

1-bit, not greyscale: a thermal head prints dots, and anti-aliased grey edges would be
dithered into ragged bars the scanner then misreads.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from clients.label_printer.barcode_image import draw_barcode, encode, module_width
from clients.label_printer.fonts import DEFAULT_FONT_PATH, load_font
from clients.label_printer.label_data import Label

BLACK, WHITE = 0, 1


def mm_to_dots(mm: int, dpi: int) -> int:
    """Millimetres to printer dots, rounded half up with integers (25.4 mm per inch)."""
    return (mm * dpi * 10 * 2 + 254) // (254 * 2)


@dataclass(frozen=True)
class LabelStyle:
    width_mm: int = 60
    height_mm: int = 40
    dpi: int = 203
    font_path: Path = DEFAULT_FONT_PATH
    margin: int = 10  # dots kept blank at the edges: label stock drifts under the head

    @property
    def size(self) -> tuple[int, int]:
        return mm_to_dots(self.width_mm, self.dpi), mm_to_dots(self.height_mm, self.dpi)


SHELF_LABEL = LabelStyle()
BARCODE_LABEL = LabelStyle(width_mm=40, height_mm=30)


def _font(style: LabelStyle, size: int) -> ImageFont.FreeTypeFont:
    return load_font(str(style.font_path), size)


def _width(draw: ImageDraw.ImageDraw, text: str, font: ImageFont.FreeTypeFont) -> int:
    return int(draw.textlength(text, font=font))


def wrap(
    draw: ImageDraw.ImageDraw,
    text: str,
    font: ImageFont.FreeTypeFont,
    max_width: int,
    max_lines: int,
) -> list[str]:
    """Greedy wrap for Chinese (a line may break between any two characters) that keeps
    a Latin run such as "330ml" whole when a space lets it; the last line gets "…"."""
    lines: list[str] = []
    line = ""
    for char in text:
        if _width(draw, line + char, font) <= max_width or not line:
            line += char
            continue
        if char.isascii() and char.isalnum() and " " in line and not line.endswith(" "):
            head, _, tail = line.rpartition(" ")
            lines.append(head)
            line = tail + char
        else:
            lines.append(line.rstrip())
            line = "" if char == " " else char
    if line:
        lines.append(line)
    if len(lines) > max_lines:
        last = lines[max_lines - 1]
        while last and _width(draw, last + "…", font) > max_width:
            last = last[:-1]
        lines = [*lines[: max_lines - 1], last + "…"]
    return lines


def _fit_font(
    draw: ImageDraw.ImageDraw, style: LabelStyle, text: str, size: int, max_width: int
) -> ImageFont.FreeTypeFont:
    """The largest font up to ``size`` in which ``text`` fits (a price of 1288.00 still
    fits the box 3.00 was laid out for)."""
    while size > 12 and _width(draw, text, _font(style, size)) > max_width:
        size -= 2
    return _font(style, size)


def _promotion_tag(draw: ImageDraw.ImageDraw, style: LabelStyle, text: str, right: int) -> int:
    """White on black tag in the top right corner; returns its left edge."""
    font = _font(style, 22)
    width = _width(draw, text, font) + 12
    left = right - width
    draw.rectangle((left, style.margin, right, style.margin + 30), fill=BLACK)
    draw.text((left + 6, style.margin + 3), text, font=font, fill=WHITE)
    return left


def render_shelf_label(label: Label, style: LabelStyle = SHELF_LABEL) -> Image.Image:
    """A 60 x 40 mm shelf-edge label: name, spec, price, member price, unit price, barcode."""
    width, height = style.size
    image = Image.new("1", (width, height), WHITE)
    draw = ImageDraw.Draw(image)
    m = style.margin
    right = width - m

    name_right = right
    if label.promotion:
        name_right = _promotion_tag(draw, style, label.promotion, right) - 8
    name_font = _font(style, 30)
    y = m
    for line in wrap(draw, label.name, name_font, name_right - m, max_lines=2):
        draw.text((m, y), line, font=name_font, fill=BLACK)
        y += 34
    y = max(y, m + 34 * 2) + 4
    draw.line((m, y, right, y), fill=BLACK, width=2)
    y += 6

    small = _font(style, 20)
    details = []
    if label.spec:
        details.append(f"规格 {label.spec}")
    details.append(f"单位 {label.price_unit}")
    draw.text((m, y), "   ".join(details), font=small, fill=BLACK)
    y += 24
    if label.unit_price_text:
        draw.text((m, y), f"单价 {label.unit_price_text}", font=small, fill=BLACK)
    y += 28

    # Left: the barcode; right: the prices. The barcode gets 2 dots a module at 203 dpi
    # (0.25 mm, within what shelf scanners read) so the price column keeps its room.
    price_left = m
    if label.barcode is not None:
        module = min(2, module_width(label.barcode, width // 2 - m))
        bar_height = height - m - y - 24
        used, _ = draw_barcode(
            image,
            label.barcode,
            left=m,
            top=y,
            module=module,
            bar_height=bar_height,
            font_path=str(style.font_path),
        )
        price_left = m + used + 8

    column = right - price_left
    price_top = y - 4
    unit_font = _font(style, 20)
    unit_text = f"元/{label.price_unit}"
    price_font = _fit_font(draw, style, label.price_text, 64, column - _width(draw, "¥", unit_font))
    price_width = _width(draw, label.price_text, price_font)
    draw.text((right - price_width, price_top), label.price_text, font=price_font, fill=BLACK)
    draw.text(
        (right - price_width - _width(draw, "¥", unit_font) - 2, price_top + 8),
        "¥",
        font=unit_font,
        fill=BLACK,
    )
    unit_top = price_top + price_font.size + 4
    draw.text(
        (right - _width(draw, unit_text, unit_font), unit_top),
        unit_text,
        font=unit_font,
        fill=BLACK,
    )
    if label.member_price_text is not None:
        member_text = f"会员价 {label.member_price_text}"
        member_font = _fit_font(draw, style, member_text, 28, column - 8)
        member_top = height - m - member_font.size - 8
        member_width = _width(draw, member_text, member_font)
        # Inverted so shoppers see the member offer at a glance.
        draw.rectangle(
            (right - member_width - 8, member_top - 2, right, member_top + member_font.size + 6),
            fill=BLACK,
        )
        draw.text((right - member_width - 4, member_top), member_text, font=member_font, fill=WHITE)
    return image


def render_barcode_label(label: Label, style: LabelStyle = BARCODE_LABEL) -> Image.Image:
    """A small sticker for weighed or packed goods: name, price and a large barcode (the
    PLU as Code 128 for weighed goods, the EAN otherwise)."""
    width, height = style.size
    image = Image.new("1", (width, height), WHITE)
    draw = ImageDraw.Draw(image)
    m = style.margin
    name_font = _font(style, 26)
    (name,) = wrap(draw, label.name, name_font, width - 2 * m, max_lines=1)
    draw.text((m, m), name, font=name_font, fill=BLACK)
    price_text = f"{label.price_text}元/{label.price_unit}"
    if label.member_price_text is not None:
        price_text += f"  会员 {label.member_price_text}"
    price_font = _fit_font(draw, style, price_text, 24, width - 2 * m)
    draw.text((m, m + 32), price_text, font=price_font, fill=BLACK)
    if label.barcode is not None:
        module = module_width(label.barcode, width - 2 * m, most=3)
        top = m + 64
        bar_height = height - m - top - 24
        draw_barcode(
            image,
            label.barcode,
            left=(width - encode(label.barcode).total * module) // 2,
            top=top,
            module=module,
            bar_height=bar_height,
            font_path=str(style.font_path),
        )
    return image


def save_png(image: Image.Image, path: Path, dpi: int = SHELF_LABEL.dpi) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path, format="PNG", dpi=(dpi, dpi))
    return path

"""Column arithmetic for a receipt printer's fixed-width lines.

A Chinese receipt printer in Chinese mode (FS &) prints every 2-byte GB code from its
full-width (24-dot) font, so such a character takes two columns and ASCII takes one.
unicodedata's W and F classes are the hanzi and full-width forms; ambiguous (A)
characters such as '·' (农夫山泉·天然水) or '×' are 2-byte GB codes too, so they also
print double width and are counted as two here, or the amounts after them would drift.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache


@lru_cache(maxsize=4096)
def char_width(char: str) -> int:
    """Printed columns of one character: 2 for wide/full-width and GB double-byte, else 1."""
    if char.isascii():
        return 1
    kind = unicodedata.east_asian_width(char)
    if kind in ("W", "F"):
        return 2
    if kind == "A":
        try:
            return 2 if len(char.encode("gb18030")) >= 2 else 1
        except UnicodeEncodeError:
            return 1
    return 1


def text_width(text: str) -> int:
    """Printed columns of ``text``."""
    return sum(char_width(char) for char in text)


def clean(text: str) -> str:
    """One printable line: control characters (tabs, newlines from a catalog) -> spaces."""
    return "".join(" " if unicodedata.category(c) == "Cc" else c for c in text).strip()


def wrap(text: str, width: int) -> list[str]:
    """``text`` cut into lines of at most ``width`` columns, never inside a character.

    Prefers the last space to a break inside a word; a run of Chinese without spaces
    breaks between any two characters. Always at least one line.
    """
    if width < 2:
        raise ValueError("width must be at least 2 columns (one wide character)")
    lines: list[str] = []
    current = ""
    for char in clean(text):
        if text_width(current) + char_width(char) <= width:
            current += char
            continue
        # Break at the last space rather than inside a word ('330ml', '人民路店') when
        # that wastes at most half a line.
        head, space, tail = current.rpartition(" ")
        if space and head.strip() and char != " " and text_width(tail + char) <= width // 2:
            lines.append(head.rstrip())
            current = tail + char
        else:
            lines.append(current.rstrip())
            current = char.lstrip()
    if current or not lines:
        lines.append(current)
    return lines


def two_columns(left: str, right: str, width: int, *, indent: str = "") -> list[str]:
    """``left`` then ``right`` ending exactly at column ``width``.

    When both do not fit on one line, ``left`` is wrapped and ``right`` goes right-aligned
    on a line of its own, so every amount on a receipt ends in the same column.
    """
    left, right = clean(left), clean(right)
    if not right:
        return [indent + part for part in wrap(left, width - text_width(indent))]
    gap = width - text_width(indent + left) - text_width(right)
    if gap >= 1:
        return [indent + left + " " * gap + right]
    lines = [indent + part for part in wrap(left, width - text_width(indent))] if left else []
    return [*lines, *(right_align(part, width) for part in wrap(right, width))]


def right_align(text: str, width: int) -> str:
    return " " * max(0, width - text_width(text)) + text


def centre(text: str, width: int) -> list[str]:
    """``text`` wrapped to ``width`` and centred by leading spaces (no trailing ones)."""
    return [" " * ((width - text_width(line)) // 2) + line for line in wrap(text, width)]

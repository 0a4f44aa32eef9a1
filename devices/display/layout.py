"""Text for a 20-column display: amounts from fen, transliteration, exact-width lines."""

from __future__ import annotations

import unicodedata

WIDTH = 20


def format_fen(fen: int) -> str:
    """12345 -> '123.45', 5 -> '0.05', -250 -> '-2.50'. Integer arithmetic only."""
    if isinstance(fen, bool) or not isinstance(fen, int):
        raise TypeError("amounts are integer fen")
    sign = "-" if fen < 0 else ""
    yuan, cents = divmod(abs(fen), 100)
    return f"{sign}{yuan}.{cents:02d}"


def to_ascii(text: str) -> str:
    """Best-effort ASCII: 'Café' -> 'Cafe', full-width 'Ａ１' -> 'A1', others -> '?'."""
    out = []
    for char in text:
        if char.isascii():
            out.append(char if char.isprintable() else "?")
            continue
        # NFKD folds full-width forms and splits accents from their letters.
        folded = "".join(
            c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c)
        )
        out.append(folded if folded and folded.isascii() and folded.isprintable() else "?")
    return "".join(out)


def encode_cells(text: str, cjk: bool) -> list[bytes]:
    """One entry per display column group: a 1-byte ASCII char or a 2-byte GB char.

    Without ``cjk`` everything is transliterated to ASCII. With ``cjk`` a Chinese
    character is its 2-byte GB18030 (= GBK) code and takes two columns; characters that
    need GB18030's 4-byte form are not in a display's font and become '?'.
    """
    if not cjk:
        return [c.encode("ascii") for c in to_ascii(text)]
    cells = []
    for char in text:
        if char.isascii() and char.isprintable():
            cells.append(char.encode("ascii"))
            continue
        encoded = char.encode("gb18030", errors="replace")
        cells.append(encoded if len(encoded) == 2 else b"?")
    return cells


def fit(text: str, cjk: bool = False, align: str = "left", width: int = WIDTH) -> bytes:
    """Exactly ``width`` columns: truncated (never splitting a 2-byte char) and padded."""
    out = b""
    for cell in encode_cells(text, cjk):
        if len(out) + len(cell) > width:
            break
        out += cell
    pad = b" " * (width - len(out))
    if align == "right":
        return pad + out
    if align == "center":
        half = len(pad) // 2
        return pad[:half] + out + pad[half:]
    return out + pad


def label_amount(label: str, fen: int, cjk: bool = False, width: int = WIDTH) -> bytes:
    """'TOTAL' on the left, the amount on the right, exactly ``width`` columns."""
    amount = format_fen(fen).encode("ascii")[:width]
    return fit(label, cjk, width=width - len(amount)) + amount

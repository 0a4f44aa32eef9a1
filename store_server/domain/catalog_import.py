"""Validate a product file before anything is written.

Every row is checked and every fault reported (row, column, reason), so the
clerk fixes the file once; a file with any bad row imports nothing.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from store_server.domain.barcodes import is_gtin, validate_gtin
from store_server.domain.errors import InvalidArgument
from store_server.domain.money import parse_yuan

REQUIRED_COLUMNS = ("sku", "name", "category", "unit", "tax_rate", "retail_price")
OPTIONAL_COLUMNS = (
    "weighed",
    "plu",
    "member_price",
    "cost",
    "barcode",
    "case_barcode",
    "case_pack",
    "case_price",
    "pinyin",
    "status",
)
TAX_RATES_PERCENT = (0, 1, 3, 5, 6, 9, 13)
_SKU_RE = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
_PLU_RE = re.compile(r"^[0-9]{1,5}$")


@dataclass(frozen=True, slots=True)
class RowError:
    row: int  # 1-based line number in the file, the header being line 1
    column: str
    reason: str

    def __str__(self) -> str:
        return f"row {self.row}, column {self.column}: {self.reason}"


@dataclass(frozen=True, slots=True)
class ProductDraft:
    row: int
    sku: str
    name: str
    category: str
    unit: str
    weighed: bool
    plu: str | None
    tax_rate_bp: int
    retail_price_fen: int
    member_price_fen: int | None
    cost_fen: int | None
    status: str
    pinyin: str | None
    barcodes: tuple[tuple[str, int, int | None], ...]  # (code, pack factor, pack price)


def check_header(columns: Iterable[str]) -> list[RowError]:
    present = set(columns)
    errors = [
        RowError(1, c, "required column is missing") for c in REQUIRED_COLUMNS if c not in present
    ]
    known = set(REQUIRED_COLUMNS) | set(OPTIONAL_COLUMNS)
    errors += [RowError(1, c, "unknown column") for c in present if c not in known]
    return errors


def parse_rows(
    rows: Iterable[Mapping[str, str | None]],
) -> tuple[list[ProductDraft], list[RowError]]:
    """Parse and cross-check every row (uniqueness of SKU, PLU and barcodes in the file)."""
    drafts: list[ProductDraft] = []
    errors: list[RowError] = []
    seen_sku: dict[str, int] = {}
    seen_plu: dict[str, int] = {}
    seen_code: dict[str, int] = {}
    for index, raw in enumerate(rows, start=2):
        row_errors: list[RowError] = []
        draft = _parse_row(index, {k: (v or "").strip() for k, v in raw.items() if k}, row_errors)
        if draft is not None:
            for key, seen, column in ((draft.sku, seen_sku, "sku"), (draft.plu, seen_plu, "plu")):
                if key is None:
                    continue
                if key in seen:
                    row_errors.append(RowError(index, column, f"{key} repeats row {seen[key]}"))
                seen[key] = index
            for code, pack, _ in draft.barcodes:
                column = "barcode" if pack == 1 else "case_barcode"
                if code in seen_code:
                    row_errors.append(
                        RowError(index, column, f"{code} repeats row {seen_code[code]}")
                    )
                seen_code[code] = index
        if row_errors:
            errors += row_errors
        elif draft is not None:
            drafts.append(draft)
    return drafts, errors


def _parse_row(row: int, r: dict[str, str], errors: list[RowError]) -> ProductDraft | None:
    def fail(column: str, reason: str) -> None:
        errors.append(RowError(row, column, reason))

    def money(column: str, *, required: bool) -> int | None:
        text = r.get(column, "")
        if not text:
            if required:
                fail(column, "is required")
            return None
        try:
            return parse_yuan(text, field=column)
        except InvalidArgument:
            fail(column, f"{text!r} is not an amount in yuan like 3.50")
            return None

    sku = r.get("sku", "")
    if not _SKU_RE.match(sku):
        fail("sku", "1-32 letters, digits, - or _")
    name = r.get("name", "")
    if not name or len(name) > 60 or not name.isprintable():
        fail("name", "1-60 printable characters")
    category = r.get("category", "")
    if not category or len(category) > 60:
        fail("category", "1-60 characters")
    unit = r.get("unit", "")
    if not unit or len(unit) > 16:
        fail("unit", "1-16 characters")
    weighed_text = r.get("weighed", "") or "0"
    if weighed_text not in ("0", "1"):
        fail("weighed", "0 or 1")
    weighed = weighed_text == "1"
    plu = r.get("plu", "") or None
    if plu is not None and not _PLU_RE.match(plu):
        fail("plu", "1-5 digits")
    if weighed and plu is None:
        fail("plu", "a weighed product needs a PLU for the scale")
    tax_text = r.get("tax_rate", "")
    tax_bp = 0
    if not (tax_text.isascii() and tax_text.isdigit()) or int(tax_text) not in TAX_RATES_PERCENT:
        fail("tax_rate", f"one of {', '.join(map(str, TAX_RATES_PERCENT))} (percent)")
    else:
        tax_bp = int(tax_text) * 100
    retail = money("retail_price", required=True)
    if retail == 0:
        fail("retail_price", "must be more than 0")
    member = money("member_price", required=False)
    if member is not None and retail is not None and member > retail:
        fail("member_price", "is above the retail price")
    cost = money("cost", required=False)
    status = r.get("status", "") or "active"
    if status not in ("active", "inactive"):
        fail("status", "active or inactive")

    barcodes: list[tuple[str, int, int | None]] = []
    for code in filter(None, (c.strip() for c in r.get("barcode", "").split(";"))):
        if _check_code("barcode", code, fail):
            barcodes.append((code, 1, None))
    case_code = r.get("case_barcode", "")
    if case_code:
        pack_text = r.get("case_pack", "")
        if not (pack_text.isascii() and pack_text.isdigit()) or not 2 <= int(pack_text) <= 999:
            fail("case_pack", "a whole number from 2 to 999")
        case_price = money("case_price", required=False)
        if _check_code("case_barcode", case_code, fail) and pack_text.isdigit():
            barcodes.append((case_code, int(pack_text), case_price))
    elif r.get("case_pack") or r.get("case_price"):
        fail("case_barcode", "case_pack or case_price given without a case barcode")
    if weighed and barcodes:
        fail("barcode", "a weighed product is scanned by its scale label, not a barcode")

    if errors:  # this row's own list: any fault means no draft
        return None
    assert retail is not None
    return ProductDraft(
        row=row,
        sku=sku,
        name=name,
        category=category,
        unit=unit,
        weighed=weighed,
        plu=plu,
        tax_rate_bp=tax_bp,
        retail_price_fen=retail,
        member_price_fen=member,
        cost_fen=cost,
        status=status,
        pinyin=(r.get("pinyin") or None),
        barcodes=tuple(barcodes),
    )


def _check_code(column: str, code: str, fail: Callable[[str, str], None]) -> bool:
    if is_gtin(code):
        try:
            validate_gtin(code, field=column)
        except InvalidArgument:
            fail(column, f"bad check digit in {code}")
            return False
        return True
    if len(code) > 48 or not code.isascii() or not code.isprintable() or " " in code:
        fail(column, f"{code!r} is not a barcode")
        return False
    return True  # an internal code the store assigned

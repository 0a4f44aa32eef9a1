"""Generate a realistic, deterministic demo catalog in the store's CSV import format.

Rows are streamed: only the sets that keep names and barcodes unique grow with the catalog,
so 100,000 rows take a few seconds and little memory. All money is integer fen; prices are
formatted as yuan text with integer arithmetic only.

The word lists are sized for catalogs of about 100,000 rows: past ~200,000 the weighed fresh
names run out and further rows are packaged goods; packaged names last to ~700,000.
"""

from __future__ import annotations

import csv
import os
import random
from bisect import bisect_right
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TypeVar

from store_server.demo.catalog_words import CATEGORIES, SERIES, Category, ProductLine
from store_server.domain.barcodes import ean_check_digit
from store_server.domain.money import format_yuan

CSV_COLUMNS: tuple[str, ...] = (
    "sku", "name", "category", "unit", "weighed", "plu", "tax_rate", "retail_price",
    "member_price", "cost", "barcode", "case_barcode", "case_pack", "case_price",
)  # fmt: skip

WEIGHED_PERCENT = 8
MEMBER_PRICE_PERCENT = 20
CASE_PERCENT = 10  # of packaged rows; only single units of case-capable lines qualify
PROGRESS_EVERY = 10_000
# Random retries for a free name or barcode. Retries stay rare while a list is less than
# about half used, so running out of them means that list is practically exhausted.
_MAX_ATTEMPTS = 1_000
_GS1_CHINA = ("690", "691", "692", "693", "694", "695")
_MAX_PLU = 99_999  # scale labels carry a 5-digit PLU


_BLANK_ROW = dict.fromkeys(CSV_COLUMNS, "")


def _row(**values: str) -> dict[str, str]:
    # Missing columns are blank; keys stay in header order for DictWriter and readers.
    row = _BLANK_ROW.copy()
    row.update(values)
    return row


def _fixed_rows() -> list[dict[str, str]]:
    """Well-known first rows that demos and tests refer to by SKU, barcode or PLU."""
    cola, cola_case = "690123456789", "690123456790"
    water, noodles = "690123456791", "690123456792"
    return [
        _row(sku="P000001", name="可口可乐 330ml", category="饮料", unit="罐", weighed="0",
             tax_rate="13", retail_price="3.00", cost="2.10",
             barcode=cola + ean_check_digit(cola),
             case_barcode=cola_case + ean_check_digit(cola_case), case_pack="24",
             case_price="66.00"),
        _row(sku="P000002", name="农夫山泉 饮用天然水 550ml", category="饮料", unit="瓶",
             weighed="0", tax_rate="13", retail_price="2.00", cost="1.40",
             barcode=water + ean_check_digit(water)),
        _row(sku="P000003", name="康师傅 红烧牛肉面 105g", category="方便食品", unit="袋",
             weighed="0", tax_rate="13", retail_price="4.50", cost="3.20",
             barcode=noodles + ean_check_digit(noodles)),
        _row(sku="P000004", name="红富士苹果", category="水果", unit="kg", weighed="1",
             plu="1001", tax_rate="9", retail_price="12.80", cost="9.00"),
        _row(sku="P000005", name="西红柿", category="生鲜蔬菜", unit="kg", weighed="1",
             plu="1002", tax_rate="0", retail_price="5.98", cost="4.20"),
    ]  # fmt: skip


@dataclass(frozen=True, slots=True)
class _Layout:
    """Every packaged combination numbered 0..total-1, so one randrange picks one uniformly.

    Uniform picking fills all lines at the same rate, which keeps retries for unique names
    rare until the lists are nearly used up.
    """

    lines: tuple[tuple[Category, ProductLine], ...]
    starts: tuple[int, ...]  # first combination number of each line
    total: int
    case_capable: int  # combinations that may carry a case barcode
    weighed: tuple[tuple[Category, tuple[str, int, int]], ...]


def _size(line: ProductLine) -> int:
    return len(line.brands) * len(line.kinds) * len(line.variants) * len(line.specs)


def _is_single(spec: tuple[str, int, str]) -> bool:
    return "×" not in spec[0]  # a multipack is itself a case-like bundle


def _build_layout() -> _Layout:
    lines = tuple((cat, line) for cat in CATEGORIES for line in cat.lines)
    starts, total, case_capable = [], 0, 0
    for _, line in lines:
        starts.append(total)
        total += _size(line)
        if line.case_packs:
            singles = sum(1 for spec in line.specs if _is_single(spec))
            case_capable += _size(line) // len(line.specs) * singles
    weighed = tuple((cat, item) for cat in CATEGORIES for item in cat.weighed)
    return _Layout(lines, tuple(starts), total, case_capable, weighed)


_LAYOUT = _build_layout()


_T = TypeVar("_T")


class _Dice:
    """Small random integers carved out of one big getrandbits() pool.

    random.Random.randrange/randint go through several pure-Python calls and a row needs
    about ten draws; one divmod of a 256-bit pool costs about half as much and stays
    integer-only. Refilling before the pool drops under 2**64 keeps the modulo bias far
    below anything visible.
    """

    __slots__ = ("_pool", "_rng")

    def __init__(self, seed: int) -> None:
        self._rng = random.Random(seed)
        self._pool = 0

    def randrange(self, n: int) -> int:
        if self._pool < 1 << 64:
            self._pool = self._rng.getrandbits(256)
        self._pool, value = divmod(self._pool, n)
        return value

    def randint(self, low: int, high: int) -> int:
        return low + self.randrange(high - low + 1)

    def choice(self, items: Sequence[_T]) -> _T:
        return items[self.randrange(len(items))]


def _shelf_price(raw_fen: int, rng: _Dice) -> int:
    """Round to a price a supermarket would print: x.x0 for cheap goods, else x.00/.50/.90/.99."""
    if raw_fen < 1000 and rng.randrange(2):
        return max(10, (raw_fen + 5) // 10 * 10)
    return max(10, raw_fen // 100 * 100 + rng.choice((0, 50, 80, 90, 99)))


def _qualifier(rng: _Dice, words: tuple[str, ...], percent: int, uniform: bool) -> str:
    """One of `words` in `percent` % of draws, else "" (uniform: each choice equally likely)."""
    if uniform:
        index = rng.randrange(len(words) + 1)
        return words[index - 1] if index else ""
    return rng.choice(words) if rng.randrange(100) < percent else ""


class _Generator:
    """Draws rows one at a time, holding only what uniqueness needs: names, barcodes, PLU."""

    def __init__(self, seed: int, taken_names: set[str], taken_barcodes: set[str]) -> None:
        self.seed = seed
        self.rng = _Dice(seed)
        self.names = taken_names
        self.barcodes = taken_barcodes
        self.next_plu = 1003  # after the fixed rows' 1001 and 1002
        self.weighed_full = False
        self.prefixes: dict[tuple[str, int], tuple[int, int]] = {}

    def row(self) -> dict[str, str]:
        if not self.weighed_full and self.rng.randrange(100) < WEIGHED_PERCENT:
            row = self._weighed()
            if row is not None:
                return row
            # Only fresh names run out (~18,000 of them, past ~200,000 rows): keep going
            # with packaged goods rather than fail a big demo catalog.
            self.weighed_full = True
        return self._packaged()

    def _company_prefix(self, brand: str, index: int) -> tuple[int, int]:
        """(first barcode body of the company as an integer, how many item numbers it has).

        A brand keeps the same GS1 company prefix for the whole catalog, like a real
        manufacturer; a brand with many items gets further prefixes as one fills up.
        """
        key = (brand, index)
        if key not in self.prefixes:
            brand_rng = random.Random(f"{self.seed}:{brand}:{index}")
            country = brand_rng.choice(_GS1_CHINA)
            digits = 4 if country in ("690", "691") else 5  # 7- or 8-digit company prefix
            company = int(country) * 10**digits + brand_rng.randrange(10**digits)
            items = 10 ** (9 - digits)
            self.prefixes[key] = (company * items, items)
        return self.prefixes[key]

    def _barcode(self, brand: str) -> str:
        for attempt in range(_MAX_ATTEMPTS):
            first, items = self._company_prefix(brand, attempt // 8)
            body = str(first + self.rng.randrange(items))  # starts 69x, so always 12 digits
            code = body + ean_check_digit(body)
            if code not in self.barcodes:
                self.barcodes.add(code)
                return code
        raise RuntimeError(f"no free barcode left for brand {brand}")

    def _claim(self, name: str) -> bool:
        if name in self.names:
            return False
        self.names.add(name)
        return True

    def _prices(self, retail: int) -> tuple[str, str, str]:
        """(retail, member or "", cost) as yuan text."""
        rng = self.rng
        cost = format_yuan(max(1, retail * rng.randint(60, 85) // 100))
        member = ""
        if rng.randrange(100) < MEMBER_PRICE_PERCENT:
            member_fen = _shelf_price(retail * rng.randint(85, 95) // 100, rng)
            if member_fen >= retail:  # rounding to a shelf ending can overshoot
                member_fen = retail - 10
            if member_fen > 0:
                member = format_yuan(member_fen)
        return format_yuan(retail), member, cost

    def _weighed(self) -> dict[str, str] | None:
        rng = self.rng
        for attempt in range(_MAX_ATTEMPTS):
            category, (item, low, high) = rng.choice(_LAYOUT.weighed)
            # Mostly an origin and sometimes a grade, as on real scale labels; once retries
            # pile up, qualifiers are drawn uniformly so the rarer pairs get used as well.
            uniform = attempt >= 20
            origin = _qualifier(rng, category.origins, 70, uniform)
            grade = _qualifier(rng, category.grades, 40, uniform)
            name = f"{origin}{item} {grade}" if grade else f"{origin}{item}"
            if self._claim(name):
                break
        else:
            return None
        if self.next_plu > _MAX_PLU:
            raise RuntimeError("more weighed items than 5-digit PLUs")
        plu, self.next_plu = self.next_plu, self.next_plu + 1
        retail, member, cost = self._prices(_shelf_price(rng.randint(low, high), rng))
        return _row(
            name=name,
            category=category.name,
            unit="kg",
            weighed="1",
            plu=str(plu),
            tax_rate=str(category.tax_rate),
            retail_price=retail,
            member_price=member,
            cost=cost,
        )

    def _packaged(self) -> dict[str, str]:
        rng, layout = self.rng, _LAYOUT
        for _ in range(_MAX_ATTEMPTS):
            number = rng.randrange(layout.total)
            index = bisect_right(layout.starts, number) - 1
            category, line = layout.lines[index]
            rest, spec_i = divmod(number - layout.starts[index], len(line.specs))
            rest, variant_i = divmod(rest, len(line.variants))
            brand_i, kind_i = divmod(rest, len(line.kinds))
            brand, spec = line.brands[brand_i], line.specs[spec_i]
            name = f"{brand} {line.variants[variant_i]}{line.kinds[kind_i]} {spec[0]}"
            if self._claim(name) or self._claim(name := f"{name} {rng.choice(SERIES)}"):
                break
        else:
            raise RuntimeError("packaged product names exhausted; extend catalog_words")
        low, high = line.price_fen
        retail_fen = _shelf_price(rng.randint(low, high) * spec[1] // 100, rng)
        retail, member, cost = self._prices(retail_fen)
        barcode = self._barcode(brand)
        case_barcode = case_pack = case_price = ""
        # P(case) = total / (case_capable * 10) makes ~CASE_PERCENT of all packaged rows.
        if (
            line.case_packs
            and _is_single(spec)
            and rng.randrange(layout.case_capable * 100) < layout.total * CASE_PERCENT
        ):
            pack = rng.choice(line.case_packs)
            full = pack * retail_fen
            case_fen = min(full * rng.randint(90, 97) // 100 // 10 * 10, full - 10)
            case_barcode, case_pack, case_price = (
                self._barcode(brand), str(pack), format_yuan(case_fen)
            )  # fmt: skip
        return _row(
            name=name,
            category=category.name,
            unit=spec[2],
            weighed="0",
            tax_rate=str(category.tax_rate),
            retail_price=retail,
            member_price=member,
            cost=cost,
            barcode=barcode,
            case_barcode=case_barcode,
            case_pack=case_pack,
            case_price=case_price,
        )


def generate_catalog(count: int, *, seed: int = 2026) -> Iterator[dict[str, str]]:
    """Yield `count` catalog rows (all values strings, keys CSV_COLUMNS), same rows per seed."""
    if count < 0:
        raise ValueError("count must not be negative")
    fixed = _fixed_rows()
    yield from fixed[:count]
    names = {row["name"] for row in fixed}
    barcodes = {row[key] for row in fixed for key in ("barcode", "case_barcode") if row[key]}
    generator = _Generator(seed, names, barcodes)
    for number in range(len(fixed) + 1, count + 1):
        row = generator.row()
        row["sku"] = f"P{number:06d}"
        yield row


def write_catalog_csv(
    path: str | os.PathLike[str],
    count: int,
    *,
    seed: int = 2026,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Write the catalog as UTF-8 CSV with a CSV_COLUMNS header; return the rows written."""
    written = 0
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=CSV_COLUMNS)
        writer.writeheader()
        for row in generate_catalog(count, seed=seed):
            writer.writerow(row)
            written += 1
            if progress is not None and written % PROGRESS_EVERY == 0:
                progress(written, count)
    # The final call reports completion unless the last periodic call already did.
    if progress is not None and (written == 0 or written % PROGRESS_EVERY):
        progress(written, count)
    return written

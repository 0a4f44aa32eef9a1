"""A small hand-written catalog whose every figure the tests can compute by hand."""

from __future__ import annotations

import csv
from pathlib import Path

from store_server.domain.barcodes import ean_check_digit

COLUMNS = (
    "sku",
    "name",
    "category",
    "unit",
    "weighed",
    "plu",
    "tax_rate",
    "retail_price",
    "member_price",
    "cost",
    "barcode",
    "case_barcode",
    "case_pack",
    "case_price",
)


def ean13(body12: str) -> str:
    return body12 + ean_check_digit(body12)


COKE_CAN = ean13("690123456789")
COKE_CASE = ean13("690123456790")
SPRITE_CAN = ean13("690123456801")
WATER = ean13("690100000001")
WATER_EAN8 = "96385074"  # a valid EAN-8
UPC_CHIPS = "036000291452"  # a valid UPC-A
NOODLES = ean13("690200000002")

ROWS = [
    # sku, name, category, unit, weighed, plu, tax, retail, member, cost,
    # barcode, case barcode, case pack, case price
    (
        "P1",
        "可口可乐 330ml",
        "饮料",
        "罐",
        "0",
        "",
        "13",
        "3.00",
        "2.80",
        "2.10",
        COKE_CAN,
        COKE_CASE,
        "24",
        "66.00",
    ),
    ("P2", "雪碧 330ml", "饮料", "罐", "0", "", "13", "3.00", "", "2.00", SPRITE_CAN, "", "", ""),
    (
        "P3",
        "农夫山泉 饮用天然水 550ml",
        "饮料",
        "瓶",
        "0",
        "",
        "13",
        "2.00",
        "",
        "1.20",
        f"{WATER};{WATER_EAN8}",
        "",
        "",
        "",
    ),
    (
        "P4",
        "乐事 原味薯片 70g",
        "休闲零食",
        "袋",
        "0",
        "",
        "13",
        "7.50",
        "6.90",
        "5.00",
        UPC_CHIPS,
        "",
        "",
        "",
    ),
    (
        "P5",
        "康师傅 红烧牛肉面 105g",
        "方便食品",
        "袋",
        "0",
        "",
        "13",
        "4.50",
        "",
        "3.10",
        NOODLES,
        "",
        "",
        "",
    ),
    ("P6", "红富士苹果", "水果", "kg", "1", "1001", "9", "12.80", "", "8.00", "", "", "", ""),
    ("P7", "西红柿", "生鲜蔬菜", "kg", "1", "1002", "9", "5.98", "", "3.50", "", "", "", ""),
    (
        "P8",
        "可口可乐 零度 500ml",
        "饮料",
        "瓶",
        "0",
        "",
        "13",
        "3.50",
        "",
        "2.40",
        ean13("690123456812"),
        "",
        "",
        "",
    ),
]


def write_csv(
    path: Path, rows: list[tuple[str, ...]] | None = None, columns: tuple[str, ...] = COLUMNS
) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(columns)
        writer.writerows(ROWS if rows is None else rows)
    return path

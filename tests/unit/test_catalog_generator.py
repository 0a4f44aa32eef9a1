"""The demo catalog generator: realistic, deterministic, unique and importable rows."""

from __future__ import annotations

import csv
import os
import re
import subprocess
import sys
from collections.abc import Iterable
from itertools import islice
from pathlib import Path

import pytest
from stdnum import ean

from store_server.demo.catalog_generator import CSV_COLUMNS, generate_catalog, write_catalog_csv

_YUAN = re.compile(r"^(\d+)\.(\d{2})$")
_CJK = re.compile(r"[\u4e00-\u9fff]")


def fen(text: str) -> int:
    match = _YUAN.match(text)
    assert match, f"{text!r} is not yuan with two decimals"
    return int(match[1]) * 100 + int(match[2])


@pytest.fixture(scope="module")
def rows() -> list[dict[str, str]]:
    return list(generate_catalog(5_000))


def test_yields_exactly_count_rows() -> None:
    for count in (0, 1, 5, 6, 1_234):
        assert sum(1 for _ in generate_catalog(count)) == count


def test_rows_have_exactly_the_csv_columns(rows: list[dict[str, str]]) -> None:
    assert CSV_COLUMNS[0] == "sku"
    for row in rows:
        assert tuple(row) == CSV_COLUMNS
        assert all(isinstance(value, str) for value in row.values())


def test_same_seed_same_rows_other_seed_other_rows() -> None:
    first = list(generate_catalog(500, seed=7))
    assert first == list(generate_catalog(500, seed=7))
    other = list(generate_catalog(500, seed=8))
    assert first[:5] == other[:5]  # the fixed rows never change
    assert first[5:] != other[5:]


def test_rows_do_not_depend_on_string_hashing() -> None:
    # Hash randomisation changes set order per process; the catalog must not notice.
    script = (
        "import hashlib, json\n"
        "from store_server.demo.catalog_generator import generate_catalog\n"
        "rows = json.dumps(list(generate_catalog(300, seed=11)), ensure_ascii=False)\n"
        "print(hashlib.sha256(rows.encode()).hexdigest())\n"
    )
    digests = {
        subprocess.run(
            [sys.executable, "-c", script],
            env={**os.environ, "PYTHONHASHSEED": hash_seed},
            cwd=Path(__file__).resolve().parents[2],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for hash_seed in ("1", "2")
    }
    assert len(digests) == 1


def test_fixed_first_rows() -> None:
    cola, water, noodles, apple, tomato = islice(generate_catalog(5), 5)
    expected_cola = {
        "sku": "P000001", "name": "可口可乐 330ml", "category": "饮料", "unit": "罐",
        "weighed": "0", "plu": "", "retail_price": "3.00", "barcode": "6901234567892",
        "case_barcode": "6901234567908", "case_pack": "24", "case_price": "66.00",
    }  # fmt: skip
    assert {key: cola[key] for key in expected_cola} == expected_cola
    assert (water["sku"], water["name"], water["retail_price"], water["category"]) == (
        "P000002", "农夫山泉 饮用天然水 550ml", "2.00", "饮料"
    )  # fmt: skip
    assert (noodles["sku"], noodles["name"], noodles["retail_price"]) == (
        "P000003", "康师傅 红烧牛肉面 105g", "4.50"
    )  # fmt: skip
    for row, sku, name, plu, price in (
        (apple, "P000004", "红富士苹果", "1001", "12.80"),
        (tomato, "P000005", "西红柿", "1002", "5.98"),
    ):
        assert (row["sku"], row["name"], row["plu"], row["retail_price"]) == (sku, name, plu, price)
        assert (row["weighed"], row["unit"], row["barcode"]) == ("1", "kg", "")
    for row in (cola, water, noodles):
        assert ean.is_valid(row["barcode"])
    assert ean.is_valid(cola["case_barcode"])


def test_sku_name_barcode_and_plu_are_unique(rows: list[dict[str, str]]) -> None:
    check_uniqueness(rows)


def check_uniqueness(rows: Iterable[dict[str, str]]) -> int:
    skus: set[str] = set()
    names: set[str] = set()
    codes: set[str] = set()
    plus: set[str] = set()
    count = 0
    for row in rows:
        count += 1
        assert row["sku"] not in skus, row
        skus.add(row["sku"])
        assert row["name"] not in names, row
        names.add(row["name"])
        if row["plu"]:
            assert row["plu"] not in plus, row
            plus.add(row["plu"])
        for code in filter(None, (row["barcode"], row["case_barcode"])):
            assert code not in codes, row
            codes.add(code)
    return count


def test_barcodes_are_valid_chinese_ean13(rows: list[dict[str, str]]) -> None:
    for row in rows:
        for code in filter(None, (row["barcode"], row["case_barcode"])):
            assert len(code) == 13 and code.isdigit(), row
            assert "690" <= code[:3] <= "695", row
            assert ean.is_valid(code), row


def test_names_are_chinese_and_fit_the_import_limit(rows: list[dict[str, str]]) -> None:
    for row in rows:
        assert _CJK.search(row["name"]), row
        assert len(row["name"]) <= 60, row
        assert row["name"] == row["name"].strip()


def test_many_categories_appear() -> None:
    categories = {row["category"] for row in generate_catalog(2_000)}
    assert len(categories) >= 12
    assert all(_CJK.search(category) for category in categories)


def test_weighed_rows_are_sold_per_kg_by_plu(rows: list[dict[str, str]]) -> None:
    weighed = [row for row in rows if row["weighed"] == "1"]
    assert 0.05 < len(weighed) / len(rows) < 0.11  # about 8 %
    for row in weighed:
        assert row["unit"] == "kg"
        assert re.fullmatch(r"[0-9]{1,5}", row["plu"]), row
        assert row["barcode"] == row["case_barcode"] == row["case_pack"] == ""
    for row in rows:
        assert row["weighed"] in ("0", "1")
        if row["weighed"] == "0":
            assert row["plu"] == "" and row["barcode"] and row["unit"] != "kg", row


def test_prices_are_yuan_with_two_decimals(rows: list[dict[str, str]]) -> None:
    members = 0
    for row in rows:
        retail = fen(row["retail_price"])
        assert retail > 0
        cost = fen(row["cost"])
        assert retail * 60 // 100 - 1 <= cost <= retail * 85 // 100, row
        assert row["tax_rate"] in ("0", "9", "13")
        if row["member_price"]:
            members += 1
            assert 0 < fen(row["member_price"]) < retail, row
    assert 0.15 < members / len(rows) < 0.25  # about 20 %


def test_prices_end_like_shelf_prices(rows: list[dict[str, str]]) -> None:
    endings = [fen(row["retail_price"]) % 100 for row in rows[5:]]
    ordinary = sum(1 for cents in endings if cents % 10 == 0 or cents == 99)
    assert ordinary == len(endings)


def test_case_rows(rows: list[dict[str, str]]) -> None:
    packaged = [row for row in rows if row["weighed"] == "0"]
    cases = [row for row in packaged if row["case_barcode"]]
    assert 0.06 < len(cases) / len(packaged) < 0.14  # about 10 %
    for row in cases:
        pack = int(row["case_pack"])
        assert pack in (6, 12, 24), row
        assert 0 < fen(row["case_price"]) < pack * fen(row["retail_price"]), row
        assert row["case_barcode"] != row["barcode"]
    for row in packaged:
        if not row["case_barcode"]:
            assert row["case_pack"] == row["case_price"] == "", row


def test_write_catalog_csv_round_trips(tmp_path: Path) -> None:
    path = tmp_path / "catalog.csv"
    calls: list[tuple[int, int]] = []
    written = write_catalog_csv(path, 10_001, seed=3, progress=lambda d, t: calls.append((d, t)))
    assert written == 10_001
    assert calls == [(10_000, 10_001), (10_001, 10_001)]
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        assert tuple(reader.fieldnames or ()) == CSV_COLUMNS
        assert list(reader) == list(generate_catalog(10_001, seed=3))


def test_write_catalog_csv_reports_progress_once_per_step(tmp_path: Path) -> None:
    calls: list[tuple[int, int]] = []

    def progress(done: int, total: int) -> None:
        calls.append((done, total))

    assert write_catalog_csv(tmp_path / "full.csv", 10_000, progress=progress) == 10_000
    assert calls == [(10_000, 10_000)]  # the final report is not repeated
    calls.clear()
    assert write_catalog_csv(tmp_path / "empty.csv", 0, progress=progress) == 0
    assert calls == [(0, 0)]
    assert (tmp_path / "empty.csv").read_text(encoding="utf-8") == ",".join(CSV_COLUMNS) + "\n"


def test_negative_count_is_rejected() -> None:
    with pytest.raises(ValueError):
        list(generate_catalog(-1))


@pytest.mark.slow
def test_hundred_thousand_rows_are_unique() -> None:
    # Its speed is measured by `make bench` (the 100k-SKU store), not asserted here.
    assert check_uniqueness(generate_catalog(100_000)) == 100_000

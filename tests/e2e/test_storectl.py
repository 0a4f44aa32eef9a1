"""storectl as an operator runs it, on a real SQLite file.

Most cases call storectl's main() in this process (a second each saved on
interpreter start-up); the first runs the installed console script.
"""

from __future__ import annotations

import contextlib
import io
import os
import sqlite3
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from unittest import mock

import pytest

from store_server.cli.main import main
from store_server.db import migrate
from tests.support import catalog_fixture as cf


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str


def storectl(db: Path, *args: str) -> Result:
    out, err = io.StringIO(), io.StringIO()
    with (
        mock.patch.dict(os.environ, {"TILLPOINT_DATABASE": str(db)}),
        contextlib.redirect_stdout(out),
        contextlib.redirect_stderr(err),
    ):
        code = main(list(args))
    return Result(code, out.getvalue(), err.getvalue())


def test_installed_console_script(tmp_path: Path) -> None:
    script = Path(sys.executable).with_name("storectl")
    env = {**os.environ, "TILLPOINT_DATABASE": str(tmp_path / "s.db")}
    done = subprocess.run(
        [str(script), "init"], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert f"at schema {migrate.head_revision()}" in done.stdout
    bad = subprocess.run(
        [str(script), "import-products", str(tmp_path / "missing.csv")],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert bad.returncode == 1
    assert "cannot read the file: No such file or directory" in bad.stderr


def count(db: Path, table: str) -> int:
    with sqlite3.connect(db) as conn:
        return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "store.db"
    assert storectl(path, "init").returncode == 0
    return path


def test_good_file_imports_every_row(db: Path, tmp_path: Path) -> None:
    result = storectl(db, "import-products", str(cf.write_csv(tmp_path / "good.csv")))
    assert result.returncode == 0, result.stderr
    assert "imported 8 rows (8 new, 0 updated)" in result.stdout
    assert "writing: 8/8" in result.stderr  # progress is shown
    assert count(db, "products") == 8
    assert count(db, "barcodes") == 8  # P1 a can and a case, P3 two unit codes, none weighed
    with sqlite3.connect(db) as conn:
        row = conn.execute(
            "SELECT pinyin, retail_price_fen, member_price_fen FROM products WHERE sku = 'P1'"
        ).fetchone()
    assert row == ("KKKL330ML", 300, 280)
    # Importing the same file again updates, never duplicates.
    again = storectl(db, "import-products", str(tmp_path / "good.csv"))
    assert "(0 new, 8 updated)" in again.stdout
    assert count(db, "products") == 8 and count(db, "barcodes") == 8


def test_one_bad_row_imports_nothing_and_names_row_column_and_reason(
    db: Path, tmp_path: Path
) -> None:
    rows = list(cf.ROWS)
    bad = list(rows[4])
    bad[10] = cf.NOODLES[:-1] + str((int(cf.NOODLES[-1]) + 1) % 10)  # wrong check digit
    rows[4] = tuple(bad)
    other = list(rows[6])
    other[7] = "5,98"  # a comma instead of a point
    rows[6] = tuple(other)
    result = storectl(db, "import-products", str(cf.write_csv(tmp_path / "bad.csv", rows)))
    assert result.returncode == 1
    assert "2 problem(s); nothing was imported" in result.stderr
    assert "row 6, column barcode: bad check digit" in result.stderr
    assert "row 8, column retail_price: '5,98' is not an amount" in result.stderr
    assert count(db, "products") == 0 and count(db, "categories") == 0


def test_duplicates_and_missing_columns_are_reported(db: Path, tmp_path: Path) -> None:
    rows = [
        *cf.ROWS,
        ("P9", "雪碧 复制", "饮料", "罐", "0", "", "13", "3.00", "", "", cf.SPRITE_CAN, "", "", ""),
    ]
    result = storectl(db, "import-products", str(cf.write_csv(tmp_path / "dup.csv", rows)))
    assert "row 10, column barcode: " + cf.SPRITE_CAN + " repeats row 3" in result.stderr
    missing = cf.write_csv(tmp_path / "cols.csv", [r[:7] for r in cf.ROWS], cf.COLUMNS[:7])
    result = storectl(db, "import-products", str(missing))
    assert "row 1, column retail_price: required column is missing" in result.stderr
    assert count(db, "products") == 0


def test_barcode_owned_by_another_product_in_the_database(db: Path, tmp_path: Path) -> None:
    assert storectl(db, "import-products", str(cf.write_csv(tmp_path / "a.csv"))).returncode == 0
    steal = [
        ("P99", "假可乐", "饮料", "罐", "0", "", "13", "1.00", "", "", cf.COKE_CAN, "", "", "")
    ]
    result = storectl(db, "import-products", str(cf.write_csv(tmp_path / "b.csv", steal)))
    assert result.returncode == 1
    assert f"row 2, column barcode: {cf.COKE_CAN} already belongs to P1" in result.stderr


def test_audit_chain_verifies_then_names_the_row_changed_by_hand(db: Path, tmp_path: Path) -> None:
    storectl(db, "import-products", str(cf.write_csv(tmp_path / "good.csv")))
    for oid, role in (("2001", "cashier"), ("2002", "supervisor"), ("2003", "admin")):
        result = storectl(
            db, "add-operator", "--id", oid, "--name", "测试", "--role", role, "--pin", "1234"
        )
        assert result.returncode == 0, result.stderr
    ok = storectl(db, "audit", "verify")
    assert ok.returncode == 0 and "audit log intact: 4 rows verified" in ok.stdout
    shown = storectl(db, "audit", "show").stdout
    assert "operator.upsert" in shown and "1234" not in shown  # no PIN in the audit log
    with sqlite3.connect(db) as conn:
        conn.execute('UPDATE audit_log SET detail = \'{"role":"cashier"}\' WHERE seq = 4')
    bad = storectl(db, "audit", "verify")
    assert bad.returncode == 1
    assert "audit log TAMPERED: row 4 its contents were changed (3 rows before it" in bad.stdout


def test_operator_pin_is_stored_hashed(db: Path) -> None:
    storectl(
        db, "add-operator", "--id", "2001", "--name", "测试", "--role", "cashier", "--pin", "8642"
    )
    with sqlite3.connect(db) as conn:
        (pin_hash,) = conn.execute("SELECT pin_hash FROM operators").fetchone()
    assert "8642" not in pin_hash and pin_hash.startswith("scrypt$")
    bad = storectl(
        db, "add-operator", "--id", "2002", "--name", "x", "--role", "king", "--pin", "1234"
    )
    assert bad.returncode == 1 and "role" in bad.stderr


def test_currency_rates(db: Path) -> None:
    done = storectl(db, "currency", "set", "usd", "7.1234", "--name", "美元")
    assert done.returncode == 0, done.stderr
    assert "7123400" in storectl(db, "currency", "list").stdout
    bad = storectl(db, "currency", "set", "USD", "7,12")
    assert bad.returncode == 1 and "rate" in bad.stderr
    assert storectl(db, "audit", "verify").returncode == 0


def test_promotions_create_list_end(db: Path, tmp_path: Path) -> None:
    import json

    file = tmp_path / "promos.json"
    file.write_text(
        json.dumps(
            [
                {
                    "promo_id": "half",
                    "name": "第二件半价",
                    "rule": {"type": "nth_percent", "nth": 2, "percent_bp": 5000},
                },
                {
                    "promo_id": "mj",
                    "name": "满100减10",
                    "group": "满减",
                    "rule": {"type": "threshold", "threshold_fen": 10000, "discount_fen": 1000},
                },
            ],
            ensure_ascii=False,
        ),
        encoding="utf-8",
    )
    done = storectl(db, "promotion", "create", str(file))
    assert done.returncode == 0, done.stderr
    listed = storectl(db, "promotion", "list").stdout
    assert "第二件半价" in listed and "满100减10" in listed
    assert storectl(db, "promotion", "end", "half").stdout.strip() == "promotion half ended"
    assert "第二件半价" not in storectl(db, "promotion", "list").stdout
    assert "ended" in storectl(db, "promotion", "list", "--all").stdout
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"promo_id": "b", "name": "b", "rule": {"type": "nope"}}))
    failed = storectl(db, "promotion", "create", str(bad))
    assert failed.returncode == 1 and "rule.type" in failed.stderr
    assert storectl(db, "audit", "verify").returncode == 0

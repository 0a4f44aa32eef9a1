"""storectl stock and stocktake, as the stock office runs them."""

from __future__ import annotations

import contextlib
import io
import os
import re
import shutil
from datetime import UTC, datetime
from pathlib import Path
from unittest import mock

from store_server.cli.main import main
from store_server.db import fast, stock_repo
from store_server.db.database import Database
from store_server.db.unit_of_work import Actor, unit_of_work
from store_server.stock import counts
from tests.support import catalog_fixture as cf
from tests.support.handheld import new_id


def storectl(db: Path, *args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with (
        mock.patch.dict(os.environ, {"TILLPOINT_DATABASE": str(db)}),
        contextlib.redirect_stdout(out),
        contextlib.redirect_stderr(err),
    ):
        code = main(list(args))
    return code, out.getvalue(), err.getvalue()


def test_receive_count_report_and_post_from_storectl(template_db: Path, tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    shutil.copy(template_db, path)
    assert storectl(path, "stock", "supplier", "SUP1", "太古可口可乐", "--lead-days", "3")[0] == 0
    note = tmp_path / "dn-0042.csv"
    note.write_text(
        f"code,quantity,cost\n{cf.COKE_CASE},2,50.40\n{cf.WATER},12,1.20\n", encoding="utf-8"
    )
    code, out, _ = storectl(
        path, "stock", "receive", str(note), "--supplier", "SUP1", "--reference", "DN-0042"
    )
    assert code == 0 and "60 units received" in out  # 2 cases of 24 and 12 bottles
    assert (
        storectl(
            path, "stock", "receive", str(note), "--supplier", "SUP1", "--reference", "DN-0042"
        )[0]
        == 0
    )  # the same note again: received once
    bad = tmp_path / "bad.csv"
    bad.write_text("code,quantity\n6900000000000,1\n", encoding="utf-8")
    code, _, err = storectl(path, "stock", "receive", str(bad), "--supplier", "SUP1")
    assert code == 1 and "unknown barcode 6900000000000" in err

    assert (
        storectl(
            path,
            "stock",
            "rule",
            "P1",
            "--supplier",
            "SUP1",
            "--min",
            "60",
            "--max",
            "100",
            "--pack",
            "24",
        )[0]
        == 0
    )
    code, out, _ = storectl(path, "stock", "low")
    assert "P1" in out and "1 product(s) below" in out  # 48 < 60
    code, out, _ = storectl(path, "stock", "suggest")
    # Nothing sold yet: 48 <= 60, up to 100 is 52 -> 3 cases of 24.
    assert "order       72" in out and "1 draft order(s)" in out
    assert storectl(path, "stock", "rule", "NOPE", "--min", "1", "--max", "2")[0] == 1
    code, out, _ = storectl(path, "stocktake", "open", "饮料盘点", "--category", "饮料")
    assert code == 0
    session_id = re.search(r"stocktake (\S+) open", out).group(1)  # type: ignore[union-attr]
    db = Database(path)
    with db.read() as conn:
        coke, water = (
            fast.execute(conn, "SELECT product_id FROM barcodes WHERE code = ?", (c,))[0][0]
            for c in (cf.COKE_CAN, cf.WATER)
        )
    with unit_of_work(db, Actor("2001", "hh-01"), datetime.now(UTC)) as uow:
        result = counts.ingest(
            uow,
            session_id,
            [
                counts.CountIn(new_id(), "A1", coke, "", 47_000),
                counts.CountIn(new_id(), "A2", water, "", 12_000),
            ],
            device_id="hh-01",
            operator_id="2001",
        )
    assert result.accepted == 2
    db.dispose()
    code, out, _ = storectl(path, "stocktake", "list")
    assert session_id in out and "open" in out
    assert storectl(path, "stocktake", "close", session_id)[0] == 0
    code, out, _ = storectl(path, "stocktake", "report", session_id, "--nonzero")
    assert "差异      -1" in out and "-2.10" in out and cf.WATER not in out
    code, out, err = storectl(path, "stocktake", "post", session_id)
    assert code == 0, err
    assert "1 adjusted" in out and "posting" in err and "2/2" in err  # the progress bar
    assert storectl(path, "stock", "check")[0] == 0
    db = Database(path)
    with db.read() as conn:
        assert stock_repo.on_hand(conn, coke) == 47_000
        assert stock_repo.on_hand(conn, water) == 12_000
    db.dispose()

"""storectl report: tables on stdout, progress on stderr, CSV, Excel and PNG files."""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import load_workbook

from store_server.cli.main import main
from tests.reports.conftest import History


def test_storectl_report_writes_every_format(
    history: History,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("TILLPOINT_DATABASE", str(history.db.path))
    code = main(
        [
            "report",
            "summary",
            "tender",
            "--from",
            "2026-10-01",
            "--to",
            "2026-10-14",
            "--period",
            "week",
            "--csv",
            str(tmp_path / "csv"),
            "--xlsx",
            str(tmp_path / "r.xlsx"),
            "--charts",
            str(tmp_path / "png"),
        ]
    )
    out, err = capsys.readouterr()
    assert code == 0
    assert "== 销售汇总 (周) 2026-10-01 至 2026-10-14" in out and "2026-W41" in out
    total = sum(s.total_fen for s in history.now.sales)
    assert f"{total // 100}.{total % 100:02d}" in out
    assert "[########################] 2/2" in err  # the progress bar reached the end
    assert load_workbook(tmp_path / "r.xlsx").sheetnames == ["sales_week", "tender"]
    assert sorted(p.name for p in (tmp_path / "png").iterdir()) == ["sales_week.png", "tender.png"]
    assert (tmp_path / "csv" / "tender.csv").read_text(encoding="utf-8-sig").startswith("支付方式")


def test_storectl_report_month_and_other_store(
    history: History, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TILLPOINT_DATABASE", str(history.db.path))
    assert main(["report", "summary", "--month", "2026-10", "--period", "month", "--quiet"]) == 0
    out, err = capsys.readouterr()
    assert "2026-10 " in out and err == ""
    assert main(["report", "summary", "--store", "S02"]) == 1
    assert "S01 only" in capsys.readouterr().err
    assert main(["report", "--list"]) == 0
    assert "members" in capsys.readouterr().out

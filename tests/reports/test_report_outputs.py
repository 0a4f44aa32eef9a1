"""Renderers: terminal tables, CSV, the Excel workbook and PNG charts with Chinese labels."""

from __future__ import annotations

import csv
import warnings
from decimal import Decimal
from pathlib import Path

import pytest
from matplotlib import font_manager
from openpyxl import load_workbook
from PIL import Image

from store_server.config import Config
from store_server.reports import catalog
from store_server.reports.charts import cjk_font, missing_glyphs, render, write_charts
from store_server.reports.excel import PERCENT_FORMAT, YUAN_FORMAT, write_workbook
from store_server.reports.output import display_width, to_text, write_csv
from store_server.reports.table import Chart, Column, Kind, Table, format_cell
from tests.reports.conftest import History, run


@pytest.fixture(scope="module")
def tables(history: History) -> list:
    with history.db.read() as conn:
        return catalog.run(conn, Config(), catalog.DEFAULT_SET, history.scope)


def test_cells_read_as_yuan_units_and_percentages() -> None:
    assert format_cell(123456, Kind.MONEY) == "1234.56"
    assert format_cell(-5, Kind.MONEY) == "-0.05"
    assert format_cell(1500, Kind.QTY) == "1.5" and format_cell(24_000, Kind.QTY) == "24"
    assert format_cell(1234, Kind.BP) == "12.34%" and format_cell(-50, Kind.BP) == "-0.50%"
    assert format_cell(None, Kind.DAYS) == "∞" and format_cell(None, Kind.BP) == ""


def test_terminal_table_lines_up_chinese(tables: list) -> None:
    tender = next(t for t in tables if t.name == "tender")
    text = to_text(tender)
    lines = text.splitlines()
    assert lines[0] == "== 支付方式"
    widths = {display_width(line) for line in lines[1:]}
    assert len(widths) == 1  # every row as wide as the header, 中文 counting double
    assert "现金" in text


def test_csv_holds_the_same_figures(tables: list, tmp_path: Path) -> None:
    paths = write_csv(tables, tmp_path)
    assert {p.name for p in paths} >= {"sales_day.csv", "tender.csv", "stock_value.csv"}
    tender = next(t for t in tables if t.name == "tender")
    with (tmp_path / "tender.csv").open(encoding="utf-8-sig") as fh:
        read = list(csv.reader(fh))
    assert read[0] == [c.title for c in tender.columns]
    applied = tender.column("applied_fen")
    assert [Decimal(r[3]) * 100 for r in read[1:]] == applied


def test_excel_workbook_has_a_sheet_per_table_with_numbers(tables: list, tmp_path: Path) -> None:
    path = write_workbook(tables, tmp_path / "report.xlsx")
    wb = load_workbook(path)
    assert wb.sheetnames == [t.name for t in tables]
    for table in tables:
        ws = wb[table.name]
        assert ws["A1"].value == table.title
        assert [c.value for c in ws[2]] == [c.title for c in table.columns]
        for r, row in enumerate(table.rows, start=3):
            for i, (value, col) in enumerate(zip(row, table.columns, strict=True), start=1):
                cell = ws.cell(row=r, column=i)
                if value is None:
                    continue
                if col.kind is Kind.MONEY:
                    assert isinstance(cell.value, int | float) and cell.number_format == YUAN_FORMAT
                    assert round(Decimal(str(cell.value)) * 100) == value
                elif col.kind is Kind.BP:
                    assert cell.number_format == PERCENT_FORMAT
                    assert round(Decimal(str(cell.value)) * 10_000) == value
                elif col.kind is Kind.QTY:
                    assert round(Decimal(str(cell.value)) * 1000) == value
                elif col.kind is Kind.COUNT:
                    assert cell.value == value
                else:
                    assert cell.value == value
    day = wb["sales_day"]
    total = [c.value for c in day[day.max_row - (1 if tables[0].notes else 0)]]
    assert total[0] == "合计"


def test_pngs_are_valid_images(tables: list, tmp_path: Path) -> None:
    paths = write_charts(tables, tmp_path)
    names = {p.stem for p in paths}
    assert {"sales_day", "hourly", "basket_sizes", "tender", "category", "best_sellers"} <= names
    for path in paths:
        with Image.open(path) as img:
            img.verify()
        with Image.open(path) as img:
            assert img.format == "PNG" and img.size == (1000, 560)


def test_chinese_labels_use_the_cjk_font_and_have_every_glyph(tables: list) -> None:
    path, family = cjk_font()
    assert "WenQuanYi" in family or "CJK" in family, (path, family)
    tender = next(t for t in tables if t.name == "tender")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # matplotlib warns "Glyph ... missing" for a box
        fig = render(tender)
        fig.canvas.draw()
    texts = [t for t in fig.findobj(lambda o: hasattr(o, "get_text")) if t.get_text().strip()]
    chinese = [t for t in texts if any("\u4e00" <= ch <= "\u9fff" for ch in t.get_text())]
    assert chinese, "the pie chart should carry Chinese labels (现金, 银行卡 ...)"
    for text in chinese:
        used = font_manager.findfont(text.get_fontproperties(), fallback_to_default=False)
        assert Path(used) == Path(path), (text.get_text(), used)
        assert missing_glyphs(text.get_text(), used) == []
    # The check itself works: the default Latin font lacks these glyphs.
    latin = font_manager.findfont(font_manager.FontProperties(family="DejaVu Sans"))
    assert missing_glyphs("支付方式", latin) == list("支付方式") or missing_glyphs(
        "支付方式", latin
    )


def test_a_line_chart_of_a_trend(tmp_path: Path) -> None:
    table = Table(
        "trend",
        "趋势",
        (Column("period", "期间", Kind.TEXT), Column("sales_fen", "销售额", Kind.MONEY)),
        (("2026-10-01", 10_000), ("2026-10-02", 12_550), ("合计", 22_550)),
        chart=Chart("line", "period", ("sales_fen",), "销售额趋势"),
    )
    fig = render(table)
    line = fig.axes[0].get_lines()[0]
    assert list(line.get_ydata()) == [100.0, 125.5]  # the 合计 row is not a point
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == ["2026-10-01", "2026-10-02"]


def test_run_reports_progress(history: History) -> None:
    seen: list[tuple[str, int, int]] = []
    with history.db.read() as conn:
        catalog.run(
            conn, Config(), ["summary", "tender"], history.scope, None, lambda *a: seen.append(a)
        )
    assert seen == [("summary", 0, 2), ("tender", 1, 2), ("done", 2, 2)]


def test_unknown_report_and_bad_options(history: History) -> None:
    from store_server.domain.errors import InvalidArgument

    with pytest.raises(InvalidArgument):
        run(history, "nonsense")
    with pytest.raises(InvalidArgument):
        run(history, "summary", period="year")
    with pytest.raises(InvalidArgument):
        run(history, "products", limit=0)

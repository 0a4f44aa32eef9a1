"""PNG charts with Chinese labels: line for trends, bar for rankings, pie for mixes, histograms.

matplotlib's default font has no Chinese glyphs (every 可口可乐 becomes boxes),
so a CJK font is required: fonts-wqy-zenhei (installed by `make system-deps`)
or Noto CJK, or TILLPOINT_CJK_FONT. Without one the charts are refused rather
than drawn with boxes. The object API is used (no pyplot): thread-safe in the
server. Yuan become floats here only to place bars on a picture.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from functools import cache
from pathlib import Path

from matplotlib import font_manager
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ft2font import FT2Font

from store_server.reports.table import Kind, Table, format_cell

CJK_FONTS = (
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
)
_SCALE = {Kind.MONEY: 100, Kind.QTY: 1000, Kind.BP: 10_000}
TOTAL_LABEL = "合计"


class NoCjkFont(RuntimeError):
    """No font with Chinese glyphs: charts would show boxes."""


@cache
def cjk_font() -> tuple[str, str]:
    """(path, family name) of the CJK font charts use, registered with matplotlib."""
    candidates = [os.environ.get("TILLPOINT_CJK_FONT", ""), *CJK_FONTS]
    for path in candidates:
        if path and Path(path).is_file():
            font_manager.fontManager.addfont(path)
            return path, font_manager.FontProperties(fname=path).get_name()
    raise NoCjkFont(
        "no CJK font for chart labels: install fonts-wqy-zenhei (make system-deps) "
        "or set TILLPOINT_CJK_FONT"
    )


def missing_glyphs(text: str, font_path: str) -> list[str]:
    """Characters of `text` the font cannot draw (they would show as boxes)."""
    font = FT2Font(font_path)
    return [ch for ch in set(text) if not ch.isspace() and font.get_char_index(ord(ch)) == 0]


def _number(value: object, kind: Kind) -> float:
    if not isinstance(value, int):
        return 0.0
    return value / _SCALE.get(kind, 1)


def render(table: Table) -> Figure:
    """The table's chart as a figure (not saved): every text in the CJK font."""
    if table.chart is None:
        raise ValueError(f"{table.name} has no chart")
    path, _family = cjk_font()
    chart = table.chart
    kinds = {c.key: c.kind for c in table.columns}
    titles = {c.key: c.title for c in table.columns}
    rows = [r for r in table.as_dicts() if r.get(chart.x) != TOTAL_LABEL]
    labels = [format_cell(r[chart.x], kinds[chart.x]) for r in rows]
    fig = Figure(figsize=(10, 5.6), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    font = font_manager.FontProperties(fname=path)
    if chart.kind == "line":
        for key in chart.y:
            ax.plot(
                labels, [_number(r[key], kinds[key]) for r in rows], marker="o", label=titles[key]
            )
        ax.legend(prop=font)
        ax.grid(alpha=0.3)
    elif chart.kind == "bar" and kinds[chart.x] is Kind.TEXT:
        # A ranking of names: horizontal bars, the first row on top, names readable.
        key = chart.y[0]
        ax.barh(labels[::-1], [_number(r[key], kinds[key]) for r in rows][::-1], color="#2b7bba")
        ax.set_xlabel(titles[key], fontproperties=font)
    elif chart.kind == "bar":
        key = chart.y[0]
        ax.bar(labels, [_number(r[key], kinds[key]) for r in rows], color="#2b7bba")
        ax.set_ylabel(titles[key], fontproperties=font)
    elif chart.kind == "pie":
        key = chart.y[0]
        values = [_number(r[key], kinds[key]) for r in rows]
        kept = [(lb, v) for lb, v in zip(labels, values, strict=True) if v > 0]
        if kept:
            ax.pie(
                [v for _, v in kept],
                labels=[lb for lb, _ in kept],
                autopct="%1.1f%%",
                textprops={"fontproperties": font},
            )
        ax.axis("equal")
    elif chart.kind == "hist":
        yuan = [v / 100 for v in table.values]
        ax.hist(yuan, bins=min(40, max(5, len(set(yuan)))), color="#e07b39", edgecolor="white")
        ax.set_xlabel("客单价 (元)", fontproperties=font)
        ax.set_ylabel("单数", fontproperties=font)
    else:
        raise ValueError(f"unknown chart kind {chart.kind}")
    ax.set_title(chart.title or table.title, fontproperties=font, fontsize=14)
    for tick in (*ax.get_xticklabels(), *ax.get_yticklabels()):
        tick.set_fontproperties(font)
    if chart.kind == "line" and len(labels) > 8:
        for tick in ax.get_xticklabels():
            tick.set_rotation(45)
            tick.set_horizontalalignment("right")
    fig.tight_layout()
    return fig


def write_charts(
    tables: Sequence[Table],
    directory: Path,
    progress: Callable[[str, int, int], None] | None = None,
) -> list[Path]:
    """One PNG per table that has a chart."""
    directory.mkdir(parents=True, exist_ok=True)
    drawn = [t for t in tables if t.chart is not None]
    paths = []
    for n, table in enumerate(drawn):
        if progress:
            progress(f"chart {table.name}", n, len(drawn))
        path = directory / f"{table.name}.png"
        render(table).savefig(path)
        paths.append(path)
    if progress and drawn:
        progress("charts", len(drawn), len(drawn))
    return paths

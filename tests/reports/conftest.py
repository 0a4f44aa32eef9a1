"""The generated history the report tests share (built once per session)."""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pytest

from store_server.config import Config
from store_server.db.database import Database
from store_server.reports import catalog
from store_server.reports.scope import ReportScope
from store_server.reports.table import Table
from tests.reports.dataset import ZONE, Dataset, generate

FIRST, LAST = date(2026, 10, 1), date(2026, 10, 14)
DAYS = [FIRST + timedelta(days=n) for n in range((LAST - FIRST).days + 1)]


@dataclass
class History:
    db: Database
    now: Dataset
    last_year: Dataset
    scope: ReportScope


@pytest.fixture(scope="session")
def history(tmp_path_factory: pytest.TempPathFactory, template_db: Path) -> Iterator[History]:
    path = tmp_path_factory.mktemp("reports") / "store.db"
    shutil.copy(template_db, path)
    conn = sqlite3.connect(path)
    now = generate(conn, DAYS, sales_per_day=30, lines_per_sale=4, seed=1)
    ly_days = [d.replace(year=2025) for d in DAYS]
    last_year = generate(conn, ly_days, sales_per_day=12, lines_per_sale=3, seed=2, members=0)
    conn.close()
    db = Database(path)
    yield History(db, now, last_year, ReportScope("S01", FIRST, LAST, ZONE, 4))
    db.dispose()


def run(h: History, *kinds: str, **options: object) -> dict[str, Table]:
    opts = catalog.Options(**options)  # type: ignore[arg-type]
    with h.db.read() as conn:
        return {t.name: t for t in catalog.run(conn, Config(), kinds, h.scope, opts)}

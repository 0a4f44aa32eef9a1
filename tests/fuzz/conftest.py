"""The seeded store shared by the fuzz tests, and the table of statuses seen."""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

import pytest

from tests.fuzz.seed import Pools, seed

# rpc label -> status name -> calls; printed at the end of the run.
STATS: dict[str, Counter[str]] = {}


@pytest.fixture(scope="session")
def seeded(template_db: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Pools]:
    return seed(template_db, tmp_path_factory.mktemp("fuzz-seed"))


def status_table() -> str:
    codes = sorted({code for seen in STATS.values() for code in seen}, key=lambda c: (c != "OK", c))
    head = ["rpc", "calls", *codes]
    rows = [
        [label, str(sum(seen.values())), *(str(seen.get(c, 0)) for c in codes)]
        for label, seen in sorted(STATS.items())
    ]
    total = Counter[str]()
    for seen in STATS.values():
        total.update(seen)
    rows.append(["total", str(sum(total.values())), *(str(total.get(c, 0)) for c in codes)])
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not STATS:
        return
    table = status_table()
    terminalreporter.section("fuzz: calls and statuses per RPC")
    terminalreporter.write_line(table)
    if os.environ.get("FUZZ_REPORT"):
        Path(os.environ["FUZZ_REPORT"]).write_text(table + "\n", encoding="utf-8")
